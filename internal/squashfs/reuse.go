package squashfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Index is where each distinct file content (by its sha256) lies in one
// image.
type Index map[string]Data

// WriteIndex saves an index as JSON.
func WriteIndex(name string, x Index) error {
	b, err := json.Marshal(x)
	if err != nil {
		return err
	}
	return os.WriteFile(name, b, 0o644)
}

// ReadIndex loads an index WriteIndex saved.
func ReadIndex(name string) (Index, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var x Index
	return x, json.Unmarshal(b, &x)
}

// Hashes are a tree's regular files' contents: path (no leading slash)
// -> sha256, hex; and what each file's inode said when it was read, to
// tell whether it has changed since.
type Hashes struct {
	Sums   map[string]string
	stamps map[string]stamp
}

// stamp changes whenever a file's contents do: a write moves its ctime,
// which no one can set back.
type stamp struct {
	ino, size    uint64
	mtime, ctime unix.Timespec
}

func stampOf(st *unix.Stat_t) stamp {
	return stamp{st.Ino, uint64(st.Size), st.Mtim, st.Ctim}
}

// Unchanged says which file, if any, is not as it was when hashed: an
// index made of a tree that changed while it was compressed might name
// blocks of other contents than it says.
func (h Hashes) Unchanged(root string) error {
	for rel, was := range h.stamps {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, rel), &st); err != nil {
			return err
		}
		if stampOf(&st) != was {
			return fmt.Errorf("%s changed while the image was made", rel)
		}
	}
	return nil
}

// HashTree reads every regular file in the tree at root with procs
// readers; progress hears the bytes read so far.
func HashTree(ctx context.Context, root string, procs int, progress func(int64)) (Hashes, error) {
	jobs := make(chan string, 256)
	var mu sync.Mutex
	var done atomic.Int64
	h := Hashes{Sums: map[string]string{}, stamps: map[string]stamp{}}
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for range max(procs, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			for rel := range jobs {
				sum, st, err := hashFile(filepath.Join(root, rel), buf)
				if err != nil {
					fail(err)
					continue
				}
				if progress != nil {
					progress(done.Add(int64(st.size)))
				}
				mu.Lock()
				h.Sums[rel], h.stamps[rel] = sum, st
				mu.Unlock()
			}
		}()
	}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			jobs <- rel
		}
		return nil
	})
	close(jobs)
	wg.Wait()
	if err == nil {
		err = firstErr
	}
	return h, err
}

func hashFile(p string, buf []byte) (string, stamp, error) {
	// Not followed: the walk saw a regular file, and a symlink put in
	// its place since is not read through (nor a fifo waited on).
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return "", stamp{}, err
	}
	defer f.Close()
	var before, after unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &before); err != nil {
		return "", stamp{}, err
	}
	if before.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", stamp{}, fmt.Errorf("%s is no longer a regular file", p)
	}
	s := sha256.New()
	if _, err := io.CopyBuffer(s, f, buf); err != nil {
		return "", stamp{}, fmt.Errorf("read %s: %w", p, err)
	}
	if err := unix.Fstat(int(f.Fd()), &after); err != nil {
		return "", stamp{}, err
	}
	if stampOf(&before) != stampOf(&after) {
		return "", stamp{}, fmt.Errorf("%s changed while it was read", p)
	}
	return hex.EncodeToString(s.Sum(nil)), stampOf(&before), nil
}

// IndexOf makes the index of an image of a tree whose files' hashes are h.
func IndexOf(im *Image, h Hashes) (Index, error) {
	x := Index{}
	err := im.Walk(func(name string, d Data) error {
		sum, ok := h.Sums[name]
		if !ok {
			return fmt.Errorf("%s: in the image, not in the tree", name)
		}
		if _, dup := x[sum]; !dup {
			x[sum] = d
		}
		return nil
	})
	return x, err
}

// Cached is an earlier image and its index.
type Cached struct {
	Image *Image
	Index Index
}

