package demo

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"fbs/internal/hostarch"
	"fbs/internal/hosttool"
)

// Arches are the architectures the demo distro is made for: every one fbs
// makes media for (x86_64, BIOS and UEFI; aarch64, UEFI only, as Fedora's
// aarch64 media are), each with its entry in arches.
var Arches = hostarch.Media

// arch is what differs between the demo distro's architectures: Debian's
// name for it, its GRUB, its serial console and the modules a live boot
// loads.
type arch struct {
	rpm, deb string
	// grubPC is Debian's BIOS GRUB package (grub2-pc-modules), "" where
	// the media are UEFI only.
	grubPC string
	efi    efiGrub
	// console is the first serial port, where the demo's boots print.
	console string
	modules []string
}

// efiGrub is the arch's UEFI GRUB: the Debian package its modules come
// from, grub-mkimage's format (also the modules' dir) and the Fedora
// package and file its image stands in for.
type efiGrub struct {
	deb, format, rpm, image string
}

// Kernel modules the live initramfs loads (and those they depend on), on
// every arch: QEMU's disk and CD controllers, the medium's and root
// image's filesystems, the loop device and the overlay.
var modules = []string{"ata_piix", "ahci", "sr_mod", "virtio_pci", "virtio_blk", "virtio_scsi",
	"isofs", "squashfs", "erofs", "crc32c_generic", "loop", "overlay"}

var arches = map[string]arch{
	"x86_64": {rpm: "x86_64", deb: "amd64", grubPC: "grub-pc-bin", console: "ttyS0", modules: modules,
		efi: efiGrub{deb: "grub-efi-amd64-bin", format: "x86_64-efi", rpm: "grub2-efi-x64-cdboot", image: "gcdx64.efi"}},
	// Debian's arm64 kernel has virtio's PCI and MMIO transports as
	// modules; QEMU's virt machine has both.
	"aarch64": {rpm: "aarch64", deb: "arm64", console: "ttyAMA0", modules: append(slices.Clip(modules), "virtio_mmio"),
		efi: efiGrub{deb: "grub-efi-arm64-bin", format: "arm64-efi", rpm: "grub2-efi-aa64-cdboot", image: "gcdaa64.efi"}},
}

// ParseArch reads an --arch value.
func ParseArch(s string) (string, error) {
	if _, err := archNamed(s); err != nil {
		return "", err
	}
	return s, nil
}

func archNamed(name string) (arch, error) {
	if a, ok := arches[name]; ok {
		return a, nil
	}
	return arch{}, fmt.Errorf("the demo distro is made for %s, not %q", strings.Join(Arches, " or "), name)
}

// grubDebs are the arch's Debian GRUB packages.
func (a arch) grubDebs() []string {
	if a.grubPC == "" {
		return []string{a.efi.deb}
	}
	return []string{a.grubPC, a.efi.deb}
}

// bootloaders are the arch's GRUB packages in the demo distro, which its
// live-boot group holds.
func (a arch) bootloaders() []string {
	if a.grubPC == "" {
		return []string{a.efi.rpm}
	}
	return []string{"grub2-pc-modules", a.efi.rpm}
}

// aptOptions make apt resolve and download the arch's packages, whatever
// the host's own arch.
func (a arch) aptOptions() []string {
	return []string{"-o", "APT::Architecture=" + a.deb, "-o", "APT::Architectures=" + a.deb}
}

// debDir is where the arch's .deb files are cached.
func (a arch) debDir() string {
	return "debs" + archSuffix(a.rpm)
}

// archSuffix tells apart the dirs of an arch's repo, build and .deb files
// in a cache; x86_64's keep the names they had before there were others.
func archSuffix(arch string) string {
	if arch == "x86_64" {
		return ""
	}
	return "-" + arch
}

// kernelGlob matches the file of Debian's kernel package for the arch.
func (a arch) kernelGlob() string {
	return "linux-image-*-" + a.deb + "_*.deb"
}

// foreignHint says how apt learns of a foreign arch's packages, for
// errors where the package lists lack them.
func (a arch) foreignHint() string {
	if a.rpm == hostarch.Native() {
		return ""
	}
	return ", after dpkg --add-architecture " + a.deb
}

// mkimageArgs is grub-mkimage's command for the cdboot image at out, from
// the modules unpacked under src (Debian's package). Every arch's image
// holds the same modules: all of them are built for x86_64-efi and
// arm64-efi.
func (e efiGrub) mkimageArgs(src, out string) []string {
	return []string{hosttool.Path("grub-mkimage"), "-O", e.format, "-d", filepath.Join(src, "usr/lib/grub", e.format), "-o", out, "-p", "/EFI/BOOT",
		"iso9660", "part_gpt", "part_msdos", "fat", "normal", "linux", "search", "search_label", "search_fs_uuid",
		"configfile", "echo", "serial", "terminal", "gzio", "test", "all_video", "efi_gop", "ls", "cat", "chain", "reboot", "halt"}
}
