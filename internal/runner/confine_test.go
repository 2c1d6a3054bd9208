package runner

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"fbs/internal/fbstest"
)

// busyboxRoot makes an image root in dir with busybox and this test
// binary (with the libraries it links), which the tests run as their
// attacker (tryMain), and returns it.
func busyboxRoot(t *testing.T, dir string) string {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	fbstest.Need(t, err == nil, "busybox", "apt-get install busybox-static")
	root := filepath.Join(dir, "root")
	copyFile(t, bb, filepath.Join(root, "bin/busybox"))
	for _, l := range []string{"sh", "cat", "ls", "sleep", "echo", "env", "grep", "head", "wc", "mknod", "mount", "true", "test"} {
		os.Symlink("busybox", filepath.Join(root, "bin", l))
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, self, filepath.Join(root, "bin/fbs-try"))
	out, _ := exec.Command("ldd", self).Output() // none for a static binary
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "/") {
			copyFile(t, f, filepath.Join(root, f))
		}
	}
	for _, d := range []string{"tmp", "proc", "sys", "dev"} {
		os.MkdirAll(filepath.Join(root, d), 0o1777)
	}
	return root
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// confinedMode is one of the two ways a build runs a command: chrooted
// into an image root (in the writable work dir), and on the host's tree
// (%post --nochroot, dnf, mksquashfs…).
type confinedMode struct {
	cmd    func(args ...string) Cmd
	tryBin string // the attacker's path there
}

func (m confinedMode) sh(script string) Cmd { return m.cmd("/bin/sh", "-c", script) }

func (m confinedMode) try(args ...string) Cmd {
	return m.cmd(append([]string{m.tryBin, tryArg}, args...)...)
}

// confinedModes returns a confined runner, its work dir and the modes.
func confinedModes(t *testing.T) (*Runner, string, map[string]confinedMode) {
	t.Helper()
	fbstest.NeedRoot(t)
	work := t.TempDir()
	root := busyboxRoot(t, work)
	r, _ := newRunner()
	r.Confine = &Confinement{Writable: []string{work}}
	return r, work, map[string]confinedMode{
		"chrooted": {func(a ...string) Cmd { return Cmd{Root: root, Args: a} }, "/bin/fbs-try"},
		// The test binary's own copy in the work dir: the command does not
		// see the host's /tmp, where go test keeps it.
		"nochroot": {func(a ...string) Cmd { return Cmd{Sandbox: true, Args: a} }, filepath.Join(root, "bin/fbs-try")},
	}
}

// output runs c and returns its output lines and error.
func output(r *Runner, c Cmd) ([]string, error) {
	var lines []string
	c.OnLine = func(l string) bool { lines = append(lines, l); return false }
	err := r.Run(context.Background(), c)
	return lines, err
}

