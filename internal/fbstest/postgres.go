package fbstest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// PG is a PostgreSQL server a test started.
type PG struct {
	DSN string
	ctl func(t testing.TB, args ...string)
}

// Restart stops the server (closing every connection) and starts it again.
func (p *PG) Restart(t testing.TB) { p.ctl(t, "-m", "fast", "restart") }

// Postgres starts a PostgreSQL server from Debian's packages in a fresh
// directory, reached over a unix socket there. It runs as the postgres
// user when the test runs as root (initdb refuses root), and is stopped
// when the test ends.
func Postgres(t testing.TB) *PG {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Strings(bins)
	NeedTB(t, len(bins) > 0, "PostgreSQL", "apt-get install postgresql")
	bin := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "fbs-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var wrap []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("PostgreSQL as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		wrap = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(t testing.TB, args ...string) {
		t.Helper()
		full := append(append([]string{}, wrap...), args...)
		out, err := exec.Command(full[0], full[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", full, err, out)
		}
	}
	data := filepath.Join(dir, "data")
	run(t, filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "fbs", "--no-sync", "-E", "UTF8")
	ctl := func(t testing.TB, args ...string) {
		run(t, append([]string{filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "log"), "-w",
			"-o", fmt.Sprintf("-k %s -c listen_addresses='' -F", dir)}, args...)...)
	}
	ctl(t, "start")
	t.Cleanup(func() {
		full := append(append([]string{}, wrap...), filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop")
		exec.Command(full[0], full[1:]...).Run()
	})
	return &PG{DSN: fmt.Sprintf("host=%s user=fbs dbname=postgres sslmode=disable", dir), ctl: ctl}
}
