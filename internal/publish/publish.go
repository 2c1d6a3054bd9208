// Package publish puts a finished build's artifacts where the request asks
// (its staging= key): a local folder, an FTP server or an S3 bucket. Every
// published name carries the build's timestamp, an artifact takes its name
// only once complete, and nothing is ever overwritten.
package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"fbs/internal/beneath"
)

// Target is where artifacts go: a local directory, or a remote server.
type Target struct {
	Dir    string // a local directory; "" with no Remote keeps artifacts in the work dir
	Remote Remote // an FTP server or S3 bucket
}

// Parse checks a request's staging= value: file:///DIR, ftp://[user[:pass]@]host[:port]/dir
// (ftps:// for TLS), a bare host (anonymous FTP, as the 2012 service had it),
// or s3://bucket/prefix, reached with s3's settings.
func Parse(staging string, s3 S3Config) (Target, error) {
	if staging == "" {
		return Target{}, nil
	}
	if !strings.Contains(staging, "://") {
		staging = "ftp://" + staging
	}
	u, err := url.Parse(staging)
	if err != nil {
		return Target{}, &Error{Staging: staging, Err: err}
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" || !filepath.IsAbs(u.Path) {
			return Target{}, &Error{Staging: staging, Err: errors.New("a file URL needs an absolute path, as file:///srv/staging")}
		}
		return Target{Dir: filepath.Clean(u.Path)}, nil
	case "ftp", "ftps":
		if u.Hostname() == "" {
			return Target{}, &Error{Staging: staging, Err: errors.New("an FTP target needs a host")}
		}
		return Target{Remote: newFTP(u)}, nil
	case "s3":
		if u.Host == "" {
			return Target{}, &Error{Staging: staging, Err: errors.New("an S3 target needs a bucket, as s3://bucket/prefix")}
		}
		s, err := newS3(u, s3)
		if err != nil {
			return Target{}, &Error{Staging: staging, Err: err}
		}
		return Target{Remote: s}, nil
	}
	return Target{}, &Error{Staging: staging, Err: fmt.Errorf("scheme %q is not a staging target (file, ftp, ftps or s3)", u.Scheme)}
}

// Error is a staging= value fbs cannot use.
type Error struct {
	Staging string
	Err     error
}

func (e *Error) Error() string  { return fmt.Sprintf("staging=%s: %v", e.Staging, e.Err) }
func (e *Error) Unwrap() error  { return e.Err }
func (e *Error) BadInput() bool { return true }

// Put moves (or, across filesystems, copies) src into dir as name, never
// replacing a file there: on a clash it takes name.1, name.2 …. A file only
// appears under its name once complete. It returns the published path. src
// lies in a dir a build may have changed: it is taken only as a regular
// file that is no symlink (see open).
func Put(src, dir, name string) (string, error) {
	dst, err := Copy(src, dir, name)
	if err != nil {
		return "", err
	}
	return dst, os.Remove(src)
}

// Copy publishes src as Put does but leaves src in place (as a hard link to
// the published file where the filesystem allows).
func Copy(src, dir, name string) (string, error) {
	in, err := open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// The very file opened (and checked) is linked, not whatever has its
	// name by now.
	dst, err := linkNew(fdPath(in), dir, name)
	if err == nil {
		return dst, nil
	}
	if !errors.Is(err, syscall.EXDEV) {
		return "", err
	}
	return duplicate(in, dir, name)
}

// Duplicate puts src into dir as name as a copy of its own, never a
// hard link: for a file that must not share its content with what a
// build may write (a shared cache's file going into a work dir).
func Duplicate(src, dir, name string) (string, error) {
	in, err := open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return duplicate(in, dir, name)
}

func duplicate(in *os.File, dir, name string) (string, error) {
	tmp, err := copyTemp(in, dir)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	return linkNew(tmp, dir, name)
}

// open opens a file to publish: its name's last component must not be a
// symlink, nor the file a fifo or device (a %post --nochroot can plant
// those in the work dir); the dir it is in is fbs's.
func open(path string) (*os.File, error) {
	return beneath.Open(filepath.Dir(path), filepath.Base(path))
}

// fdPath names an open file by its descriptor, for link(2) to follow.
func fdPath(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }

// linkNew hard-links src into dir under name or the first free variant of it;
// link(2), unlike rename(2), never replaces an existing file.
func linkNew(src, dir, name string) (string, error) {
	for i := 0; i < 1000; i++ {
		n := name
		if i > 0 {
			n = fmt.Sprintf("%s.%d", name, i)
		}
		dst := filepath.Join(dir, n)
		err := unix.Linkat(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.AT_SYMLINK_FOLLOW)
		if err == nil {
			return dst, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("link %s: %w", n, err)
		}
	}
	return "", fmt.Errorf("link %s: 1000 files of that name in %s", name, dir)
}

func copyTemp(in *os.File, dir string) (string, error) {
	out, err := os.CreateTemp(dir, ".fbs-publish-*")
	if err != nil {
		return "", err
	}
	// io.Copy between files uses copy_file_range: no pass through user space.
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", fmt.Errorf("copy %s to %s: %w", in.Name(), dir, err)
	}
	return out.Name(), nil
}

// SHA256 reads a file through and returns its size and sha256 (hex); the
// file is opened as one to publish is.
func SHA256(path string) (int64, string, error) {
	f, err := open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	return Sum(f)
}

// Sum reads f through and returns its size and sha256 (hex).
func Sum(f *os.File) (int64, string, error) {
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("checksum %s: %w", f.Name(), err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// HumanSize is an artifact's size as people read it: 27.1 MiB, 3.8 KiB, 152 bytes.
func HumanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