// TestConfinedThreads: capabilities, the bounding set, no_new_privs and
// seccomp are a thread's, so each command must be started from the thread
// that set them. 50 commands each way see exactly the kept capabilities,
// no_new_privs and a seccomp filter, every time.
func TestConfinedThreads(t *testing.T) {
	r, _, modes := confinedModes(t)
	var caps uint64
	for _, c := range keptCapabilities {
		caps |= 1 << c
	}
	want := []string{
		fmt.Sprintf("CapEff:\t%016x", caps), fmt.Sprintf("CapBnd:\t%016x", caps),
		"NoNewPrivs:\t1", "Seccomp:\t2",
	}
	// A busy host (the other cores spinning) makes the helper's goroutine
	// change threads far more often: the old helper failed this within a
	// few commands then, and rarely without.
	stop := make(chan struct{})
	defer close(stop)
	for range runtime.NumCPU() {
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	for name, m := range modes {
		t.Run(name, func(t *testing.T) {
			for i := range 50 {
				lines, err := output(r, m.sh("grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status"))
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(lines, want) {
					t.Fatalf("command %d: /proc/self/status has\n%s\nwant\n%s", i, strings.Join(lines, "\n"), strings.Join(want, "\n"))
				}
			}
		})
	}
}

// TestConfinedKernelFiles: the ways root changes or reads the host's
// kernel through /proc and /sys all fail, chrooted and not, and leave the
// host as it was.
func TestConfinedKernelFiles(t *testing.T) {
	r, work, modes := confinedModes(t)
	hostFiles := []string{"/proc/sys/kernel/core_pattern", "/proc/sys/kernel/sysrq", "/proc/irq/default_smp_affinity", "/sys/kernel/mm/ksm/run"}
	before := map[string]string{}
	for _, f := range hostFiles {
		b, _ := os.ReadFile(f)
		before[f] = string(b)
	}
	t.Cleanup(func() { os.WriteFile(hostFiles[0], []byte(before[hostFiles[0]]), 0) }) // should the test fail
	// Each script succeeds only if the attack does.
	tests := map[string]string{
		"core_pattern":    "echo '|/bin/sh -c id' > /proc/sys/kernel/core_pattern",
		"other sysctls":   "echo $(cat /proc/sys/kernel/sysrq) > /proc/sys/kernel/sysrq",
		"sysrq-trigger":   "echo h > /proc/sysrq-trigger",
		"proc/irq":        "echo $(cat /proc/irq/default_smp_affinity) > /proc/irq/default_smp_affinity",
		"sysfs":           "echo $(cat /sys/kernel/mm/ksm/run) > /sys/kernel/mm/ksm/run",
		"read kcore":      "test $(head -c 64 /proc/kcore | wc -c) -gt 0",
		"read timer_list": "test $(head -c 64 /proc/timer_list | wc -c) -gt 0",
		"read keys":       "test $(cat /proc/keys | wc -c) -gt 0",
		"read sched":      "test $(cat /proc/sched_debug | wc -c) -gt 0",
		"sys/firmware":    "test -n \"$(ls /sys/firmware)\"",
		"sys/cgroup":      "test -n \"$(ls /sys/fs/cgroup)\"",
		"unmask":          "umount /proc/kcore",
		"remount":         "mount -o remount,rw /proc/sys",
		"mknod":           "mknod /tmp/sda b 8 0",
		"host devices":    "ls /dev/mem || ls /dev/kmsg || ls /dev/loop-control || ls /dev/sda || ls /dev/vda",
		"a node in work":  "cat /tmp/null || cat " + work + "/root/tmp/null",
		"host's /run":     "ls /run/dbus/system_bus_socket || ls /run/systemd/private",
		"mount":           "mount -t tmpfs none /tmp",
	}
	// A device node the host made in the work dir does not work there.
	if err := exec.Command("mknod", filepath.Join(work, "root/tmp/null"), "c", "1", "3").Run(); err != nil {
		t.Fatal(err)
	}
	for name, m := range modes {
		for attack, script := range tests {
			t.Run(name+"/"+attack, func(t *testing.T) {
				lines, err := output(r, m.sh(script))
				if err == nil {
					t.Errorf("the attack succeeded: %s\n%s", script, strings.Join(lines, "\n"))
				}
			})
		}
	}
	for _, f := range hostFiles {
		if b, _ := os.ReadFile(f); string(b) != before[f] {
			t.Errorf("the host's %s changed: %q, was %q", f, b, before[f])
		}
	}
}

// TestConfinedDev: a command's /dev holds the usual nodes and they work.
func TestConfinedDev(t *testing.T) {
	r, _, modes := confinedModes(t)
	want := []string{"fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"}
	if _, err := os.Stat("/dev/kvm"); err == nil {
		want = append(want, "kvm")
		slices.Sort(want)
	}
	for name, m := range modes {
		t.Run(name, func(t *testing.T) {
			lines, err := output(r, m.sh("ls -1 /dev && echo x > /dev/null && head -c 4 /dev/urandom | wc -c && echo y > /dev/shm/y"))
			if err != nil {
				t.Fatal(err)
			}
			if got := lines[:len(lines)-1]; !slices.Equal(got, want) {
				t.Errorf("/dev has %q, want %q", got, want)
			}
			if got := strings.TrimSpace(lines[len(lines)-1]); got != "4" {
				t.Errorf("/dev/urandom gave %s bytes", got)
			}
		})
	}
}

// TestConfinedSyscalls: what the seccomp filter refuses is refused with
// EPERM (clone3 with ENOSYS, so that glibc falls back to clone), and what
// tools need still works.
func TestConfinedSyscalls(t *testing.T) {
	r, _, modes := confinedModes(t)
	names := make([]string, 0, len(tries))
	for n := range tries {
		names = append(names, n)
	}
	for name, m := range modes {
		t.Run(name, func(t *testing.T) {
			lines, err := output(r, m.try(names...))
			if err != nil {
				t.Fatalf("%v\n%s", err, strings.Join(lines, "\n"))
			}
			got := map[string]string{}
			for _, l := range lines {
				k, v, _ := strings.Cut(l, ": ")
				got[k] = v
			}
			for n, try := range tries {
				if got[n] != try.want {
					t.Errorf("%s: %s, want %s", n, got[n], try.want)
				}
			}
		})
	}
}

// TestConfinedNetwork: a confined command without Network reaches
// nothing that listens on the host, not its loopback nor an abstract
// Unix socket, but has a loopback of its own; with Network it reaches
// both.
func TestConfinedNetwork(t *testing.T) {
	r, _, modes := confinedModes(t)
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	abstract := fmt.Sprintf("fbs-try-%d", os.Getpid())
	abs, err := net.Listen("unix", "@"+abstract)
	if err != nil {
		t.Fatal(err)
	}
	defer abs.Close()
	for _, l := range []net.Listener{tcp, abs} {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	env := []string{"FBS_TRY_PORT=" + strconv.Itoa(tcp.Addr().(*net.TCPAddr).Port), "FBS_TRY_ABSTRACT=" + abstract}
	tests := map[bool]map[string]string{
		false: {"host loopback": "ECONNREFUSED", "host abstract socket": "ECONNREFUSED", "own loopback": "ok"},
		true:  {"host loopback": "ok", "host abstract socket": "ok", "own loopback": "ok"},
	}
	for network, want := range tests {
		for name, m := range modes {
			t.Run(fmt.Sprintf("%s, network %v", name, network), func(t *testing.T) {
				c := m.try(slices.Sorted(maps.Keys(want))...)
				c.Env, c.Network = env, network
				lines, err := output(r, c)
				if err != nil {
					t.Fatalf("%v\n%s", err, strings.Join(lines, "\n"))
				}
				for _, l := range lines {
					k, v, _ := strings.Cut(l, ": ")
					if v != want[k] {
						t.Errorf("%s: %s, want %s", k, v, want[k])
					}
				}
				if len(lines) != len(want) {
					t.Errorf("%d results, want %d: %q", len(lines), len(want), lines)
				}
			})
		}
	}
}

// TestBuildEnv: a command's environment is the fixed one and what the
// build adds, whatever the server's holds.
func TestBuildEnv(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fbs-test-secret")
	t.Setenv("PATH", os.Getenv("PATH")+":/opt/fbs-test/bin")
	r, _, modes := confinedModes(t)
	plain, _ := newRunner()
	want := append(slices.Clone(buildEnv), "INSTALL_ROOT=/x")
	slices.Sort(want)
	cmds := map[string]struct {
		r *Runner
		c Cmd
	}{
		"unconfined": {plain, Cmd{Args: []string{"env"}}},
		"chrooted":   {r, modes["chrooted"].cmd("env")},
		"nochroot":   {r, modes["nochroot"].cmd("env")},
	}
	for name, tc := range cmds {
		t.Run(name, func(t *testing.T) {
			c := tc.c
			c.Env = []string{"INSTALL_ROOT=/x"}
			lines, err := output(tc.r, c)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(lines)
			if !slices.Equal(lines, want) {
				t.Errorf("environment\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestConfinedTmp: a command's /tmp, /var/tmp and /dev/shm are its own
// and empty (the host's hold other users' secrets: Kerberos tickets,
// services' private dirs), and each holds no more than TmpSize.
func TestConfinedTmp(t *testing.T) {
	r, _, modes := confinedModes(t)
	r.Confine.TmpSize = 4 << 20
	canary := "fbs-canary-" + strconv.Itoa(os.Getpid())
	for _, dir := range []string{"/tmp", "/var/tmp"} {
		p := filepath.Join(dir, canary)
		if err := os.WriteFile(p, []byte("secret"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(p) })
	}
	// Each script succeeds only if the attack does.
	tests := map[string]struct {
		script string
		modes  []string
	}{
		"host's /tmp":        {"cat /tmp/" + canary, []string{"nochroot"}},
		"host's /var/tmp":    {"cat /var/tmp/" + canary, []string{"nochroot"}},
		"fill /tmp":          {"head -c 8388608 /dev/zero > /tmp/fill", []string{"nochroot"}},
		"fill /var/tmp":      {"head -c 8388608 /dev/zero > /var/tmp/fill", []string{"nochroot"}},
		"fill /dev/shm":      {"head -c 8388608 /dev/zero > /dev/shm/fill", []string{"nochroot", "chrooted"}},
		"fill /run past 64M": {"head -c 68157440 /dev/zero > /run/fill", []string{"nochroot", "chrooted"}},
	}
	for attack, tc := range tests {
		for _, name := range tc.modes {
			t.Run(name+"/"+attack, func(t *testing.T) {
				lines, err := output(r, modes[name].sh(tc.script))
				if err == nil {
					t.Errorf("the attack succeeded: %s\n%s", tc.script, strings.Join(lines, "\n"))
				}
			})
		}
	}
	// Within the bound, they work.
	for name, m := range modes {
		t.Run(name+"/within", func(t *testing.T) {
			if lines, err := output(r, m.sh("head -c 1048576 /dev/zero > /tmp/small && head -c 1048576 /dev/zero > /dev/shm/small")); err != nil {
				t.Errorf("%v\n%s", err, strings.Join(lines, "\n"))
			}
		})
	}
}

// TestConfinedNosuid: the work dir (an image root in it too) is nosuid and
// nodev where commands see it: a setuid binary a build leaves there gives
// no privilege, nor a device node access.
func TestConfinedNosuid(t *testing.T) {
	r, work, modes := confinedModes(t)
	where := map[string]string{"nochroot": work, "chrooted": "/"}
	for name, m := range modes {
		t.Run(name, func(t *testing.T) {
			lines, err := output(r, m.cmd("cat", "/proc/self/mountinfo"))
			if err != nil {
				t.Fatal(err)
			}
			opts := ""
			for _, l := range lines {
				if f := strings.Fields(l); len(f) > 5 && f[4] == where[name] {
					opts = f[5] // the last mount there is the one seen
				}
			}
			for _, want := range []string{"rw", "nosuid", "nodev"} {
				if !slices.Contains(strings.Split(opts, ","), want) {
					t.Errorf("%s is mounted %q, without %s", where[name], opts, want)
				}
			}
		})
	}
}

// TestInheritedFDs: a descriptor fbs inherited (fbs build 7</) reaches no
// command, confined or not. The test binary runs itself with one, as
// TestInheritedFDsChild, whose commands then look for it.
func TestInheritedFDs(t *testing.T) {
	fbstest.NeedRoot(t)
	if os.Getenv("FBS_TEST_INHERITED_FD") != "" {
		t.Skip("the child")
	}
	dir, err := os.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	self, _ := os.Executable()
	cmd := exec.Command(self, "-test.run=^TestInheritedFDsChild$", "-test.v")
	cmd.Env = append(os.Environ(), "FBS_TEST_INHERITED_FD=1")
	cmd.ExtraFiles = []*os.File{dir} // fd 3, not close-on-exec
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestInheritedFDsChild") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestInheritedFDsChild(t *testing.T) {
	if os.Getenv("FBS_TEST_INHERITED_FD") == "" {
		t.Skip("run by TestInheritedFDs")
	}
	if _, err := unix.FcntlInt(3, unix.F_GETFD, 0); err != nil {
		t.Fatalf("fd 3 was not inherited: %v", err)
	}
	r, _, modes := confinedModes(t)
	plain, _ := newRunner()
	// The shell's descriptors past 2, by test alone (an ls would add its
	// own, busybox running it in the shell's process): the parent passed 3.
	list := "for fd in 3 4 5 6 7 8 9; do test -e /proc/$$/fd/$fd && echo $fd; done; true"
	cmds := map[string]struct {
		r *Runner
		c Cmd
	}{
		"unconfined": {plain, Cmd{Args: []string{"/bin/sh", "-c", list}}},
		"chrooted":   {r, modes["chrooted"].sh(list)},
		"nochroot":   {r, modes["nochroot"].sh(list)},
	}
	for name, tc := range cmds {
		t.Run(name, func(t *testing.T) {
			lines, err := output(tc.r, tc.c)
			if err != nil || len(lines) > 0 {
				t.Errorf("the command has descriptors %q open past stderr (%v)", lines, err)
			}
		})
	}
}

// TestConfinedNarrowed: a command whose Writable narrows the confinement's
// writes there alone and reads the rest of the work dir (a --nochroot
// %post: the image root, not the files beside it).
func TestConfinedNarrowed(t *testing.T) {
	r, work, _ := confinedModes(t)
	root := filepath.Join(work, "root")
	if err := os.WriteFile(filepath.Join(work, "beside"), []byte("fbs's own"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := filepath.Join(root, "bin/sh")
	run := func(script string) error {
		_, err := output(r, Cmd{Sandbox: true, Writable: []string{root}, Args: []string{sh, "-c", script}})
		return err
	}
	if err := run("echo ok > " + root + "/in-root && cat " + work + "/beside"); err != nil {
		t.Errorf("writing the root, reading beside it: %v", err)
	}
	bb := filepath.Join(root, "bin/busybox")
	for _, attack := range []string{"echo x > " + work + "/beside", bb + " ln -s /etc/shadow " + work + "/parts", bb + " rm " + work + "/beside"} {
		if err := run(attack); err == nil {
			t.Errorf("the attack succeeded: %s", attack)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(work, "beside")); string(b) != "fbs's own" {
		t.Errorf("beside the root: %q", b)
	}
}

// TestConfinedReadOnlyRoot: a chrooted command with ReadOnlyRoot cannot
// change the root (dracut, while mksquashfs reads it), and still writes
// its binds, /run and /tmp.
func TestConfinedReadOnlyRoot(t *testing.T) {
	r, work, _ := confinedModes(t)
	root, out := filepath.Join(work, "root"), filepath.Join(work, "out")
	for _, d := range []string{out, filepath.Join(root, "tmp"), filepath.Join(root, "var/tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(script string) error {
		_, err := output(r, Cmd{Root: root, ReadOnlyRoot: true, Binds: []string{out + ":/run/out"}, Args: []string{"/bin/sh", "-c", script}})
		return err
	}
	for _, w := range []string{"/run/out/initrd.img", "/run/x", "/tmp/x", "/var/tmp/x"} {
		if err := run("echo ok > " + w); err != nil {
			t.Errorf("writing %s: %v", w, err)
		}
	}
	for _, attack := range []string{"echo x > /bin/sh", "echo x > /new", "/bin/busybox rm /bin/cat"} {
		if err := run(attack); err == nil {
			t.Errorf("the attack succeeded: %s", attack)
		}
	}
}
