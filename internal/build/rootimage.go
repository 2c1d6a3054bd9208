package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"fbs/internal/beneath"
	"fbs/internal/hosttool"
	"fbs/internal/image"
	"fbs/internal/rootcache"
	"fbs/internal/runner"
	"fbs/internal/spec"
	"fbs/internal/squashfs"
)

var squashProgress = regexp.MustCompile(`\]\s+(\d+)/(\d+)\s+\d+%\s*$`)

// rootImageTool is the program that writes each root image filesystem.
var rootImageTool = map[string]string{"squashfs": "mksquashfs", "erofs": "mkfs.erofs"}

// compressRoot writes the root's image, squashfs or EROFS, to
// parts/root.img; the stage is named after the filesystem.
func (b *build) compressRoot(ctx context.Context) (string, error) {
	root, out := b.root, filepath.Join(b.parts(), "root.img")
	if _, err := os.Lstat(filepath.Join(root, "LiveOS")); err == nil {
		return "", fmt.Errorf("the root has a top-level /LiveOS, which would make dracut take the root image for an old-style rootfs.img container; remove it in %%post")
	}
	pkgs, err := b.packages(ctx)
	if err != nil {
		return "", err
	}
	b.pkgs = pkgs
	fs, comp := b.req.RootFS(), b.req.Compression()
	setting := image.Compressor(fs, comp)
	how := image.DescribeCompressor(setting)
	if comp == "fast" {
		how += " (compression=fast)"
	}
	procs := b.opts.Procs
	if fs == "erofs" {
		if err := checkErofs(ctx, setting); err != nil {
			return "", err
		}
		procs = 1 // mkfs.erofs 1.5 compresses on one core
	}
	args := image.RootImageArgs(fs, root, out, comp, b.req.Arch, b.opts.Procs)
	args[0] = hosttool.Path(rootImageTool[fs])
	b.log.Printf("%s: %s compression on %d processors", fs, how, procs)
	if why := noReuse(fs, args, b.opts.RootCache); why != "" {
		b.log.Printf("%s: the whole root is compressed: %s", fs, why)
	} else {
		note, err := b.reuseImages(ctx, args)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s, %s, %s", how, note, sizeOf(out)), nil
	}
	if err := b.runImageTool(ctx, fs, args); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s, %s", how, sizeOf(out)), nil
}

// runImageTool runs mksquashfs or mkfs.erofs (args) on the tree args[1].
func (b *build) runImageTool(ctx context.Context, fs string, args []string) error {
	// mksquashfs's own progress bar reaches a pipe only at its end (stdio
	// buffering), and mkfs.erofs is quiet, so progress is what the tool
	// has read of the tree so far.
	total := make(chan int64, 1)
	go func() { total <- treeSize(args[1]) }()
	return b.run.Run(ctx, runner.Cmd{Args: args,
		OnLine: func(line string) bool { return squashProgress.MatchString(line) },
		Watch: func(pid int, done <-chan struct{}) {
			var size int64
			tick := time.NewTicker(250 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case size = <-total:
				case <-tick.C:
					if read := bytesRead(pid); size > 0 && read > 0 {
						b.opts.Reporter.StageProgress(fs, "MiB read", int(min(read, size)>>20), int(size>>20))
					}
				}
			}
		}})
}

// noReuse says why a root image cannot be made from earlier images'
// blocks, or "" when it can.
func noReuse(fs string, args []string, rootCache int) string {
	switch {
	case fs != "squashfs":
		return "only squashfs images are made from earlier images' blocks"
	case rootCache <= 0:
		return "the root cache, which keeps earlier images too, is off"
	}
	if comp := args[slices.Index(args, "-comp")+1]; !squashfs.Supported(comp) {
		return fmt.Sprintf("earlier images' blocks are reused with gzip, xz and zstd, not %s", comp)
	}
	return ""
}

