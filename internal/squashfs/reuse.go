package squashfs

import (
	"bytes"
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

// indexVersion is the version of the index files WriteIndex writes.
// Version 2 came when fragment blocks began to be copied only whole with
// their every tail wanted: an image filed earlier may hold the tails of
// files of the image whose fragment block it copied, other builds' files,
// and is not read again.
const indexVersion = 2

type indexFile struct {
	Version int   `json:"version"`
	Files   Index `json:"files"`
}

// WriteIndex saves an index as JSON.
func WriteIndex(name string, x Index) error {
	b, err := json.Marshal(indexFile{indexVersion, x})
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
	var f indexFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if f.Version != indexVersion {
		return nil, fmt.Errorf("%s: index version %d, not %d", name, f.Version, indexVersion)
	}
	return f.Files, nil
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
				sum, st, err := hashFile(ctx, filepath.Join(root, rel), buf)
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

func hashFile(ctx context.Context, p string, buf []byte) (string, stamp, error) {
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
	// A sparse file's holes are hashed as zeros, not read; the build's
	// cancel or timeout stops the hashing of a terabyte of them.
	if err := copySparse(ctx, nil, f, s, before.Size, buf); err != nil {
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
	Files int // distinct contents in the tree
	// Reused and Compressed are distinct contents, and their bytes,
	// copied from the cached images and compressed anew.
	ReusedN, CompressedN int
	Reused, Compressed   int64
	// Beside are the contents compressed anew though a cached image
	// holds them, their tails being in fragment blocks beside tails of
	// contents the tree lacks: the cost of copying nothing else.
	BesideN int
	Beside  int64
	// Skipped says why cached images were not read.
	Skipped []string
}

// ErrSettings says an earlier image's compressor settings differ from
// those Compress uses now.
var ErrSettings = errors.New("the cached images' compressor settings differ from this build's")

// Write makes the image at out: each file's data copied from a cached
// image that holds the same content, the rest compressed anew by
// Compress from copies in Staging. Nothing but the tree's own contents
// is copied: a fragment block holds the tails of many files, and one
// holding a tail of a content the tree lacks (another build's %post
// may have written a secret there) is not copied; the files whose tails
// are in it are compressed anew.
func (r Reuse) Write(ctx context.Context, out string) (ReuseStats, Index, error) {
	var st ReuseStats
	sizes := map[string]int64{} // the tree's contents
	for rel, sum := range r.Hashes.Sums {
		sizes[sum] = int64(r.Hashes.stamps[rel].size)
	}
	have := map[string]FileData{}
	beside := map[string]bool{}
	for _, c := range r.Cached {
		found, left, err := reusable(c, sizes)
		if err != nil {
			st.Skipped = append(st.Skipped, err.Error())
			continue
		}
		for _, sum := range left {
			beside[sum] = true
		}
		for sum, d := range found {
			if _, ok := have[sum]; !ok {
				have[sum] = FileData{c.Image, d}
			}
		}
	}
	missing := map[string]string{} // sum -> a path with it
	for rel, sum := range r.Hashes.Sums {
		if _, ok := have[sum]; !ok {
			missing[sum] = rel
		}
	}
	st.Files = len(sizes)
	for sum, size := range sizes {
		if _, ok := missing[sum]; ok {
			st.CompressedN++
			st.Compressed += size
			if beside[sum] {
				st.BesideN++
				st.Beside += size
			}
		} else {
			st.ReusedN++
			st.Reused += size
		}
	}
	files := filepath.Join(r.Staging, "files")
	if err := os.Mkdir(files, 0o700); err != nil {
		return st, nil, err
	}
	for sum, rel := range missing {
		if err := copyChecked(ctx, filepath.Join(r.Root, rel), filepath.Join(files, sum), sum, sizes[sum]); err != nil {
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
		if _, ok := missing[name]; !ok {
			return fmt.Errorf("%s: in the staging image, not staged", name)
		}
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

// reusable is where a cached image holds the contents of want that may be
// copied from it. Its index says which content each file has; the image's
// own inodes say where the file's blocks and tail are, and an index entry
// no file of the image has is not taken. A content whose tail is in a
// fragment block that also holds the tail of a content not wanted, or of
// a file the index does not know, is not taken either. An image whose
// files' data lies outside its data area is not read at all. left are
// the contents not taken for a tail beside another.
func reusable(c Cached, want map[string]int64) (found map[string]Data, left []string, err error) {
	im := c.Image
	sums := make(map[string]string, len(c.Index)) // dataKey -> sum
	for sum, d := range c.Index {
		sums[d.key()] = sum
	}
	found = map[string]Data{}
	foreign := map[uint32]bool{} // fragment blocks holding tails not wanted
	err = im.Walk(func(name string, d Data) error {
		if err := im.inDataArea(d); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		sum, known := sums[d.key()]
		if _, wanted := want[sum]; known && wanted {
			found[sum] = d
		} else if d.HasFragment() {
			foreign[d.Fragment] = true
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("squashfs %s: %w", im.Path, err)
	}
	for sum, d := range found {
		if d.HasFragment() && foreign[d.Fragment] {
			delete(found, sum)
			left = append(left, sum)
		}
	}
	return found, left, nil
}

func sameSettings(a, b *Image) bool {
	return a.Super.Compression == b.Super.Compression && a.Super.BlockSize == b.Super.BlockSize &&
		a.Super.Flags&(1<<1|1<<3|flagCompOpts) == b.Super.Flags&(1<<1|1<<3|flagCompOpts) && string(a.compOpts) == string(b.compOpts)
}

// copyChecked copies a file of size bytes to the staging dir and checks
// on the way that its contents are still those hashed. A copy, not a hard
// link: link(2) moves the file's ctime, which says the file changed, and
// the root could write the file through its own name after the check.
// Holes stay holes (a sparse file of a terabyte would fill the disk), and
// no more than size bytes are copied.
func copyChecked(ctx context.Context, from, to, sum string, size int64) error {
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
	if err := copySparse(ctx, out, in, h, size, make([]byte, 1<<20)); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", from, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != sum {
		out.Close()
		return fmt.Errorf("%s changed while the image was made", from)
	}
	return out.Close()
}

// copySparse copies the first size bytes of in to out (if not nil), and
// to h: the data where SEEK_DATA finds it, and within it each block of
// zeros skipped; holes are hashed as zeros and left holes in out.
func copySparse(ctx context.Context, out, in *os.File, h io.Writer, size int64, buf []byte) error {
	zeros := make([]byte, len(buf))
	hashZeros := func(n int64) error {
		for n > 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			k := min(n, int64(len(zeros)))
			h.Write(zeros[:k])
			n -= k
		}
		return nil
	}
	for pos := int64(0); pos < size; {
		data, err := unix.Seek(int(in.Fd()), pos, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) { // no data after pos: a hole to the end
			data = size
		} else if err != nil {
			return fmt.Errorf("seek: %w", err)
		}
		data = min(data, size)
		if err := hashZeros(data - pos); err != nil {
			return err
		}
		pos = data
		if pos == size {
			break
		}
		hole, err := unix.Seek(int(in.Fd()), pos, unix.SEEK_HOLE)
		if err != nil {
			return fmt.Errorf("seek: %w", err)
		}
		for end := min(hole, size); pos < end; {
			if err := ctx.Err(); err != nil {
				return err
			}
			n, err := in.ReadAt(buf[:min(int64(len(buf)), end-pos)], pos)
			if n == 0 && err != nil {
				return err
			}
			h.Write(buf[:n])
			if out != nil && !bytes.Equal(buf[:n], zeros[:n]) {
				if _, err := out.WriteAt(buf[:n], pos); err != nil {
					return err
				}
			}
			pos += int64(n)
		}
	}
	if out == nil {
		return nil
	}
	// The file's length, its trailing hole included.
	return out.Truncate(size)
}

// ctxReader reads until its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
