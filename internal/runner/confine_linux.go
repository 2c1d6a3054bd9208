package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// confineHost makes the host's tree read-only and nodev but for the
// writable paths (which are nodev too), masks the hidden ones, and gives
// the command a /tmp and a /run of its own.
func confineHost(writable, hidden []string) error {
	// The writable trees are cloned as they are (writable) before the
	// host turns read-only, and put back on top afterwards: above the
	// private /tmp too, when they lie in it.
	clones := make([]int, len(writable))
	for i, p := range writable {
		fd, err := unix.OpenTree(unix.AT_FDCWD, p, unix.OPEN_TREE_CLONE|unix.AT_RECURSIVE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return fmt.Errorf("clone %s: %w", p, err)
		}
		defer unix.Close(fd)
		clones[i] = fd
	}
	tmps := map[string]int{}
	for _, dir := range []string{"/tmp", "/var/tmp"} {
		fd, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err == nil {
			defer unix.Close(fd)
			tmps[dir] = fd
		}
	}
	if err := setattr("/", unix.AT_RECURSIVE, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV); err != nil {
		return fmt.Errorf("make the host read-only: %w", err)
	}
	for _, dir := range []string{"/tmp", "/var/tmp"} {
		if err := privateTmp(dir, tmps[dir]); err != nil {
			return err
		}
	}
	if err := privateRun(); err != nil {
		return err
	}
	for _, p := range hidden {
		st, err := os.Stat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil:
			return err
		case st.IsDir():
			// Read-only once the writable paths within have their mount points.
			err = syscall.Mount("tmpfs", p, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "size=64k,mode=0755")
			defer setattr(p, 0, unix.MOUNT_ATTR_RDONLY)
		default:
			err = syscall.Mount("/dev/null", p, "", syscall.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("hide %s: %w", p, err)
		}
	}
	for i, p := range writable {
		os.MkdirAll(p, 0o755) // in a private /tmp; elsewhere it is there
		if err := unix.MoveMount(clones[i], "", unix.AT_FDCWD, p, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("make %s writable: %w", p, err)
		}
		if err := setattr(p, unix.AT_RECURSIVE, unix.MOUNT_ATTR_NODEV); err != nil {
			return fmt.Errorf("make %s nodev: %w", p, err)
		}
	}
	return nil
}

// privateRun gives the command a /run of its own. The host's holds the
// sockets of its services (systemd's, D-Bus's, container runtimes'): a
// connection needs neither a capability nor a writable mount, and root
// talking to systemd is root on the host. Only the directory of
// /etc/resolv.conf's target is kept, read-only, when it lies in /run
// (systemd-resolved, NetworkManager), so that names still resolve.
func privateRun() error {
	keep, fd := "", -1
	if t, err := filepath.EvalSymlinks("/etc/resolv.conf"); err == nil && strings.HasPrefix(t, "/run/") {
		keep = filepath.Dir(t)
		if fd, err = unix.OpenTree(unix.AT_FDCWD, keep, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC); err != nil {
			return fmt.Errorf("clone %s: %w", keep, err)
		}
		defer unix.Close(fd)
	}
	if err := syscall.Mount("tmpfs", "/run", "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "mode=0755"); err != nil {
		return fmt.Errorf("a private /run: %w", err)
	}
	if err := os.Mkdir("/run/lock", 0o1777); err != nil { // /var/lock's target
		return err
	}
	os.Chmod("/run/lock", 0o1777) // past the umask
	if keep == "" {
		return nil
	}
	if err := os.MkdirAll(keep, 0o755); err != nil {
		return err
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, keep, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("keep %s: %w", keep, err)
	}
	return nil
}

// privateTmp gives dir a tmpfs of the command's own. With lower (a clone
// of the host's dir, or 0), the host's files show through it read-only by
// an overlay, so that repos and tools kept in /tmp still serve a build,
// while what the command writes stays in its tmpfs.
func privateTmp(dir string, lower int) error {
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=1777"); err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return nil
		}
		return fmt.Errorf("a private %s: %w", dir, err)
	}
	if lower == 0 {
		return nil
	}
	l, u, w := dir+"/.fbs-lower", dir+"/.fbs-upper", dir+"/.fbs-work"
	for _, d := range []string{l, u, w} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	os.Chmod(u, 0o1777)
	if err := unix.MoveMount(lower, "", unix.AT_FDCWD, l, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("a private %s: %w", dir, err)
	}
	opts := "lowerdir=" + l + ",upperdir=" + u + ",workdir=" + w
	if err := syscall.Mount("overlay", dir, "overlay", syscall.MS_NOSUID|syscall.MS_NODEV, opts); err != nil {
		// The host's files are then not seen; the command still has a /tmp.
		fmt.Fprintf(os.Stderr, "fbs: %s: the host's files are not seen (overlay: %v)\n", dir, err)
	}
	return nil
}

// setattr sets mount attributes on the mount at path (flags 0) or on the
// whole tree there (unix.AT_RECURSIVE).
func setattr(path string, flags int, set uint64) error {
	err := unix.MountSetattr(unix.AT_FDCWD, path, uint(flags), &unix.MountAttr{Attr_set: set})
	if errors.Is(err, syscall.ENOSYS) {
		return fmt.Errorf("%w (confinement needs Linux 5.12 or later)", err)
	}
	return err
}

// keptCapabilities are what building an image root needs: owning and
// moding files as packages say, rpm's chroot for scriptlets, file
// capabilities, setuid for useradd's kin, signals within the build.
// Gone are those that would undo the confinement or reach the host:
// mounting (CAP_SYS_ADMIN), modules, raw I/O, ptrace, open_by_handle_at
// (CAP_DAC_READ_SEARCH), the network's configuration, raw sockets (the
// build shares the host's network: they would see its traffic) and low
// ports, the clock, reboot, and device nodes (CAP_MKNOD: no Fedora
// package ships one, and dracut goes on without its five, which the
// kernel provides at boot).
var keptCapabilities = []int{
	unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_FOWNER, unix.CAP_FSETID, unix.CAP_KILL,
	unix.CAP_SETGID, unix.CAP_SETUID, unix.CAP_SETPCAP, unix.CAP_SYS_CHROOT, unix.CAP_AUDIT_WRITE, unix.CAP_SETFCAP,
}

// dropCapabilities takes every other capability out of the bounding,
// inheritable and ambient sets of this thread, so the command, started
// from it, execs without them.
func dropCapabilities() error {
	keep := map[int]bool{}
	for _, c := range keptCapabilities {
		keep[c] = true
	}
	for c := 0; c <= unix.CAP_LAST_CAP; c++ {
		if keep[c] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, syscall.EINVAL) {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	for i := range data {
		data[i].Inheritable = 0
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	return nil
}
