package runner

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// helperArg is the hidden first argument with which fbs re-executes itself
// as the namespace helper: "fbs __fbs_ns [OPTION VALUE…] -- CMD ARGS…",
// the options being those of helperSpec.args.
const helperArg = "__fbs_ns"

// helperSpec is what the helper sets up before it execs the command.
type helperSpec struct {
	root    string   // chroot (pivot_root when confined) into this image root
	rootRO  bool     // the root read-only (confined): its binds and kernel filesystems as they are
	binds   []string // SRC:DST host dirs mounted into the root
	confine bool     // host read-only but for writable, hidden paths masked, capabilities dropped
	rw      []string
	ro      []string // trees shown as they are but read-only (a private /tmp would hide them)
	hide    []string
	cgroups []string // cgroup dirs to join first
	tmpSize int64    // bytes each of /tmp, /var/tmp and /dev/shm may hold
	offline bool     // in a network namespace of its own: bring its loopback up
}

func (s *helperSpec) args() []string {
	var a []string
	add := func(opt string, vals ...string) {
		for _, v := range vals {
			a = append(a, opt, v)
		}
	}
	if s.root != "" {
		add("-root", s.root)
	}
	if s.rootRO {
		add("-rootro", "1")
	}
	add("-bind", s.binds...)
	if s.confine {
		add("-confine", "1")
	}
	if s.offline {
		add("-offline", "1")
	}
	add("-rw", s.rw...)
	add("-ro", s.ro...)
	add("-hide", s.hide...)
	add("-cgroup", s.cgroups...)
	add("-tmpsize", strconv.FormatInt(s.tmpSize, 10))
	return append(a, "--")
}

func parseHelper(args []string) (*helperSpec, []string, error) {
	s := &helperSpec{}
	for len(args) >= 2 && args[0] != "--" {
		v := args[1]
		switch args[0] {
		case "-root":
			s.root = v
		case "-rootro":
			s.rootRO = true
		case "-bind":
			s.binds = append(s.binds, v)
		case "-confine":
			s.confine = true
		case "-offline":
			s.offline = true
		case "-rw":
			s.rw = append(s.rw, v)
		case "-ro":
			s.ro = append(s.ro, v)
		case "-hide":
			s.hide = append(s.hide, v)
		case "-cgroup":
			s.cgroups = append(s.cgroups, v)
		case "-tmpsize":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return nil, nil, fmt.Errorf("namespace helper: -tmpsize %s: not a size", v)
			}
			s.tmpSize = n
		default:
			return nil, nil, fmt.Errorf("namespace helper: unknown option %s", args[0])
		}
		args = args[2:]
	}
	if len(args) < 2 || args[0] != "--" {
		return nil, nil, fmt.Errorf("namespace helper: no command")
	}
	return s, args[1:], nil
}

// Init runs the namespace helper when this process was started as one, and
// never returns then. main (and a TestMain that runs builds) calls it first.
// Either way it first marks every descriptor fbs inherited beyond stdin,
// stdout and stderr close-on-exec: a descriptor passed to fbs (fbs build
// 7</) would otherwise pass on to every command of every build, which
// could write the host's / or read a file through it.
func Init() {
	closeInherited()
	if len(os.Args) < 3 || os.Args[1] != helperArg {
		return
	}
	spec, cmd, err := parseHelper(os.Args[2:])
	if err == nil {
		err = spec.run(cmd)
	}
	fmt.Fprintf(os.Stderr, "fbs: %v\n", err)
	os.Exit(127)
}

// Capabilities, the bounding set, no_new_privs and seccomp filters belong
// to a thread, not a process, and the command inherits them from the
// thread that forks it. So the helper does all its work, and starts the
// command, on the one thread its main goroutine is locked to from the
// start, before any other goroutine runs.
func init() {
	if len(os.Args) > 1 && os.Args[1] == helperArg {
		runtime.LockOSThread()
	}
}