// Reuse is how an image is made from the data of earlier ones.
type Reuse struct {
	Root   string
	Hashes Hashes // Root's files
	Cached []Cached
	// Staging is an empty directory for copies of the files no cached
	// image holds, and their image.
	Staging string
	// Compress makes an image of a directory with the compressor
	// settings of the cached images (mksquashfs).
	Compress func(ctx context.Context, dir, out string) error
	MkfsTime time.Time
}

// ReuseStats are what Reuse took from where.
type ReuseStats struct {
	Stats
	Files                int   // distinct contents in the tree
	Reused, Compressed   int64 // bytes of file content
	ReusedN, CompressedN int
}

// ErrSettings says an earlier image's compressor settings differ from
// those Compress uses now.
var ErrSettings = errors.New("the cached images' compressor settings differ from this build's")

// Write makes the image at out: each file's data copied from a cached
// image that holds the same content, the rest compressed anew by
// Compress from copies in Staging.
func (r Reuse) Write(ctx context.Context, out string) (ReuseStats, Index, error) {
	var st ReuseStats
	have := map[string]FileData{}
	for _, c := range r.Cached {
		for sum, d := range c.Index {
			if _, ok := have[sum]; !ok {
				have[sum] = FileData{c.Image, d}
			}
		}
	}
	missing := map[string]string{} // sum -> a path with it
	distinct := map[string]bool{}
	for rel, sum := range r.Hashes.Sums {
		distinct[sum] = true
		size := int64(r.Hashes.stamps[rel].size)
		if _, ok := have[sum]; ok {
			st.Reused += size
			st.ReusedN++
		} else if _, ok := missing[sum]; !ok {
			missing[sum] = rel
			st.Compressed += size
			st.CompressedN++
		}
	}
	st.Files = len(distinct)
	files := filepath.Join(r.Staging, "files")
	if err := os.Mkdir(files, 0o700); err != nil {
		return st, nil, err
	}
	for sum, rel := range missing {
		if err := copyChecked(filepath.Join(r.Root, rel), filepath.Join(files, sum), sum); err != nil {
			return st, nil, err
		}
	}
	fresh := filepath.Join(r.Staging, "new.img")
	if err := r.Compress(ctx, files, fresh); err != nil {
		return st, nil, err
	}
	im, err := Open(fresh)
	if err != nil {
		return st, nil, err
	}
	defer im.Close()
	for _, c := range r.Cached {
		if !sameSettings(c.Image, im) {
			return st, nil, fmt.Errorf("%w (%s)", ErrSettings, c.Image.Path)
		}
	}
	if err := im.Walk(func(name string, d Data) error {
		have[name] = FileData{im, d}
		return nil
	}); err != nil {
		return st, nil, err
	}
	st.Stats, err = Write(ctx, r.Root, out, Options{Like: im, MkfsTime: r.MkfsTime, Data: func(name string) (FileData, error) {
		fd, ok := have[r.Hashes.Sums[name]]
		if !ok {
			return fd, fmt.Errorf("%s: changed while the image was made", name)
		}
		return fd, nil
	}})
	if err != nil {
		return st, nil, err
	}
	made, err := Open(out)
	if err != nil {
		return st, nil, err
	}
	defer made.Close()
	x, err := IndexOf(made, r.Hashes)
	return st, x, err
}

func sameSettings(a, b *Image) bool {
	return a.Super.Compression == b.Super.Compression && a.Super.BlockSize == b.Super.BlockSize &&
		a.Super.Flags&(1<<1|1<<3|flagCompOpts) == b.Super.Flags&(1<<1|1<<3|flagCompOpts) && string(a.compOpts) == string(b.compOpts)
}

// copyChecked copies a file to the staging dir and checks on the way
// that its contents are still those hashed. A copy, not a hard link:
// link(2) moves the file's ctime, which says the file changed, and the
// root could write the file through its own name after the check.
func copyChecked(from, to, sum string) error {
	in, err := os.OpenFile(from, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", from, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != sum {
		out.Close()
		return fmt.Errorf("%s changed while the image was made", from)
	}
	return out.Close()
}
