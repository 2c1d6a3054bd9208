package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"fbs/internal/hosttool"
	"fbs/internal/image"
	"fbs/internal/runner"
	"fbs/internal/spec"
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
	// mksquashfs's own progress bar reaches a pipe only at its end (stdio
	// buffering), and mkfs.erofs is quiet, so progress is what the tool
	// has read of the root so far.
	total := make(chan int64, 1)
	go func() { total <- treeSize(root) }()
	err := b.run.Run(ctx, runner.Cmd{Args: args,
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
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s, %s", how, sizeOf(out)), nil
}

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
