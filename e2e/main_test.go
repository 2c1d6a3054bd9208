//go:build e2e

// Package e2e runs the fbs binary end to end: real RPM repos, dnf, mksquashfs,
// xorriso and QEMU. It needs root and the tools the README's set-up installs;
// run it with "make test" (go test -tags e2e ./e2e).
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fbs/internal/demo"
)

var (
	fbsBin    string // the fbs binary under test
	cache     string // shared across tests and runs: Debian packages, demo repo, dnf cache
	demoDir   string // the demo repo (busybox chain: quick builds and boots)
	dracutDir string // the dracut chain's demo repo (dracut, systemd, udev)
)

func TestMain(m *testing.M) {
	os.Exit(setup(m))
}

func setup(m *testing.M) int {
	if missing := prerequisites(); missing != "" {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "e2e: %s (CI must have it)\n", missing)
			return 1
		}
		fmt.Fprintf(os.Stderr, "e2e: skipped: %s\n", missing)
		return 0
	}
	tmp, err := os.MkdirTemp("", "fbs-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	fbsBin = filepath.Join(tmp, "fbs")
	if out, err := exec.Command("go", "build", "-o", fbsBin, "../cmd/fbs").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build: %v\n%s", err, out)
		return 1
	}
	cache = os.Getenv("FBS_TEST_CACHE")
	if cache == "" {
		cache = "/var/cache/fbs-test"
	}
	demoDir = filepath.Join(cache, demo.Busybox.RepoDir())
	dracutDir = filepath.Join(cache, demo.Dracut.RepoDir())
	for chain, dir := range map[demo.Chain]string{demo.Busybox: demoDir, demo.Dracut: dracutDir} {
		if err := makeDemoRepo(dir, chain, "x86_64"); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			return 1
		}
	}
	return m.Run()
}

// makeDemoRepo has fbs demo repo make (or find up to date) a chain's repo
// for an arch in dir, and says how long it took.
func makeDemoRepo(dir string, chain demo.Chain, arch string) error {
	start := time.Now()
	out, err := exec.Command(fbsBin, "demo", "repo", dir, "--chain", string(chain), "--arch", arch, "--cache", cache).CombinedOutput()
	if err != nil {
		return fmt.Errorf("fbs demo repo --chain %s --arch %s: %v\n%s", chain, arch, err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: %s %s demo repo ready in %s\n", arch, chain, time.Since(start).Round(time.Millisecond))
	return nil
}

func prerequisites() string {
	if os.Geteuid() != 0 {
		return "not root (builds mount and chroot; run as root)"
	}
	var missing []string
	for _, tool := range []string{"dnf", "rpmbuild", "createrepo_c", "mksquashfs", "unsquashfs", "xorriso", "xorrisofs",
		"grub-mkimage", "mkfs.fat", "mcopy", "qemu-system-x86_64", "depmod", "dpkg-deb", "apt-get"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := os.Stat("/usr/share/ovmf/OVMF.fd"); err != nil {
		missing = append(missing, "OVMF.fd")
	}
	if len(missing) > 0 {
		return "missing " + strings.Join(missing, ", ") + " (make deps installs them)"
	}
	return ""
}

// result is one run of the fbs binary.
type result struct {
	code int
	out  string
}

// fbs runs the binary and returns its exit status and output.
func fbs(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, fbsBin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	res := result{out: out.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("fbs %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("$ fbs %s  (exit %d)\n%s", strings.Join(args, " "), res.code, res.out)
	return res
}

// request writes a live request for the demo repo into a fresh dir: the
// demo kickstart with the given %post, and the INI request with extra
// [DEFAULT] lines. It returns the request's path.
func request(t *testing.T, repoURL, post, defaults string) string {
	t.Helper()
	dir := t.TempDir()
	ks := fmt.Sprintf(`repo --name=fbs-demo --baseurl=%s
bootloader --append="console=ttyS0,115200" --timeout=1
%%packages
@core
kernel
dracut
grub2-pc-modules
grub2-efi-x64-cdboot
%%end
%%post
%s
%%end
`, repoURL, post)
	conf := fmt.Sprintf("[DEFAULT]\ntype=live\narch=x86_64\nrelease=1\n%s\n[live]\nlabel=FBS-Test\ntitle=fbs test\nreleasever=1\ncompression=zstd\nconfig=test.ks\n", defaults)
	write(t, filepath.Join(dir, "test.ks"), ks)
	write(t, filepath.Join(dir, "test.conf"), conf)
	return filepath.Join(dir, "test.conf")
}

// demoRequest writes the demo's request of a type (as fbs demo request
// does), with its "staging=" line replaced by the given lines.
func demoRequest(t *testing.T, typ, compression, lines string) string {
	t.Helper()
	conf, err := demo.WriteRequest(t.TempDir(), demoDir, typ, compression)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(conf)
	write(t, conf, strings.Replace(string(text), "staging=\n", lines+"\n", 1))
	return conf
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustContain(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}
