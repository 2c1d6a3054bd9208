package runner

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// tryArg makes this test binary the confinement tests' attacker:
// "runner.test __fbs_try NAME…" makes each system call of tries and
// prints "NAME: ok" or "NAME: ERRNO".
const tryArg = "__fbs_try"

// A try is one system call a confined command attempts, and its wanted
// outcome. Where the call would be refused anyway for want of a
// capability, its arguments are such that, let through, it would fail
// otherwise (EINVAL, EFAULT…) or do nothing: EPERM is then the filter's.
type try struct {
	call func() error
	want string
}

func raw(nr uintptr, args ...uintptr) func() error {
	a := make([]uintptr, 6)
	copy(a, args)
	return func() error {
		if _, _, e := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]); e != 0 {
			return e
		}
		return nil
	}
}

var tries = map[string]try{
	"kexec_load":        {raw(unix.SYS_KEXEC_LOAD, 0, 1<<20, 0, 0), "EPERM"},
	"finit_module":      {raw(unix.SYS_FINIT_MODULE, ^uintptr(0), 0, 0), "EPERM"},
	"bpf":               {raw(unix.SYS_BPF, 0, 0, 0), "EPERM"},
	"perf_event_open":   {raw(unix.SYS_PERF_EVENT_OPEN, 0, 0, ^uintptr(0), ^uintptr(0), 0), "EPERM"},
	"open_by_handle_at": {raw(unix.SYS_OPEN_BY_HANDLE_AT, ^uintptr(0), 0, 0), "EPERM"},
	"add_key": {func() error {
		_, err := unix.AddKey("user", "fbs-try", []byte("x"), unix.KEY_SPEC_PROCESS_KEYRING)
		return err
	}, "EPERM"},
	"keyctl": {func() error {
		_, err := unix.KeyctlJoinSessionKeyring("fbs-try")
		return err
	}, "EPERM"},
	"reboot":  {raw(unix.SYS_REBOOT, 0, 0, 0, 0), "EPERM"},
	"swapon":  {raw(unix.SYS_SWAPON, 0, 0), "EPERM"},
	"mount":   {func() error { return unix.Mount("none", "/tmp", "tmpfs", 0, "") }, "EPERM"},
	"umount2": {func() error { return unix.Unmount("/proc/kcore", unix.MNT_DETACH) }, "EPERM"},
	"open_tree": {func() error {
		_, err := unix.OpenTree(unix.AT_FDCWD, "/", unix.OPEN_TREE_CLONE)
		return err
	}, "EPERM"},
	"setns": {func() error {
		fd, err := unix.Open("/proc/self/ns/uts", unix.O_RDONLY, 0)
		if err != nil {
			return err
		}
		return unix.Setns(fd, 0)
	}, "EPERM"},
	"unshare a user namespace": {func() error { return unix.Unshare(unix.CLONE_NEWUSER) }, "EPERM"},
	"clone a user namespace": {func() error {
		c := exec.Command("/bin/true")
		c.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER}
		return errnoOf(c.Run())
	}, "EPERM"},
	"clone3":            {raw(unix.SYS_CLONE3, 0, 0), "ENOSYS"},
	"ptrace":            {raw(unix.SYS_PTRACE, unix.PTRACE_PEEKUSR, ^uintptr(0), 0, 0), "EPERM"},
	"process_vm_readv":  {raw(unix.SYS_PROCESS_VM_READV, uintptr(os.Getpid()), 0, 0, 0, 0, 0), "EPERM"},
	"userfaultfd":       {raw(unix.SYS_USERFAULTFD, 1 /* UFFD_USER_MODE_ONLY */), "EPERM"},
	"clock_settime":     {raw(unix.SYS_CLOCK_SETTIME, 1000, 0), "EPERM"},
	"settimeofday":      {raw(unix.SYS_SETTIMEOFDAY, 0, 0), "EPERM"},
	"adjtimex":          {func() error { _, err := unix.Adjtimex(&unix.Timex{}); return err }, "EPERM"},
	"acct":              {raw(unix.SYS_ACCT, 0), "EPERM"},
	"quotactl":          {raw(unix.SYS_QUOTACTL, 0, 0, 0, 0), "EPERM"},
	"syslog":            {raw(unix.SYS_SYSLOG, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, 0, 0), "EPERM"},
	"io_uring_setup":    {raw(unix.SYS_IO_URING_SETUP, 0, 0), "EPERM"},
	"mknod":             {func() error { return unix.Mknod("/tmp/fbs-try-null", unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))) }, "EPERM"},
	"odd personality":   {raw(unix.SYS_PERSONALITY, 0x0040000 /* ADDR_NO_RANDOMIZE */), "EPERM"},
	"personality query": {raw(unix.SYS_PERSONALITY, 0xffffffff), "ok"},
	"fork and exec":     {func() error { return errnoOf(exec.Command("/bin/true").Run()) }, "ok"},
	"chroot":            {func() error { return unix.Chroot("/") }, "ok"},
	"chown":             {func() error { return unix.Chown("/tmp", 0, 0) }, "ok"},
	"fifo":              {func() error { return unix.Mkfifo("/tmp/fbs-try-fifo", 0o600) }, "ok"},
	"vsock socket": {func() error {
		fd, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM, 0)
		unix.Close(fd)
		return err
	}, "EAFNOSUPPORT"},
	"vsock socket, high bits": {raw(unix.SYS_SOCKET, 1<<32|unix.AF_VSOCK, unix.SOCK_STREAM, 0), "EAFNOSUPPORT"},
	"inet socket": {func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		unix.Close(fd)
		return err
	}, "ok"},
}

// netTries reach for the host from a command; what they should get
// depends on its Network (TestConfinedNetwork). The host's addresses come
// from the environment.
var netTries = map[string]func() error{
	"host loopback":        func() error { return dial("tcp", "127.0.0.1:"+os.Getenv("FBS_TRY_PORT")) },
	"host abstract socket": func() error { return dial("unix", "@"+os.Getenv("FBS_TRY_ABSTRACT")) },
	"own loopback": func() error {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		return dial("tcp", l.Addr().String())
	},
}

func dial(network, addr string) error {
	c, err := net.Dial(network, addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// errnoOf is err's errno, if it has one.
func errnoOf(err error) error {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return err
}

// tryMain runs the tries named in its arguments when this process was
// started as the attacker, and exits.
func tryMain() {
	if len(os.Args) < 2 || os.Args[1] != tryArg {
		return
	}
	for _, name := range os.Args[2:] {
		call, ok := netTries[name]
		if t, found := tries[name]; found {
			call, ok = t.call, true
		}
		result := "unknown"
		if ok {
			result = "ok"
			if err := call(); err != nil {
				result = err.Error()
				var e syscall.Errno
				if errors.As(err, &e) {
					result = unix.ErrnoName(e)
				}
			}
		}
		fmt.Printf("%s: %s\n", name, result)
	}
	os.Exit(0)
}
