//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPostLogInSandbox: %post --log is written by the script's own
// sandbox, never by fbs on the host: a chrooted script's log lands in the
// image root, a --nochroot one's on the sandbox's read-only view of the
// host (so nowhere), and the build log has the output of both.
func TestPostLogInSandbox(t *testing.T) {
	name := "/etc/fbs-pwned-" + randomText()[:8]
	section := fmt.Sprintf(`%%post --nochroot --log=%[1]s-nochroot
echo nochroot output
%%end
%%post --log=%[1]s
echo chroot output
%%end
%%post
sed 's/^/the image has: /' %[1]s`, name)
	work := t.TempDir()
	res := fbs(t, "build", hostile(t, section), "--cache", cache, "--work", work)
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	mustContain(t, "build log", buildLogs(t, work), "nochroot output", "chroot output", "the image has: chroot output", "cannot be written")
	for _, p := range []string{name, name + "-nochroot"} {
		if _, err := os.Lstat(p); err == nil {
			os.Remove(p)
			t.Errorf("%%post --log wrote the host's %s", p)
		}
	}
}

// buildLogs is what the build logs in dirs (work dirs' build.log, staged
// *.log) say; a log a build replaced by a symlink is not read.
func buildLogs(t *testing.T, dirs ...string) string {
	t.Helper()
	var text strings.Builder
	for _, dir := range dirs {
		for _, pattern := range []string{"*/build.log", "*.log"} {
			files, _ := filepath.Glob(filepath.Join(dir, pattern))
			for _, f := range files {
				if st, err := os.Lstat(f); err == nil && st.Mode().IsRegular() {
					b, _ := os.ReadFile(f)
					text.Write(b)
				}
			}
		}
	}
	return text.String()
}

// canary is a host file (and its dir) that a build's code must neither
// change nor get served.
func canary(t *testing.T) (dir, file, text string) {
	t.Helper()
	dir, err := os.MkdirTemp("/var/cache", "fbs-canary-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	file, text = filepath.Join(dir, "canary"), "canary "+randomText()
	write(t, file, text)
	return dir, file, text
}

// TestPlantedSymlinks: a %post --nochroot tries to plant, in the work dir,
// a symlink to a host file under the name of something fbs then writes or
// stages (the checksum file, the manifest, the kickstart, the ISO, the
// parts dir, the log): the work dir beside the image root is read-only to
// it, the build goes on, and the host file is neither changed nor staged.
// (What fbs opens in the work dir is opened without following links all
// the same: internal/beneath.)
func TestPlantedSymlinks(t *testing.T) {
	tests := map[string]string{ // CANARY: the canary file, DIR: its dir
		"checksum and manifest": "ln -s CANARY CHECKSUM; ln -s CANARY manifest.json",
		"kickstart":             "ln -sf CANARY FBS-Test.ks",
		"iso":                   "ln -s CANARY FBS-Test.iso",
		"parts dir":             "ln -s DIR parts",
		"log":                   "rm build.log; ln -s CANARY build.log",
		"fifo as kickstart":     "rm FBS-Test.ks; mkfifo FBS-Test.ks",
	}
	for name, plant := range tests {
		t.Run(name, func(t *testing.T) {
			dir, file, text := canary(t)
			staging := t.TempDir()
			plant := strings.NewReplacer("CANARY", file, "DIR", dir).Replace(plant)
			// In the work dir, by its path: as an attacker would, not
			// trusting the working dir to be the writable one.
			req := request(t, "file://"+demoDir, "true\n%end\n%post --nochroot\ncd \"$INSTALL_ROOT/..\" && "+plant+" && echo planted", "staging=file://"+staging)
			work := t.TempDir()
			res := fbs(t, "build", req, "--cache", cache, "--work", work)
			if res.code != 0 {
				t.Errorf("exit %d", res.code)
			}
			log := buildLogs(t, work, staging)
			mustContain(t, "build log", log, "Read-only file system")
			mustNotContain(t, "build log", log, "planted")
			if b, _ := os.ReadFile(file); string(b) != text {
				t.Errorf("the canary now holds %q", b)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("the canary's dir holds %d files", len(entries))
			}
			filepath.WalkDir(staging, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					b, _ := os.ReadFile(p)
					if !d.Type().IsRegular() || bytes.Contains(b, []byte(text)) {
						t.Errorf("staged: %s (%v)", p, d.Type())
					}
				}
				return nil
			})
		})
	}
}