// reuseImages makes the squashfs image mksquashfs's args ask for from the
// compressed blocks of earlier images of the same compressor settings,
// where a file's content is in one, and mksquashfs's image of the rest
// (see squashfs.Reuse); with no earlier image, mksquashfs makes it whole.
// Either way the image and its index are filed for the next build, but
// for an unconfined build's (see notFiled). It returns what it reused and
// compressed.
func (b *build) reuseImages(ctx context.Context, args []string) (string, error) {
	root, out := args[1], args[2]
	cache := &rootcache.Cache{Dir: filepath.Join(b.opts.CacheDir, "images", imageSettings(args)), Keep: imagesKept}
	cached, closeImages := openImages(cache, b.log.Printf)
	defer closeImages()
	size := treeSize(root)
	hashes, err := squashfs.HashTree(ctx, root, b.opts.Procs, func(done int64) {
		b.opts.Reporter.StageProgress("squashfs", "MiB hashed", int(min(done, size)>>20), int(size>>20))
	})
	if err != nil {
		return "", fmt.Errorf("squashfs: hash the root: %w", err)
	}
	var note string
	var x squashfs.Index
	if len(cached) > 0 {
		staging := filepath.Join(b.work, "squashfs-staging")
		if err := beneath.MkdirAll(b.work, filepath.Base(staging), 0o700); err != nil {
			return "", err
		}
		r := squashfs.Reuse{Root: root, Hashes: hashes, Cached: cached, Staging: staging, MkfsTime: time.Now(),
			Compress: func(ctx context.Context, dir, img string) error {
				a := slices.Clone(args)
				a[1], a[2] = dir, img
				return b.runImageTool(ctx, "squashfs", a)
			}}
		var st squashfs.ReuseStats
		st, x, err = r.Write(ctx, out)
		os.RemoveAll(staging)
		for _, why := range st.Skipped {
			b.log.Printf("squashfs: earlier image not reused: %s", why)
		}
		switch {
		case errors.Is(err, squashfs.ErrSettings), errors.Is(err, squashfs.ErrTooManyIDs):
			// mksquashfs's own error names a tree it cannot hold either.
			b.log.Printf("squashfs: %v; compressing the whole root", err)
			cached = nil
		case err != nil:
			return "", err
		default:
			b.log.Printf("squashfs: %d of %d distinct file contents (%s) reused from %d earlier images, %d (%s) compressed anew (%d, %s, held in fragment blocks beside contents this root lacks); %s of compressed data copied",
				st.ReusedN, st.Files, humanBytes(st.Reused), len(cached), st.CompressedN, humanBytes(st.Compressed), st.BesideN, humanBytes(st.Beside), humanBytes(st.Copied))
			note = fmt.Sprintf("%s reused, %s compressed", humanBytes(st.Reused), humanBytes(st.Compressed))
		}
	}
	if len(cached) == 0 {
		if err := b.runImageTool(ctx, "squashfs", args); err != nil {
			return "", err
		}
		im, err := squashfs.Open(out)
		if err != nil {
			return "", err
		}
		x, err = squashfs.IndexOf(im, hashes)
		im.Close()
		if err != nil {
			return "", err
		}
		note = "no earlier image to reuse"
	}
	if why := notFiled(b.opts); why != "" {
		b.log.Printf("squashfs: the image is not kept for later builds: %s", why)
		return note, nil
	}
	if err := hashes.Unchanged(root); err != nil {
		// What the index says of the image may not be so.
		b.log.Printf("squashfs: the image is not kept for later builds: %v", err)
		return note, nil
	}
	if err := b.fileImage(ctx, cache, out, x); err != nil {
		// The next build compresses more; this one is made.
		b.log.Printf("squashfs: the image is not kept for later builds: %v", err)
	}
	return note, nil
}

// imagesKept is how many earlier images of one compressor setting the
// cache keeps, and a build reads.
const imagesKept = 2

