package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// readOnlyProc are the parts of /proc through which root changes the
// kernel rather than reads it: sysctls (core_pattern, modprobe and
// uevent helpers run programs as the host's root), sysrq, IRQ affinity,
// bus and filesystem settings. As OCI runtimes do, they are read-only.
var readOnlyProc = []string{"sys", "sysrq-trigger", "irq", "bus", "fs"}

// maskedKernel are what runc masks: kernel memory, keys, timers and
// scheduler state of the whole host, firmware tables and power counters
// (a side channel). Files read as empty, directories as empty dirs.
var maskedKernel = []string{
	"proc/acpi", "proc/asound", "proc/interrupts", "proc/kcore", "proc/keys", "proc/latency_stats",
	"proc/timer_list", "proc/timer_stats", "proc/sched_debug", "proc/scsi",
	"sys/firmware", "sys/devices/virtual/powercap",
}

// mountKernelFS mounts a fresh /proc (of the command's PID namespace)
// under dir ("/" or an image root) and, but for an unconfined --nochroot
// command, a read-only /sys and a /dev of its own, with the kernel's knobs
// read-only and its secrets masked; its /dev/shm holds at most tmpSize bytes.
func mountKernelFS(dir string, confine bool, tmpSize int64) error {
	proc := filepath.Join(dir, "proc")
	if err := mountOn("proc", proc, "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return err
	}
	if !confine && dir == "/" {
		return nil // unconfined --nochroot: the host's /sys and /dev as they are
	}
	// The host's sysfs alone (a bind, not recursive; a fresh mount of the
	// same sysfs on /sys is refused as busy), read-only: it leaves out
	// what is mounted within the host's (cgroups, debugfs, tracefs,
	// efivarfs, securityfs…).
	sys := filepath.Join(dir, "sys")
	if err := mountOn("/sys", sys, "", syscall.MS_BIND, ""); err != nil {
		return err
	}
	if err := setattr(sys, 0, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC); err != nil {
		return fmt.Errorf("make %s read-only: %w", sys, err)
	}
	if err := mountDev(filepath.Join(dir, "dev"), tmpSize); err != nil {
		return err
	}
	for _, p := range readOnlyProc {
		p = filepath.Join(proc, p)
		if err := syscall.Mount(p, p, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			if errors.Is(err, syscall.ENOENT) {
				continue
			}
			return fmt.Errorf("bind %s read-only: %w", p, err)
		}
		if err := setattr(p, unix.AT_RECURSIVE, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC); err != nil {
			return fmt.Errorf("make %s read-only: %w", p, err)
		}
	}
	for _, p := range maskedKernel {
		if err := mask(filepath.Join(dir, p), filepath.Join(dir, "dev/null")); err != nil {
			return err
		}
	}
	return nil
}

func mountOn(src, dst, fstype string, flags uintptr, data string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if err := syscall.Mount(src, dst, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", src, dst, err)
	}
	return nil
}

// mask hides p: an empty read-only tmpfs on a directory, null (the
// command's own /dev/null, read-only) on anything else, as runc does. An
// absent p stays absent.
func mask(p, null string) error {
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("mask %s: %w", p, err)
	case st.IsDir():
		err = syscall.Mount("tmpfs", p, "tmpfs", syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "size=0,mode=0555")
	default:
		err = syscall.Mount(null, p, "", syscall.MS_BIND, "")
		if err == nil {
			err = setattr(p, 0, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
		}
	}
	if err != nil {
		return fmt.Errorf("mask %s: %w", p, err)
	}
	return nil
}

// devNodes are the device nodes a build gets: the usual character
// devices, and KVM for QEMU's boot test where the host has it. No disk,
// loop, memory or console device: loop devices are set up by fbs itself,
// outside the sandbox (--disk-limit), never by a build's command.
var devNodes = []devNode{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

type devNode struct {
	name         string
	major, minor uint32
}

// mountDev gives dir a /dev of the command's own: a tmpfs holding only
// devNodes (made here: the command itself may not make device nodes),
// /dev/kvm when the host has one, its own pty instance and a /dev/shm of
// at most shmSize bytes. Everywhere else is nodev.
func mountDev(dir string, shmSize int64) error {
	// KVM is looked for before the tmpfs covers the host's /dev (dir may be /dev).
	nodes := devNodes
	var st syscall.Stat_t
	if syscall.Stat("/dev/kvm", &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFCHR {
		nodes = append(nodes[:len(nodes):len(nodes)], devNode{"kvm", unix.Major(st.Rdev), unix.Minor(st.Rdev)})
	}
	if err := mountOn("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NOEXEC, "size=1m,mode=0755"); err != nil {
		return err
	}
	for _, n := range nodes {
		p := filepath.Join(dir, n.name)
		if err := unix.Mknod(p, syscall.S_IFCHR|0o666, int(unix.Mkdev(n.major, n.minor))); err != nil {
			return fmt.Errorf("make %s: %w", p, err)
		}
		os.Chmod(p, 0o666) // past the umask
	}
	// A pty instance of its own (script(1), expect in scriptlets), not the host's.
	if err := mountOn("devpts", filepath.Join(dir, "pts"), "devpts", syscall.MS_NOSUID|syscall.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return err
	}
	if err := mountOn("tmpfs", filepath.Join(dir, "shm"), "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=1777", shmSize)); err != nil {
		return err
	}
	for link, target := range map[string]string{"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			return err
		}
	}
	return nil
}