// TestCachesReadOnly: a build's code cannot write the shared caches (the
// root cache, dnf's package cache), so nothing of it reaches the next
// build's image, and it cannot write past its disk limit there; nor can it
// read what other builds downloaded.
func TestCachesReadOnly(t *testing.T) {
	// Not in /tmp, which a build's commands see as a private tmpfs.
	buildCache, err := os.MkdirTemp("/var/cache", "fbs-test-cache-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(buildCache)
	write := fmt.Sprintf(`%%post --nochroot
for d in %[1]s/roots/*/ %[1]s/roots %[1]s/dnf %[1]s; do echo pwned > "$d/fbs-pwned" && echo "WROTE $d"; done
dd if=/dev/zero of=%[1]s/fill bs=1M count=400 2>&1 && echo FILLED
ls %[1]s/dnf | sed 's/^/SEEN /'
exit 0`, buildCache)
	work := t.TempDir()
	res := fbs(t, "build", hostile(t, write), "--cache", buildCache, "--work", work, "--disk-limit", "300MiB")
	if res.code != 0 {
		t.Fatalf("the writing build: exit %d", res.code)
	}
	mustContain(t, "writing build", res.out, "now in the root cache")
	log := buildLogs(t, work)
	mustContain(t, "writing build's log", log, "Read-only file system")
	for _, bad := range []string{"WROTE", "FILLED", "SEEN fbs-demo"} {
		if strings.Contains(log, bad) {
			t.Errorf("the build's code reached the cache: %q", bad)
		}
	}
	work = t.TempDir()
	res = fbs(t, "build", hostile(t, "%post\ntest -e /fbs-pwned && echo CARRIED; echo looked"), "--cache", buildCache, "--work", work)
	if res.code != 0 {
		t.Fatalf("the next build: exit %d", res.code)
	}
	mustContain(t, "next build", res.out, "from the root cache")
	if log := buildLogs(t, work); !strings.Contains(log, "looked") || strings.Contains(log, "CARRIED") {
		t.Error("the next build's image has the file the first build wrote")
	}
	filepath.WalkDir(buildCache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && (d.Name() == "fbs-pwned" || d.Name() == "fill") {
			t.Errorf("in the cache: %s", p)
		}
		return nil
	})
}

// TestPostNetwork: a %post reaches nothing that listens on the host's
// loopback (the fbs API, a local database), and the build says why a
// script failed; with --post-network it has the host's network.
func TestPostNetwork(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	knocks := make(chan string, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b, _ := io.ReadAll(io.LimitReader(c, 64))
			c.Close()
			knocks <- strings.TrimSpace(string(b))
		}
	}()
	knock := fmt.Sprintf("%%post --nochroot --interpreter=/bin/bash\necho knock > /dev/tcp/127.0.0.1/%d || exit 7", l.Addr().(*net.TCPAddr).Port)
	for _, network := range []bool{false, true} {
		work := t.TempDir()
		args := []string{"build", hostile(t, knock), "--cache", cache, "--work", work}
		if network {
			args = append(args, "--post-network")
		}
		res := fbs(t, args...)
		if res.code != 0 {
			t.Fatalf("--post-network=%v: exit %d", network, res.code)
		}
		var got string
		select {
		case got = <-knocks:
		case <-time.After(time.Second):
		}
		log := buildLogs(t, work)
		if network {
			if got != "knock" {
				t.Errorf("with --post-network the host's listener heard %q", got)
			}
			mustContain(t, "build log", log, "network: dnf's downloads and %post (--post-network) have the host's")
			continue
		}
		if got != "" {
			t.Errorf("the %%post reached the host's loopback: %q", got)
		}
		mustContain(t, "build log", log, "network: none but dnf's downloads", "Connection refused",
			"exited with status 7; going on, as it has no --erroronfail (%post runs without the network; --post-network")
	}
}