// run runs as PID 1 of fresh mount, PID, IPC and UTS namespaces: it joins
// the build's cgroups, keeps its mounts from leaking to the host, confines
// the view of the host, mounts what a root needs, enters the root, drops
// the capabilities a build has no use for, sets no_new_privs and the
// seccomp filter, and starts the command, which then dies with all its
// children when the build is cancelled.
func (s *helperSpec) run(args []string) error {
	for _, cg := range s.cgroups {
		if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte("0"), 0); err != nil {
			return fmt.Errorf("join cgroup %s: %w", cg, err)
		}
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if s.offline {
		if err := loopbackUp(); err != nil {
			return fmt.Errorf("bring up the loopback: %w", err)
		}
	}
	if s.confine {
		if err := confineHost(s.rw, s.ro, s.hide, s.tmpSize, !s.offline); err != nil {
			return err
		}
		// The working dir (a --nochroot %post's: the work dir) was entered
		// before the writable trees were mounted back on top; entered
		// again, it is the writable one.
		if wd, err := os.Getwd(); err == nil {
			os.Chdir(wd)
		}
	}
	dir := "/"
	if s.root != "" {
		dir = s.root
	}
	// A fresh /proc shows the new PID namespace, not the host's processes.
	if err := mountKernelFS(dir, s.confine, s.tmpSize); err != nil {
		return err
	}
	if s.root != "" {
		if err := mountInto(s.root, s.binds); err != nil {
			return err
		}
		if s.rootRO {
			// A read-only root keeps somewhere to write scratch files.
			for _, d := range []string{"tmp", "var/tmp"} {
				p := filepath.Join(s.root, d)
				if st, err := os.Lstat(p); err == nil && st.IsDir() {
					if err := privateTmp(p, s.tmpSize); err != nil {
						return err
					}
				}
			}
		}
		if err := enterRoot(s.root, s.confine, s.rootRO); err != nil {
			return err
		}
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return err
	}
	if s.confine {
		if err := dropCapabilities(); err != nil {
			return err
		}
		if err := loadSeccomp(); err != nil {
			return err
		}
	}
	return initFor(path, args)
}

// initFor runs the command as the namespace's only child and stays its
// init: it reaps what the command leaves orphaned, passes on SIGTERM and
// SIGINT, and exits with the command's status. Staying (rather than
// exec'ing the command) keeps the parent-death signal, which an exec that
// drops capabilities clears: if fbs is killed, this init dies, and with
// it every process of the namespace.
func initFor(path string, args []string) error {
	p, err := os.StartProcess(path, args, &os.ProcAttr{Env: os.Environ(), Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		for sig := range sigs {
			p.Signal(sig)
		}
	}()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for %s: %w", args[0], err)
		}
		if pid != p.Pid {
			continue // an orphan, reaped
		}
		switch {
		case ws.Exited():
			os.Exit(ws.ExitStatus())
		case ws.Signaled():
			os.Exit(128 + int(ws.Signal()))
		}
	}
}

// enterRoot makes root the command's /. Confined, it pivots into it and
// lets go of the host's tree, so no chroot escape leads back to the host;
// readOnly makes the root's own mount read-only, not what is mounted in it.
func enterRoot(root string, pivot, readOnly bool) error {
	if !pivot {
		if err := syscall.Chroot(root); err != nil {
			return fmt.Errorf("chroot %s: %w", root, err)
		}
		return os.Chdir("/")
	}
	if err := syscall.Mount(root, root, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on itself: %w", root, err)
	}
	if readOnly {
		if err := setattr(root, 0, unix.MOUNT_ATTR_RDONLY); err != nil {
			return fmt.Errorf("make %s read-only: %w", root, err)
		}
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	if err := syscall.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", root, err)
	}
	if err := syscall.Unmount(".", syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host's tree: %w", err)
	}
	return os.Chdir("/")
}

// mountInto gives the root a /run of its own and the binds.
func mountInto(root string, binds []string) error {
	if err := mountOn("tmpfs", filepath.Join(root, "run"), "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, runSize); err != nil {
		return err
	}
	for _, b := range binds {
		src, dst, _ := strings.Cut(b, ":")
		dst = filepath.Join(root, dst)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		if err := syscall.Mount(src, dst, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %w", src, dst, err)
		}
	}
	return nil
}

// loopbackUp brings up lo, down in a new network namespace: a command's
// own servers on 127.0.0.1 (a scriptlet's, a test's) work as on a host
// without a network.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
