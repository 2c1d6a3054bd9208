package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fbs/internal/hostarch"
)

// foreignArch is an arch fbs makes media for that this host does not run
// natively.
func foreignArch() string {
	if hostarch.Native() == "aarch64" {
		return "x86_64"
	}
	return "aarch64"
}

// fakeBinfmt points hostarch at a binfmt_misc dir holding files.
func fakeBinfmt(t *testing.T, files map[string]string) {
	dir := t.TempDir()
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FBS_BINFMT_MISC", dir)
}

// TestWorkerArches: a worker refuses to start for an arch this host
// cannot build, saying why, and for an arch fbs makes no media for.
func TestWorkerArches(t *testing.T) {
	arch := foreignArch()
	base := []string{"worker", "--server", "http://127.0.0.1:1", "--token-file", filepath.Join(t.TempDir(), "none"), "--data", t.TempDir()}
	tests := map[string]struct {
		binfmt map[string]string
		arches string
		code   int
		want   string
	}{
		"no binfmt entry": {map[string]string{"status": "enabled\n"}, hostarch.Native() + "," + arch, 1,
			"--arch " + arch + ": this host cannot build it: " + arch + " programs cannot run on this " + hostarch.Native() + " host: no binfmt_misc entry qemu-" + arch},
		"entry disabled": {map[string]string{"status": "enabled\n", "qemu-" + arch: "disabled\ninterpreter /bin/sh\nflags: PF\n"}, arch, 1,
			"update-binfmts --enable qemu-" + arch},
		"no media": {nil, "ppc64le", 2, "--arch ppc64le: fbs makes media for x86_64 and aarch64 only"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fakeBinfmt(t, tc.binfmt)
			code, out := run(t, append(base, "--arch", tc.arches)...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want %d; output:\n%s\nwant it to hold %q", code, tc.code, out, tc.want)
			}
		})
	}
}

// TestWorkerArchesDefault: with no --arch a worker builds this host's
// arch alone, and a foreign arch this host runs is accepted.
func TestWorkerArchesDefault(t *testing.T) {
	fakeBinfmt(t, map[string]string{"status": "enabled\n", "qemu-" + foreignArch(): "enabled\ninterpreter /bin/sh\nflags: PF\n"})
	f := workerFlags{servers: []string{"http://127.0.0.1:1"}, tokenFile: "t", slots: 1}
	if err := f.check(); err != nil || strings.Join(f.arches, ",") != hostarch.Native() {
		t.Errorf("default arches %v, %v", f.arches, err)
	}
	f.arches = []string{hostarch.Native(), foreignArch()}
	if err := f.check(); err != nil {
		t.Errorf("--arch %v: %v", f.arches, err)
	}
}

// TestWorkerRefusesExposedBinfmt: a worker whose confined builds would all
// be refused (an interpreter a build could change) does not start.
func TestWorkerRefusesExposedBinfmt(t *testing.T) {
	interp := filepath.Join(t.TempDir(), "qemu-static")
	if err := os.WriteFile(interp, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	fakeBinfmt(t, map[string]string{"status": "enabled\n", "qemu-" + foreignArch(): "enabled\ninterpreter " + interp + "\nflags: PF\n"})
	f := workerFlags{servers: []string{"http://127.0.0.1:1"}, tokenFile: "t", slots: 1}
	f.confine = true
	if err := f.check(); err == nil || !strings.Contains(err.Error(), "chattr +i") || !strings.Contains(err.Error(), interp) {
		t.Errorf("confined: %v", err)
	}
	f.confine = false
	if err := f.check(); err != nil {
		t.Errorf("--confine=false: %v", err)
	}
}
