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

	"fbs/internal/beneath"
	"fbs/internal/hosttool"
	"fbs/internal/image"
	"fbs/internal/kickstart"
	"fbs/internal/runner"
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

// The image types differ, once their root is installed, in where the
// root's squashfs goes, the initramfs and the boot menu.

// rootImage is where the root's squashfs goes on the ISO.
func (b *build) rootImage() string {
	if b.req.Type == "live" {
		return "LiveOS/squashfs.img"
	}
	return "images/install.img"
}

// dracutArgs is the initramfs command, run in the root.
func (b *build) dracutArgs(out, kver string) []string {
	if b.req.Type == "live" {
		return image.DracutArgs(out, kver)
	}
	return image.InstallerDracutArgs(out, kver)
}

// menu is the GRUB menu: the kickstart's bootloader command says a live
// image's and a DVD's kernel arguments and timeout, the [boot] section a
// boot ISO's.
func (b *build) menu() image.GrubConfig {
	label := b.req.Label()
	switch {
	case b.req.Live != nil:
		return image.LiveMenu(label, b.req.Live.Title, b.ks.Bootloader.Append, menuTimeout(b.ks))
	case b.req.DVD != nil:
		return image.InstallerMenu(label, b.req.Product(), b.req.Version(), b.ks.Bootloader.Append, menuTimeout(b.ks))
	}
	bt := b.req.Boot
	timeout := loraxTimeout
	if bt.Timeout != nil {
		timeout = *bt.Timeout
	}
	return image.InstallerMenu(label, bt.Product, bt.Version, bt.Append, timeout)
}

// findBoot finds the kernel and bootloaders in the root; a root without
// them points at %packages. dnf is done by now: the host tools' versions
// are asked for meanwhile.
func (b *build) findBoot(ctx context.Context) (string, error) {
	if err := beneath.MkdirAll(b.work, "parts", 0o755); err != nil {
		return "", err
	}
	boot, err := image.FindBoot(b.root, b.platform)
	if err != nil {
		return "", &kickstart.Error{Pos: b.runtimeSet().Pos, Msg: err.Error()}
	}
	b.boot = boot
	b.askToolVersions(ctx)
	b.log.Printf("kernel %s, EFI boot %s", boot.KernelVersion, boot.EFIBoot)
	return "", nil
}

// initramfs runs dracut in the root. It writes only into a bind mount
// outside the root and keeps its scratch files there too (a systemd
// initramfs's tree outgrows the root's small private /run), so
// mksquashfs may read the root meanwhile. That dir is its own, not
// parts/: the root image written alongside is filed in the cache of
// earlier images, for other builds, and the root's code must have no way
// to it. Once dracut is gone (with every process it left), its initrd.img
// is moved into parts/ if it is a regular file of its own.
func (b *build) initramfs(ctx context.Context) (string, error) {
	const out = "/run/fbs-out"
	const dir = "initramfs"
	if err := beneath.MkdirAll(b.work, dir, 0o700); err != nil {
		return "", err
	}
	scratch := filepath.Join(b.work, dir)
	defer os.RemoveAll(scratch)
	err := b.run.Run(ctx, runner.Cmd{
		Args:  b.dracutArgs(out+"/initrd.img", b.boot.KernelVersion),
		Root:  b.root,
		Binds: []string{scratch + ":" + out},
		Env:   []string{"TMPDIR=" + out},
		// mksquashfs reads the root meanwhile, and fbs files what it
		// reads for other builds by its content's hash: the root's code
		// must not change it under them (through a writable mapping, a
		// file's ctime moves only at its first write).
		ReadOnlyRoot: true,
	})
	if err != nil {
		return "", err
	}
	f, err := beneath.OpenSole(scratch, "initrd.img")
	if err != nil {
		return "", fmt.Errorf("dracut's output: %w", err)
	}
	defer f.Close()
	initrd := filepath.Join(b.parts(), "initrd.img")
	if err := os.Rename(filepath.Join(scratch, "initrd.img"), initrd); err != nil {
		return "", err
	}
	return sizeOf(initrd), nil
}

func (b *build) bootloader(ctx context.Context) (string, error) {
	parts, boot := b.parts(), b.boot
	grubCfg := filepath.Join(parts, "grub.cfg")
	if err := beneath.WriteFile(parts, "grub.cfg", []byte(b.menu().Render()), 0o644); err != nil {
		return "", err
	}
	var made []string
	if b.platform.BIOS {
		if err := b.run.Run(ctx, runner.Cmd{Args: image.EltoritoArgs(hosttool.Path("grub-mkimage"), boot.GrubPC, filepath.Join(parts, "eltorito.img"))}); err != nil {
			return "", err
		}
		made = append(made, "BIOS eltorito.img")
	}
	efi := image.EFIBootImage{Path: filepath.Join(parts, "efiboot.img"), Files: map[string]string{b.platform.BootFile(): boot.EFIBoot, "grub.cfg": grubCfg}}
	if boot.EFIGrub != "" {
		efi.Files[b.platform.GrubFile()] = boot.EFIGrub
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
	return strings.Join(append(made, fmt.Sprintf("UEFI efiboot.img %d KiB", efi.SizeK)), ", "), nil
}

var xorrisoProgress = regexp.MustCompile(`UPDATE :\s+([0-9.]+)% done`)

func (b *build) iso(ctx context.Context) (string, error) {
	parts, boot := b.parts(), b.boot
	out, grubCfg := filepath.Join(b.work, b.req.Label()+".iso"), filepath.Join(parts, "grub.cfg")
	rootImage := filepath.Join(parts, "root.img")
	efiBoot := "EFI/BOOT/" + b.platform.BootFile()
	grafts := map[string]string{
		"images/pxeboot/vmlinuz":    boot.Kernel,
		"images/pxeboot/initrd.img": filepath.Join(parts, "initrd.img"),
		b.rootImage():               rootImage,
		efiBoot:                     boot.EFIBoot,
		"EFI/BOOT/grub.cfg":         grubCfg,
	}
	if b.platform.BIOS {
		grafts["boot/grub2/grub.cfg"] = grubCfg
		grafts["boot/grub2/i386-pc"] = boot.GrubPC
		grafts["images/eltorito.img"] = filepath.Join(parts, "eltorito.img")
	}
	if boot.EFIGrub != "" {
		grafts["EFI/BOOT/"+b.platform.GrubFile()] = boot.EFIGrub
	}
	if boot.Font != "" {
		grafts["EFI/BOOT/fonts/unicode.pf2"] = boot.Font
	}
	for _, l := range boot.Licenses {
		grafts[filepath.Base(l)] = l
	}
	for dst, src := range b.files {
		grafts[dst] = src
	}
	st, err := os.Stat(rootImage)
	if err != nil {
		return "", err
	}
	iso := image.ISO{Out: out, VolumeID: b.req.Label(), GrubPC: boot.GrubPC, EFIBoot: filepath.Join(parts, "efiboot.img"),
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
	b.isoOut = out
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
