// Package rootcache keeps installed image roots between builds. A root is
// filed under a key made of everything that decides what dnf installs (its
// command line, the repo definitions and each repo's metadata checksum), and
// a build that asks for the same again mounts it read-only under an overlay,
// so its %post, initramfs and squashfs start without a dnf transaction.
// The same cache files earlier root images with their indexes (see
// internal/squashfs.Reuse).
package rootcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Cache is a directory of cached roots.
type Cache struct {
	Dir  string
	Keep int // how many roots to keep; the least recently used go first
}

// Key hashes the parts that decide a root's content.
func Key(parts ...string) string {
	h := sha256.New()
	io.WriteString(h, "fbs-root-v1\n")
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Entry is a cached root in use. Holding it keeps Prune away from it.
type Entry struct {
	Path string
	lock *os.File
}

// Release lets Prune remove the root again.
func (e *Entry) Release() {
	if e != nil && e.lock != nil {
		e.lock.Close()
		e.lock = nil
	}
}

func (c *Cache) path(key string) string { return filepath.Join(c.Dir, key) }

// Get returns the root filed under key, or nil if there is none.
func (c *Cache) Get(key string) (*Entry, error) {
	lock, err := c.lockShared(key)
	if err != nil {
		return nil, err
	}
	p := c.path(key)
	if _, err := os.Stat(p + ".complete"); err != nil {
		lock.Close()
		return nil, nil
	}
	now := time.Now()
	os.Chtimes(p, now, now) // least recently used goes first
	return &Entry{Path: p, lock: lock}, nil
}

// Fill returns a directory for a new root under key; Commit files it.
func (c *Cache) Fill(key string) (string, error) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(c.Dir, key+".tmp-"+strconv.Itoa(os.Getpid())+"-")
}

// Commit files the root installed in tmp (from Fill) under key. If another
// build filed one meanwhile, tmp is removed and that one is used. The
// marker of a complete root lies beside it, not in it, where it would end
// up in the image.
func (c *Cache) Commit(key, tmp string) (*Entry, error) {
	if err := os.Rename(tmp, c.path(key)); err != nil {
		os.RemoveAll(tmp)
		if !errors.Is(err, os.ErrExist) && !errors.Is(err, syscall.ENOTEMPTY) {
			return nil, fmt.Errorf("root cache: %w", err)
		}
	}
	if err := os.WriteFile(c.path(key)+".complete", nil, 0o644); err != nil {
		return nil, err
	}
	e, err := c.Get(key)
	if err == nil && e == nil {
		err = fmt.Errorf("root cache: %s vanished", key)
	}
	return e, err
}

// Put files the root installed at dir under key: moved when the cache is
// on dir's filesystem (moved is then true, and dir gone), else copied.
// dir is in a build's work dir, where a scriptlet may have put a symlink
// in its place: it is taken only as a dir, and what it holds is copied as
// it is (cp -a follows no symlink in it).
func (c *Cache) Put(ctx context.Context, key, dir string) (e *Entry, moved bool, err error) {
	st, err := os.Lstat(dir)
	if err != nil {
		return nil, false, fmt.Errorf("root cache: %w", err)
	}
	if !st.IsDir() {
		return nil, false, fmt.Errorf("root cache: %s is no dir (%s)", dir, st.Mode().Type())
	}
	tmp, err := c.Fill(key)
	if err != nil {
		return nil, false, err
	}
	// rename(2) replaces the empty tmp (os.Rename refuses to replace a dir).
	err = syscall.Rename(dir, tmp)
	moved = err == nil
	if errors.Is(err, syscall.EXDEV) {
		// A copy-on-write clone where the filesystems allow it.
		out, cerr := exec.CommandContext(ctx, "cp", "-a", "--reflink=auto", dir+"/.", tmp).CombinedOutput()
		err = cerr
		if cerr != nil {
			err = fmt.Errorf("cp: %v: %s", cerr, bytes.TrimSpace(out))
		} else {
			err = os.Chmod(tmp, st.Mode().Perm())
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, false, fmt.Errorf("root cache: file %s: %w", key, err)
	}
	e, err = c.Commit(key, tmp)
	return e, moved, err
}

// Keys are the complete entries' keys, the most recently used first.
func (c *Cache) Keys() []string {
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return nil
	}
	type entry struct {
		key  string
		used time.Time
	}
	var found []entry
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".complete")
		if !ok {
			continue
		}
		if info, err := os.Stat(c.path(name)); err == nil && info.IsDir() {
			found = append(found, entry{name, info.ModTime()})
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].used.After(found[j].used) })
	keys := make([]string, len(found))
	for i, e := range found {
		keys[i] = e.key
	}
	return keys
}

func (c *Cache) lockShared(key string) (*os.File, error) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(c.path(key)+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Prune removes the least recently used roots beyond Keep that no build
// holds, and roots left half-filled by processes that are gone. It returns
// what it removed.
func (c *Cache) Prune() []string {
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return nil
	}
	var removed []string
	type root struct {
		key  string
		used time.Time
	}
	var roots []root
	for _, e := range entries {
		name := e.Name()
		switch {
		case !e.IsDir():
		case strings.Contains(name, ".tmp-"):
			pid, _ := strconv.Atoi(strings.SplitN(strings.SplitN(name, ".tmp-", 2)[1], "-", 2)[0])
			if pid > 0 && syscall.Kill(pid, 0) == syscall.ESRCH {
				os.RemoveAll(filepath.Join(c.Dir, name))
				removed = append(removed, name)
			}
		default:
			if info, err := e.Info(); err == nil {
				roots = append(roots, root{name, info.ModTime()})
			}
		}
	}
	sort.Slice(roots, func(i, j int) bool { return roots[i].used.After(roots[j].used) })
	for i := c.Keep; i < len(roots); i++ {
		if c.remove(roots[i].key) {
			removed = append(removed, roots[i].key)
		}
	}
	return removed
}

// remove deletes a root unless a build holds it.
func (c *Cache) remove(key string) bool {
	f, err := os.OpenFile(c.path(key)+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return false
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false
	}
	// Renamed away first, so that no build finds a half-removed root.
	gone := fmt.Sprintf("%s.tmp-%d-removing", c.path(key), os.Getpid())
	if os.Rename(c.path(key), gone) != nil {
		return false
	}
	os.Remove(c.path(key) + ".complete")
	os.RemoveAll(gone)
	os.Remove(c.path(key) + ".lock")
	return true
}
