package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fbs/internal/buildlog"
	"fbs/internal/fbstest"
)

func TestMain(m *testing.M) {
	Init()    // the namespace helper re-executes this test binary
	tryMain() // and so do the confinement tests, as their attacker
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
	pidFile := filepath.Join(t.TempDir(), "pid")
	// The grandchild ignores SIGTERM; the group still goes.
	err := r.Run(ctx, Cmd{Args: []string{"sh", "-c", "(trap '' TERM; exec sleep 300) & echo $! >" + pidFile + "; touch " + marker + "; wait"}})
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// Killed, it is reaped by whoever inherited it: wait for that.
	for range 100 {
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err != nil || !strings.HasPrefix(string(cmdline), "sleep\x00300") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("the grandchild (pid %d) survived the cancel", pid)
}

// TestChrootNamespaces runs a command in a busybox root: it sees its own
// /proc (PID 1 is the command), its mounts stay invisible to the host, and
// a cancel kills everything it started.
func TestChrootNamespaces(t *testing.T) {
	fbstest.NeedRoot(t)
	root := busyboxRoot(t, t.TempDir())
	out := filepath.Join(t.TempDir(), "out")
	os.MkdirAll(out, 0o755)
	r, log := newRunner()
	err := r.Run(context.Background(), Cmd{Root: root, Binds: []string{out + ":/run/out"},
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

// TestConfined: a confined command sees the host read-only but for its
// writable dirs, does not see hidden paths, has its own /tmp, cannot mount,
// and cannot see or signal the host's processes.
func TestConfined(t *testing.T) {
	fbstest.NeedRoot(t)
	work, secret := t.TempDir(), t.TempDir()
	canaryDir, err := os.MkdirTemp("/var/cache", "fbs-canary-") // not in /tmp, which commands have their own of
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(canaryDir)
	canary := filepath.Join(canaryDir, "canary")
	shown := filepath.Join(t.TempDir(), "shown") // in /tmp
	os.WriteFile(shown, []byte("shown"), 0o644)
	os.WriteFile(canary, []byte("intact"), 0o644)
	os.WriteFile(filepath.Join(secret, "key"), []byte("s3cret"), 0o600)
	r, log := newRunner()
	inner := filepath.Join(secret, "work") // a service's work dir within its hidden data dir
	os.Mkdir(inner, 0o755)
	r.Confine = &Confinement{Writable: []string{work, inner}, Hidden: []string{secret}}
	tests := map[string]struct {
		script string
		ok     bool
	}{
		"write the work dir":   {"echo made > " + work + "/made", true},
		"write within hidden":  {"echo made > " + inner + "/made && ! ls " + secret + "/key", true},
		"write the host":       {"echo changed > " + canary, false},
		"read a hidden file":   {"cat " + secret + "/key", false},
		"remount read-write":   {"mount -o remount,rw /", false},
		"mount a tmpfs":        {"mount -t tmpfs none " + work, false},
		"signal the parent":    {"kill -9 " + strconv.Itoa(os.Getpid()), false},
		"its own tmp":          {"echo private > /tmp/fbs-confined-test && cat /tmp/fbs-confined-test", true},
		"see the host's procs": {"test $(ls /proc | grep -c '^[0-9]') -lt 10", true},
		"load a kernel module": {"modprobe -q dummy", false},
		"its own /dev":         {"touch /dev/fbs-confined-test", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := r.Run(context.Background(), Cmd{Args: []string{"sh", "-c", tc.script}})
			if (err == nil) != tc.ok {
				t.Errorf("error %v, want ok=%v\n%s", err, tc.ok, log)
			}
		})
	}
	if b, _ := os.ReadFile(canary); string(b) != "intact" {
		t.Errorf("the canary reads %q", b)
	}
	if b, _ := os.ReadFile(shown); string(b) != "shown" {
		t.Errorf("the host's /tmp file reads %q", b)
	}
	if strings.Contains(log.String(), "s3cret") {
		t.Error("the hidden file was read")
	}
	for _, p := range []string{"/tmp/fbs-confined-test", "/dev/fbs-confined-test"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was the host's", filepath.Dir(p))
		}
	}
}

// TestCgroupLimits: a command that forks past the build's process limit
// is refused the forks, one that takes more memory than it may is killed,
// and the run says which limit was hit.
func TestCgroupLimits(t *testing.T) {
	fbstest.NeedRoot(t)
	tests := map[string]struct {
		memory int64
		procs  int
		args   []string
		limit  string
		want   string
	}{
		"processes": {0, 20, []string{"sh", "-c", "for i in $(seq 100); do sleep 5 & done; exit 0"}, "processes", "20 processes"},
		"memory":    {64 << 20, 0, []string{"python3", "-c", "x = bytearray(512 << 20); x[::4096] = b'x' * len(x[::4096])"}, "memory", "64 MiB"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := exec.LookPath(tc.args[0])
			fbstest.Need(t, err == nil, tc.args[0], "apt-get install "+tc.args[0])
			cg, err := NewCgroup(fmt.Sprintf("test-%s-%d", name, os.Getpid()), tc.memory, tc.procs)
			if err != nil {
				t.Fatal(err)
			}
			defer cg.Close()
			r, _ := newRunner()
			r.Confine = &Confinement{Writable: []string{t.TempDir()}, Cgroups: cg.Dirs}
			r.Limits = func(bool) error { return cg.Hit() }
			// From /: the checkout may lie in /tmp, which the command's
			// own /tmp hides (and pyenv's python3 wants its working dir).
			err = r.Run(context.Background(), Cmd{Args: tc.args, Dir: "/"})
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != tc.limit || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want the %s limit", err, tc.limit)
			}
		})
	}
}

