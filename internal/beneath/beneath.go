// Package beneath opens files in a tree that a build's own code may have
// changed (its work dir, its image root), as fbs itself, outside the
// build's sandbox. A %post --nochroot or an rpm scriptlet can plant a
// symlink, a fifo or a device node there under a name fbs is going to
// open, so every open here resolves the name below the tree's dir with
// openat2(2): no symlink is followed in any component (RESOLVE_NO_SYMLINKS;
// os.Root would follow those that stay inside the tree), no ".." leads out
// of it (RESOLVE_BENEATH), and only regular files are taken. The dir
// itself is fbs's (a work dir it made), and is resolved as usual.
package beneath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrNotRegular is a name that is not a plain file (a fifo, a device, a
// dir), or a file with more than one name where only one will do.
var ErrNotRegular = errors.New("not a regular file of its own")

const noSymlinks = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// Open opens name, relative to dir, for reading.
func Open(dir, name string) (*os.File, error) {
	return open(dir, name, noSymlinks, false)
}

// OpenSole opens name as Open does, and refuses a file with another hard
// link: one that a build's code linked to a file fbs should not hand out.
func OpenSole(dir, name string) (*os.File, error) {
	return open(dir, name, noSymlinks, true)
}

// OpenInRoot opens name in an image root for reading, resolving its
// symlinks as the image will (an absolute one from root, as /lib ->
// usr/lib), so that none leads out of it.
func OpenInRoot(root, name string) (*os.File, error) {
	return open(root, name, unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_MAGICLINKS, false)
}

func open(dir, name string, resolve uint64, sole bool) (*os.File, error) {
	path := filepath.Join(dir, name)
	d, err := openDir(dir, ".")
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(d)
	// O_NONBLOCK: opening a fifo must not wait for a writer.
	fd, err := openat2(d, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0, resolve)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || sole && st.Nlink != 1 {
		unix.Close(fd)
		return nil, &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (mode %#o, %d links)", ErrNotRegular, st.Mode, st.Nlink)}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// WriteFile writes data to name below dir as a new file, replacing
// whatever file or symlink had that name (never writing through it).
func WriteFile(dir, name string, data []byte, perm os.FileMode) error {
	path := filepath.Join(dir, name)
	d, err := openDir(dir, filepath.Dir(name))
	if err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	defer unix.Close(d)
	base := filepath.Base(name)
	if err := unix.Unlinkat(d, base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return &os.PathError{Op: "replace", Path: path, Err: err}
	}
	fd, err := openat2(d, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, uint32(perm.Perm()), noSymlinks)
	if err != nil {
		return &os.PathError{Op: "create", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// MkdirAll makes the dir name below dir and its parents, refusing any
// component that is a symlink or no dir.
func MkdirAll(dir, name string, perm os.FileMode) error {
	d, err := openDir(dir, ".")
	if err != nil {
		return &os.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	defer func() { unix.Close(d) }()
	done := dir
	for _, c := range splitPath(name) {
		done = filepath.Join(done, c)
		if err := unix.Mkdirat(d, c, uint32(perm.Perm())); err != nil && !errors.Is(err, unix.EEXIST) {
			return &os.PathError{Op: "mkdir", Path: done, Err: err}
		}
		next, err := openat2(d, c, unix.O_PATH|unix.O_DIRECTORY, 0, noSymlinks)
		if err != nil {
			return &os.PathError{Op: "mkdir", Path: done, Err: err}
		}
		unix.Close(d)
		d = next
	}
	return nil
}

// Remove removes the file (or empty dir) name below dir; a symlink is
// removed, not what it points at.
func Remove(dir, name string) error {
	d, err := openDir(dir, filepath.Dir(name))
	if err != nil {
		return &os.PathError{Op: "remove", Path: filepath.Join(dir, name), Err: err}
	}
	defer unix.Close(d)
	err = unix.Unlinkat(d, filepath.Base(name), 0)
	if errors.Is(err, unix.EISDIR) {
		err = unix.Unlinkat(d, filepath.Base(name), unix.AT_REMOVEDIR)
	}
	if err != nil {
		return &os.PathError{Op: "remove", Path: filepath.Join(dir, name), Err: err}
	}
	return nil
}

// openDir opens dir's subdir name (".": dir itself) as an O_PATH handle.
func openDir(dir, name string) (int, error) {
	d, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil || name == "." {
		return d, err
	}
	defer unix.Close(d)
	return openat2(d, name, unix.O_PATH|unix.O_DIRECTORY, 0, noSymlinks)
}

func openat2(dirfd int, name string, flags int, mode uint32, resolve uint64) (int, error) {
	how := &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(mode), Resolve: resolve}
	for {
		fd, err := unix.Openat2(dirfd, name, how)
		// EAGAIN: a rename elsewhere raced the lookup, which the kernel
		// then refuses rather than risk an escape; looked up again.
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
			continue
		}
		return fd, err
	}
}

func splitPath(name string) []string {
	var parts []string
	for name = filepath.Clean(name); name != "." && name != "/"; name = filepath.Dir(name) {
		parts = append([]string{filepath.Base(name)}, parts...)
	}
	return parts
}
