package hostarch

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fbs/internal/buildlog"
	"fbs/internal/fbstest"
	"fbs/internal/runner"
)

func TestMain(m *testing.M) {
	runner.Init() // the namespace helper re-executes this test binary
	os.Exit(m.Run())
}

// goArch is Go's name for an RPM arch.
func goArch(t *testing.T, arch string) string {
	for g, a := range goArches {
		if a == arch {
			return g
		}
	}
	t.Fatalf("no Go architecture for %s", arch)
	return ""
}

// TestForeignInRoot runs a program of a foreign arch in an image root
// the way a build runs scriptlets and dracut: chrooted by the runner,
// confined (seccomp filter, no_new_privs, private mounts), through
// binfmt_misc and qemu-user-static.
func TestForeignInRoot(t *testing.T) {
	fbstest.NeedRoot(t)
	arch := foreign()
	fbstest.Need(t, Check(arch) == nil, arch+" binfmt_misc support", "apt-get install qemu-user-static binfmt-support")
	gotool, err := exec.LookPath("go")
	fbstest.Need(t, err == nil, "go", "apt-get install -t bookworm-backports golang-go")

	root := t.TempDir()
	for _, d := range []string{"bin", "proc", "sys", "dev", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command(gotool, "build", "-o", filepath.Join(root, "bin/threads"), "./testdata/threads")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOARCH="+goArch(t, arch))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build for %s: %v\n%s", arch, err, out)
	}

	var log bytes.Buffer
	r := runner.New(buildlog.New(&log))
	r.StopDelay = time.Second
	r.Confine = &runner.Confinement{Writable: []string{root}}
	var out strings.Builder
	err = r.Run(context.Background(), runner.Cmd{Root: root, Args: []string{"/bin/threads"},
		OnLine: func(l string) bool { out.WriteString(l + "\n"); return false }})
	if err != nil {
		t.Fatalf("%s program in a confined root: %v\n%s", arch, err, log.String())
	}
	if want := goArch(t, arch) + " 2999997\n"; out.String() != want {
		t.Errorf("output %q, want %q\n%s", out.String(), want, log.String())
	}
}