// TestSweepCgroups: of the build cgroups left in place, only the empty
// ones whose maker is gone are removed: not a live fbs's (empty between
// two commands), not one still holding a process, not an older fbs's
// untagged one. A maker's PID taken by a new process is gone too.
func TestSweepCgroups(t *testing.T) {
	fbstest.NeedRoot(t)
	live, err := NewCgroup(fmt.Sprintf("test-sweep-live-%d", os.Getpid()), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	parent := filepath.Dir(live.Dirs[0])
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	start, _ := startTime(os.Getpid())
	dirs := map[string]bool{ // removed?
		fmt.Sprintf("test-sweep-gone@%d.%s", gone.Process.Pid, start): true,
		fmt.Sprintf("test-sweep-reused@%d.1", os.Getpid()):            true,
		fmt.Sprintf("test-sweep-busy@%d.1", gone.Process.Pid):         false,
		fmt.Sprintf("test-sweep-old-%d", os.Getpid()):                 false,
	}
	for d := range dirs {
		if err := os.Mkdir(filepath.Join(parent, d), 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(filepath.Join(parent, d))
	}
	busy := exec.Command("sleep", "30")
	if err := busy.Start(); err != nil {
		t.Fatal(err)
	}
	defer busy.Process.Kill()
	busyDir := filepath.Join(parent, fmt.Sprintf("test-sweep-busy@%d.1", gone.Process.Pid))
	if err := write(busyDir, "cgroup.procs", strconv.Itoa(busy.Process.Pid)); err != nil {
		t.Fatal(err)
	}
	defer func() { busy.Process.Kill(); busy.Wait(); os.Remove(busyDir) }() // before the dirs' removal
	got := SweepCgroups(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for d, removed := range dirs {
		_, err := os.Stat(filepath.Join(parent, d))
		if gone := errors.Is(err, os.ErrNotExist); gone != removed {
			t.Errorf("%s: removed %v, want %v (swept %q)", d, gone, removed, got)
		}
	}
	if _, err := os.Stat(live.Dirs[0]); err != nil {
		t.Errorf("the live cgroup %s went: %v", live.Dirs[0], err)
	}
}
