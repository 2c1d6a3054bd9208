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
// writable paths (which are nodev and nosuid too), masks the hidden ones,
// and gives the command a /tmp, a /var/tmp and a /run of its own, each a
// tmpfs of at most tmpSize bytes (/run keeps resolv.conf with resolv:
// privateRun).
func confineHost(writable, readOnly, hidden []string, tmpSize int64, resolv bool) error {
	// The writable trees are cloned as they are (writable) before the
	// host turns read-only, and put back on top afterwards: above the
	// private /tmp too, when they lie in it. The read-only ones are put
	// back first, so that a writable tree within one stays writable.
	clone := func(paths []string) ([]int, error) {
		fds := make([]int, len(paths))
		for i, p := range paths {
			fd, err := unix.OpenTree(unix.AT_FDCWD, p, unix.OPEN_TREE_CLONE|unix.AT_RECURSIVE|unix.OPEN_TREE_CLOEXEC)
			if err != nil {
				return nil, fmt.Errorf("clone %s: %w", p, err)
			}
			fds[i] = fd
		}
		return fds, nil
	}
	clones, err := clone(writable)
	if err != nil {
		return err
	}
	roClones, err := clone(readOnly)
	if err != nil {
		return err
	}
	defer func() {
		for _, fd := range append(clones, roClones...) {
			unix.Close(fd)
		}
	}()
	if err := setattr("/", unix.AT_RECURSIVE, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV); err != nil {
		return fmt.Errorf("make the host read-only: %w", err)
	}
	for _, dir := range []string{"/tmp", "/var/tmp"} {
		if err := privateTmp(dir, tmpSize); err != nil {
			return err
		}
	}
	if err := privateRun(resolv); err != nil {
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
	// nosuid: what a build writes there (an image root's setuid binaries,
	// as rpm installs them) is written with its bits, but gives no
	// privilege when run here. Commands run as root under no_new_privs
	// anyway, so no build step loses anything by it.
	const attrs = unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOSUID
	for i, p := range readOnly {
		if err := putBack(roClones[i], p, attrs|unix.MOUNT_ATTR_RDONLY); err != nil {
			return err
		}
	}
	for i, p := range writable {
		if err := putBack(clones[i], p, attrs); err != nil {
			return err
		}
	}
	return nil
}

// putBack mounts a tree cloned before the host turned read-only at its
// place again (in a private /tmp the dir is made first; elsewhere it is
// there), with the mount attributes attrs on all of it.
func putBack(clone int, p string, attrs uint64) error {
	os.MkdirAll(p, 0o755)
	if err := unix.MoveMount(clone, "", unix.AT_FDCWD, p, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("mount %s back: %w", p, err)
	}
	if err := setattr(p, unix.AT_RECURSIVE, attrs); err != nil {
		return fmt.Errorf("mount attributes of %s: %w", p, err)
	}
	return nil
}

// runSize bounds the private /run: it holds sockets and pid files, no data.
const runSize = "size=64m"

// privateRun gives the command a /run of its own. The host's holds the
// sockets of its services (systemd's, D-Bus's, container runtimes',
// systemd-resolved's beside its resolv.conf): a connection needs neither
// a capability nor a writable mount, and root talking to systemd is root
// on the host. With resolv, /etc/resolv.conf's target is kept, the file
// alone and read-only, when it lies in /run (systemd-resolved,
// NetworkManager), so that a command with the network resolves names.
func privateRun(resolv bool) error {
	keep, fd := "", -1
	if t, err := filepath.EvalSymlinks("/etc/resolv.conf"); resolv && err == nil && strings.HasPrefix(t, "/run/") {
		keep = t
		if fd, err = unix.OpenTree(unix.AT_FDCWD, keep, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC); err != nil {
			return fmt.Errorf("clone %s: %w", keep, err)
		}
		defer unix.Close(fd)
	}
	if err := syscall.Mount("tmpfs", "/run", "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, runSize+",mode=0755"); err != nil {
		return fmt.Errorf("a private /run: %w", err)
	}
	if err := os.Mkdir("/run/lock", 0o1777); err != nil { // /var/lock's target
		return err
	}
	os.Chmod("/run/lock", 0o1777) // past the umask
	if keep == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(keep), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(keep, nil, 0o644); err != nil {
		return err
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, keep, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("keep %s: %w", keep, err)
	}
	return nil
}

// privateTmp gives dir an empty tmpfs of the command's own, of at most
// size bytes. Nothing of the host's shows through: its /tmp holds other
// users' and services' secrets (Kerberos tickets, systemd's PrivateTmp
// dirs). A build's writable paths in it are mounted back on top.
func privateTmp(dir string, size int64) error {
	err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=1777", size))
	if err != nil && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("a private %s: %w", dir, err)
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
// (CAP_DAC_READ_SEARCH), the network's configuration, raw sockets (dnf's
// downloads share the host's network: they would see its traffic) and low
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
