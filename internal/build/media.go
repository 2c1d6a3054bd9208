package build

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"fbs/internal/beneath"
	"fbs/internal/hosttool"
	"fbs/internal/image"
	"fbs/internal/kickstart"
	"fbs/internal/runner"
	"fbs/internal/stage"
)

// loraxTimeout is the GRUB menu timeout of lorax's templates, in seconds.
const loraxTimeout = 60

// menuTimeout is the GRUB menu timeout for a kickstart's bootloader
// --timeout, lorax's when it has none (-1).
func menuTimeout(ks *kickstart.Kickstart) int {
	if ks.Bootloader.Timeout < 0 {
		return loraxTimeout
	}
	return ks.Bootloader.Timeout
}

// medium is what sets the image types apart once their root is installed.
type medium struct {
	rootImage string                          // where the root's squashfs goes on the ISO
	dracut    func(out, kver string) []string // the initramfs command, run in the root
	menu      image.GrubConfig
	files     map[string]string // more files for the ISO: path on the ISO -> file
	repos     []kickstart.Repo
	pkgsPos   kickstart.Pos // where a missing kernel or bootloader is to be added
	ksPath    string        // the flattened kickstart, if the image had one
	// more adds files to the ISO once the parts are made (a DVD's
	// .treeinfo, which holds their checksums).
	more func(parts string, boot *image.Boot) (map[string]string, error)
}

// media turns an installed root into the ISO: initramfs and squashfs side
// by side, bootloader, ISO, boot tests, manifest and staging.
func (b *build) media(ctx context.Context, target stage.Target, root string, m medium) ([]Artifact, error) {
	parts := filepath.Join(b.work, "parts")
	if err := beneath.MkdirAll(b.work, "parts", 0o755); err != nil {
		return nil, err
	}
	boot, err := image.FindBoot(root)
	if err != nil {
		return nil, &kickstart.Error{Pos: m.pkgsPos, Msg: err.Error()}
	}
	b.askToolVersions(ctx)
	b.log.Printf("kernel %s, EFI boot %s", boot.KernelVersion, boot.EFIBoot)
	// dracut writes only into a bind mount outside the root and keeps its
	// scratch files on a private tmpfs, so mksquashfs may read the root meanwhile.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return b.stage("initramfs", func() (string, error) { return b.initramfs(gctx, root, parts, m.dracut, boot) })
	})
	g.Go(func() error {
		return b.stage("squashfs", func() (string, error) { return b.squashfs(gctx, root, filepath.Join(parts, "root.img")) })
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	grubCfg := filepath.Join(parts, "grub.cfg")
	if err := b.stage("bootloader", func() (string, error) { return b.bootloader(ctx, parts, grubCfg, boot, m.menu) }); err != nil {
		return nil, err
	}
	if m.more != nil {
		files, err := m.more(parts, boot)
		if err != nil {
			return nil, err
		}
		m.files = maps.Clone(m.files)
		if m.files == nil {
			m.files = map[string]string{}
		}
		maps.Copy(m.files, files)
	}
	isoPath := filepath.Join(b.work, b.label+".iso")
	if err := b.stage("iso", func() (string, error) { return b.iso(ctx, isoPath, parts, grubCfg, boot, m) }); err != nil {
		return nil, err
	}
	return b.finish(ctx, target, root, m, isoPath)
}

// finish boot-tests the ISO, writes its checksums and manifest, and stages
// them; root (if any) is where the manifest's package list comes from.
func (b *build) finish(ctx context.Context, target stage.Target, root string, m medium, isoPath string) ([]Artifact, error) {
	if err := b.bootTests(ctx, isoPath); err != nil {
		return nil, err
	}
	if b.nameTaken(ctx, target) {
		// Same label in the same second: the build id keeps the names apart.
		b.stamp = b.id
	}
	var arts []Artifact
	if err := b.stage("manifest", func() (string, error) {
		var err error
		arts, err = b.manifest(ctx, m, root, target, isoPath)
		return fmt.Sprintf("%d artifacts", len(arts)), err
	}); err != nil {
		return nil, err
	}
	if !target.Staged() {
		return arts, nil
	}
	err := b.stage("stage", func() (string, error) {
		// All or nothing: the work dir keeps every artifact until all are
		// staged; a failure takes back what this build staged.
		files := make([]stage.File, len(arts))
		for i, a := range arts {
			files[i] = stage.File{Path: a.Path, Name: a.Name}
		}
		where, err := stage.All(ctx, target, files, stage.DefaultRetry, b.log.Printf)
		if err != nil {
			return "", fmt.Errorf("%w (the artifacts stay in %s)", err, b.work)
		}
		for i := range arts {
			os.Remove(arts[i].Path)
			if target.Remote != nil {
				arts[i].Remote = where[i]
			} else {
				arts[i].Path = where[i]
			}
		}
		return target.String(), nil
	})
	return arts, err
}

func (b *build) initramfs(ctx context.Context, root, parts string, dracut func(out, kver string) []string, boot *image.Boot) (string, error) {
	const out = "/run/fbs-out"
	err := b.run.Run(ctx, runner.Cmd{
		Args:  dracut(out+"/initrd.img", boot.KernelVersion),
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

func (b *build) squashfs(ctx context.Context, root, out string) (string, error) {
	if _, err := os.Lstat(filepath.Join(root, "LiveOS")); err == nil {
		return "", fmt.Errorf("the root has a top-level /LiveOS, which would make dracut take the squashfs for an old-style rootfs.img container; remove it in %%post")
	}
	comp := b.comp
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

func (b *build) bootloader(ctx context.Context, parts, grubCfg string, boot *image.Boot, menu image.GrubConfig) (string, error) {
	if err := beneath.WriteFile(parts, filepath.Base(grubCfg), []byte(menu.Render()), 0o644); err != nil {
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

func (b *build) iso(ctx context.Context, out, parts, grubCfg string, boot *image.Boot, m medium) (string, error) {
	rootImage := filepath.Join(parts, "root.img")
	grafts := map[string]string{
		"images/pxeboot/vmlinuz":    boot.Kernel,
		"images/pxeboot/initrd.img": filepath.Join(parts, "initrd.img"),
		m.rootImage:                 rootImage,
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
	for dst, src := range m.files {
		grafts[dst] = src
	}
	st, err := os.Stat(rootImage)
	if err != nil {
		return "", err
	}
	iso := image.ISO{Out: out, VolumeID: b.label, GrubPC: boot.GrubPC, EFIBoot: filepath.Join(parts, "efiboot.img"),
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
