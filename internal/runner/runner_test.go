package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fbs/internal/buildlog"
	"fbs/internal/fbstest"
)

func TestMain(m *testing.M) {
	Init() // the namespace helper re-executes this test binary
	os.Exit(m.Run())
}

func newRunner() (*Runner, *bytes.Buffer) {
	var buf bytes.Buffer
	r := New(buildlog.New(&buf))
	r.StopDelay = time.Second
	return r, &buf
}

func TestRunLogsCommandAndOutput(t *testing.T) {
	r, log := newRunner()
	err := r.Run(context.Background(), Cmd{Args: []string{"sh", "-c", "echo hello; echo world >&2"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"$ sh -c 'echo hello; echo world >&2'", "  sh: hello", "  sh: world", "sh done in"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestToolError(t *testing.T) {
	r, _ := newRunner()
	err := r.Run(context.Background(), Cmd{Args: []string{"sh", "-c", "for i in $(seq 30); do echo line $i; done; exit 3"}})
	var te *ToolError
	if !errors.As(err, &te) || te.Status != 3 {
		t.Fatalf("error %v, want exit status 3", err)
	}
	if !strings.HasSuffix(te.Tail, "line 30") || strings.Contains(te.Tail, "line 15\n") {
		t.Errorf("tail %q should hold the last 15 lines", te.Tail)
	}
}

func TestOnLineSwallows(t *testing.T) {
	r, log := newRunner()
	var seen []string
	err := r.Run(context.Background(), Cmd{Args: []string{"printf", `[==] 1/2 50%%\r[====] 2/2 100%%\ndone\n`}, OnLine: func(s string) bool {
		seen = append(seen, s)
		return strings.HasPrefix(s, "[")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 || strings.Contains(log.String(), "printf: [") || !strings.Contains(log.String(), "printf: done") {
		t.Errorf("seen %q, log:\n%s", seen, log)
	}
}

func TestCancelKillsProcessGroup(t *testing.T) {
	r, _ := newRunner()
	ctx, cancel := context.WithCancel(context.Background())
	marker := filepath.Join(t.TempDir(), "marker")
	go func() {
		for {
			if _, err := os.Stat(marker); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	start := time.Now()
	// The grandchild ignores SIGTERM; the group still goes.
	err := r.Run(ctx, Cmd{Args: []string{"sh", "-c", "(trap '' TERM; sleep 300) & touch " + marker + "; wait"}})
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("cancel took %s", took)
	}
	time.Sleep(100 * time.Millisecond)
	if out, _ := exec.Command("pgrep", "-f", "sleep 300").Output(); len(out) > 0 {
		t.Errorf("sleep 300 survived the cancel: pids %s", out)
	}
}

// TestChrootNamespaces runs a command in a busybox root: it sees its own
// /proc (PID 1 is the command), its mounts stay invisible to the host, and
// a cancel kills everything it started.
func TestChrootNamespaces(t *testing.T) {
	fbstest.NeedRoot(t)
	bb, err := exec.LookPath("busybox")
	fbstest.Need(t, err == nil, "busybox", "apt-get install busybox-static")
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"sh", "cat", "ls", "sleep", "echo"} {
		os.Symlink("busybox", filepath.Join(root, "bin", l))
	}
	out := filepath.Join(t.TempDir(), "out")
	os.MkdirAll(out, 0o755)
	r, log := newRunner()
	err = r.Run(context.Background(), Cmd{Root: root, Binds: []string{out + ":/run/out"},
		Args: []string{"/bin/sh", "-c", "cat /proc/1/cmdline; echo; ls /dev/null; echo bound > /run/out/file"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if !strings.Contains(log.String(), "/bin/sh") || !strings.Contains(log.String(), "/dev/null") {
		t.Errorf("log:\n%s", log)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "file")); string(b) != "bound\n" {
		t.Errorf("bind mount output %q", b)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), root) {
		t.Errorf("a mount under %s leaked to the host", root)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = r.Run(ctx, Cmd{Root: root, Args: []string{"/bin/sh", "-c", "sleep 301 & sleep 301 & wait"}})
	if err == nil {
		t.Fatal("a timed-out command succeeded")
	}
	time.Sleep(100 * time.Millisecond)
	if out, _ := exec.Command("pgrep", "-f", "sleep 301").Output(); len(out) > 0 {
		t.Errorf("sleep 301 survived: pids %s", out)
	}
}

func TestQuote(t *testing.T) {
	got := Quote([]string{"dnf", "--setopt=a=b", "it's", "", "$x", "--add", "a b"})
	want := `dnf --setopt=a=b 'it'\''s' '' '$x' --add 'a b'`
	if got != want {
		t.Errorf("Quote = %s, want %s", got, want)
	}
}
