package build

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"fbs/internal/hosttool"
	"fbs/internal/image"
	"fbs/internal/kickstart"
	"fbs/internal/runner"
)

func (b *build) initramfs(ctx context.Context, root, parts string, boot *image.Boot) (string, error) {
	const out = "/run/fbs-out"
	err := b.run.Run(ctx, runner.Cmd{
		Args:  image.DracutArgs(out+"/initrd.img", boot.KernelVersion),
		Root:  root,
		Binds: []string{parts + ":" + out},
		Env:   []string{"TMPDIR=/run"},
	})
	if err != nil {
		return "", err
	}
	return sizeOf(filepath.Join(parts, "initrd.img")), nil
}

var squashProgress = regexp.MustCompile(`\]\s+(\d+)/(\d+)\s+\d+%\s*$`)

func (b *build) squashfs(ctx context.Context, root, parts string) (string, error) {
	if _, err := os.Lstat(filepath.Join(root, "LiveOS")); err == nil {
		return "", fmt.Errorf("the root has a top-level /LiveOS, which would make dracut take the squashfs for an old-style rootfs.img container; remove it in %%post")
	}
	comp := b.req.Live.Compression
	out := filepath.Join(parts, "squashfs.img")
	args := image.MksquashfsArgs(root, out, comp, b.req.Arch, b.opts.Procs)
	args[0] = hosttool.Path("mksquashfs")
	b.log.Printf("squashfs: %s compression on %d processors", comp, b.opts.Procs)
	// mksquashfs's own progress bar reaches a pipe only at its end (stdio
	// buffering), so progress is what it has read of the root so far.
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
						b.opts.Reporter.StageProgress("squashfs", "MiB read", int(min(read, size)>>20), int(size>>20))
					}
				}
			}
		}})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s, %s", comp, sizeOf(out)), nil
}

func (b *build) bootloader(ctx context.Context, ks *kickstart.Kickstart, parts, grubCfg string, boot *image.Boot) (string, error) {
	timeout := ks.Bootloader.Timeout
	if timeout < 0 {
		timeout = 60 // lorax's live templates
	}
	cfg := image.GrubConfig{Label: b.req.Live.Label, Title: b.req.Live.Title, Append: ks.Bootloader.Append, Timeout: timeout}
	if err := os.WriteFile(grubCfg, []byte(cfg.Render()), 0o644); err != nil {
		return "", err
	}
	if err := b.run.Run(ctx, runner.Cmd{Args: image.EltoritoArgs(hosttool.Path("grub-mkimage"), boot.GrubPC, filepath.Join(parts, "eltorito.img"))}); err != nil {
		return "", err
	}
	efi := image.EFIBootImage{Path: filepath.Join(parts, "efiboot.img"), Files: map[string]string{"BOOTX64.EFI": boot.EFIBoot, "grub.cfg": grubCfg}}
	if boot.EFIGrub != "" {
		efi.Files["grubx64.efi"] = boot.EFIGrub
	}
	var total int64
	for _, f := range efi.Files {
		st, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		total += st.Size()
	}
	// FAT overhead and slack: a tenth more, plus 1 MiB, in whole MiB.
	efi.SizeK = ((total*11/10)/1024/1024 + 2) * 1024
	for _, args := range efi.Commands() {
		if err := b.run.Run(ctx, runner.Cmd{Args: append([]string{hosttool.Path(args[0])}, args[1:]...), Env: []string{"MTOOLS_SKIP_CHECK=1"}}); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("BIOS eltorito.img, UEFI efiboot.img %d KiB", efi.SizeK), nil
}

var xorrisoProgress = regexp.MustCompile(`UPDATE :\s+([0-9.]+)% done`)

func (b *build) iso(ctx context.Context, out, parts, grubCfg string, boot *image.Boot) (string, error) {
	grafts := map[string]string{
		"images/pxeboot/vmlinuz":    boot.Kernel,
		"images/pxeboot/initrd.img": filepath.Join(parts, "initrd.img"),
		"LiveOS/squashfs.img":       filepath.Join(parts, "squashfs.img"),
		"boot/grub2/grub.cfg":       grubCfg,
		"boot/grub2/i386-pc":        boot.GrubPC,
		"images/eltorito.img":       filepath.Join(parts, "eltorito.img"),
		"EFI/BOOT/BOOTX64.EFI":      boot.EFIBoot,
		"EFI/BOOT/grub.cfg":         grubCfg,
	}
	if boot.EFIGrub != "" {
		grafts["EFI/BOOT/grubx64.efi"] = boot.EFIGrub
	}
	if boot.Font != "" {
		grafts["EFI/BOOT/fonts/unicode.pf2"] = boot.Font
	}
	for _, l := range boot.Licenses {
		grafts[filepath.Base(l)] = l
	}
	st, err := os.Stat(filepath.Join(parts, "squashfs.img"))
	if err != nil {
		return "", err
	}
	iso := image.ISO{Out: out, VolumeID: b.req.Live.Label, GrubPC: boot.GrubPC, EFIBoot: filepath.Join(parts, "efiboot.img"),
		Grafts: grafts, BigFiles: st.Size() >= 4<<30}
	args := iso.Args()
	args[0] = hosttool.Path("xorrisofs")
	err = b.run.Run(ctx, runner.Cmd{Args: args, OnLine: func(line string) bool {
		if m := xorrisoProgress.FindStringSubmatch(line); m != nil {
			pct, _ := strconv.ParseFloat(m[1], 64)
			b.opts.Reporter.StageProgress("iso", "writing", int(pct), 100)
			return true
		}
		return false
	}})
	if err != nil {
		return "", err
	}
	if md5 := hosttool.Path("implantisomd5"); md5 != "implantisomd5" {
		if err := b.run.Run(ctx, runner.Cmd{Args: []string{md5, out}}); err != nil {
			return "", err
		}
	} else {
		b.log.Printf("implantisomd5 not found (apt-get install isomd5sum): the ISO has no checksum for rd.live.check")
	}
	return sizeOf(out), nil
}

// treeSize adds up the sizes of the regular files below dir.
func treeSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// bytesRead is how much a process has read so far (rchar in /proc/PID/io).
func bytesRead(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func sizeOf(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%.1f MiB", float64(st.Size())/(1<<20))
}
