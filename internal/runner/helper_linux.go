package runner

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// helperArg is the hidden first argument with which fbs re-executes itself
// as the namespace helper: "fbs __fbs_ns ROOT [SRC:DST…] -- CMD ARGS…".
// ROOT may be empty (a sandboxed command on the host filesystem); each
// SRC:DST bind-mounts a host directory into the root.
const helperArg = "__fbs_ns"

// Init runs the namespace helper when this process was started as one, and
// never returns then. main (and a TestMain that runs builds) calls it first.
func Init() {
	if len(os.Args) < 4 || os.Args[1] != helperArg {
		return
	}
	sep := slices.Index(os.Args, "--")
	if sep < 3 {
		return
	}
	if err := helper(os.Args[2], os.Args[3:sep], os.Args[sep+1:]); err != nil {
		fmt.Fprintf(os.Stderr, "fbs: %v\n", err)
		os.Exit(127)
	}
}

// helper runs as PID 1 of fresh mount and PID namespaces: it keeps its
// mounts from leaking to the host, mounts what a root needs, chroots, and
// execs the command, which then dies with all its children when the build
// is cancelled.
func helper(root string, binds, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("namespace helper: no command")
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if root != "" {
		if err := mountInto(root, binds); err != nil {
			return err
		}
		if err := syscall.Chroot(root); err != nil {
			return fmt.Errorf("chroot %s: %w", root, err)
		}
		if err := os.Chdir("/"); err != nil {
			return err
		}
	} else if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		// A fresh /proc shows the new PID namespace, not the host's processes.
		return fmt.Errorf("mount /proc: %w", err)
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return err
	}
	return syscall.Exec(path, args, os.Environ())
}

func mountInto(root string, binds []string) error {
	mounts := []struct {
		src, dst, fstype string
		flags            uintptr
	}{
		{"proc", "proc", "proc", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC},
		{"sysfs", "sys", "sysfs", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC | syscall.MS_RDONLY},
		{"/dev", "dev", "", syscall.MS_BIND | syscall.MS_REC},
		{"tmpfs", "run", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV},
	}
	for _, m := range mounts {
		dst := filepath.Join(root, m.dst)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		if err := syscall.Mount(m.src, dst, m.fstype, m.flags, ""); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.src, dst, err)
		}
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