// openImages opens the cache's most recently used images, Keep at most,
// and their indexes; close closes them. The entries are released at
// once (the open images stay readable if pruned), so that this build's
// fileImage can prune the cache.
func openImages(cache *rootcache.Cache, logf func(string, ...any)) (cached []squashfs.Cached, close func()) {
	var ims []*squashfs.Image
	close = func() {
		for _, im := range ims {
			im.Close()
		}
	}
	for _, key := range cache.Keys() {
		if len(cached) == cache.Keep {
			break
		}
		e, err := cache.Get(key)
		if err != nil || e == nil {
			continue
		}
		im, err := squashfs.Open(filepath.Join(e.Path, "root.img"))
		if err != nil {
			e.Release()
			logf("squashfs: earlier image %s: %v", key, err)
			continue
		}
		x, err := squashfs.ReadIndex(filepath.Join(e.Path, "index.json"))
		e.Release()
		if err != nil {
			im.Close()
			logf("squashfs: earlier image %s: %v", key, err)
			continue
		}
		ims = append(ims, im)
		cached = append(cached, squashfs.Cached{Image: im, Index: x})
	}
	return cached, close
}

// notFiled says why a build's root image is not filed for other builds,
// or "" when it is. An unconfined build's dracut sees the root writable,
// and could change a file while mksquashfs or the writer read it: the
// index would name blocks of other contents than it says.
func notFiled(o Options) string {
	if o.Unconfined {
		return "the build is unconfined, and its root was writable while the image was made"
	}
	return ""
}

// fileImage keeps a root image and its index in the cache, hard-linked
// where the cache is on the work dir's filesystem.
func (b *build) fileImage(ctx context.Context, cache *rootcache.Cache, img string, x squashfs.Index) error {
	dir := filepath.Join(b.work, "image-entry")
	if err := beneath.MkdirAll(b.work, filepath.Base(dir), 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Link(img, filepath.Join(dir, "root.img")); err != nil {
		if out, err := exec.CommandContext(ctx, "cp", "--reflink=auto", img, filepath.Join(dir, "root.img")).CombinedOutput(); err != nil {
			return fmt.Errorf("cp: %v: %s", err, out)
		}
	}
	if err := squashfs.WriteIndex(filepath.Join(dir, "index.json"), x); err != nil {
		return err
	}
	e, _, err := cache.Put(ctx, b.id, dir)
	if err != nil {
		return err
	}
	e.Release()
	for _, gone := range cache.Prune() {
		b.log.Printf("squashfs: removed earlier image %s", gone)
	}
	return nil
}

// imageSettings keys earlier images by the compressor settings of
// mksquashfs's args: blocks made with other settings are not reused.
func imageSettings(args []string) string {
	var parts []string
	for i := 3; i < len(args); i++ {
		if args[i] == "-processors" {
			i++
			continue
		}
		parts = append(parts, args[i])
	}
	return rootcache.Key(parts...)
}

// humanBytes says a size as people read it: 7 B, 3.9 MiB, 1.1 GiB.
func humanBytes(n int64) string { return humanize.IBytes(uint64(n)) }

// checkErofs refuses, before compressing, a compressor the host's
// mkfs.erofs lacks: Debian 12's erofs-utils 1.5 has lz4 and lz4hc only.
func checkErofs(ctx context.Context, setting string) error {
	if err := hosttool.Missing("mkfs.erofs"); err != nil {
		return fmt.Errorf("rootfs=erofs: %w", err)
	}
	// mkfs.erofs --help exits non-zero; its text is what counts.
	help, _ := exec.CommandContext(ctx, hosttool.Path("mkfs.erofs"), "--help").CombinedOutput()
	have := image.ErofsCompressors(string(help))
	name, _, _ := strings.Cut(setting, ",")
	if !slices.Contains(have, name) {
		return &spec.Error{Key: "compression", Msg: fmt.Sprintf("rootfs=erofs: this host's mkfs.erofs offers %s, not %s (lzma needs erofs-utils 1.6 or later built with it, and a kernel with CONFIG_EROFS_FS_ZIP_LZMA)",
			strings.Join(have, ", "), name)}
	}
	return nil
}
