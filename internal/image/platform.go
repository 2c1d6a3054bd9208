package image

import (
	"fmt"
	"strings"

	"fbs/internal/hostarch"
)

// Platform is how one architecture's media boot, after lorax's x86.tmpl
// and aarch64.tmpl: x86_64 media boot BIOS (El Torito, hybrid MBR) and
// UEFI (an appended ESP); aarch64 media boot UEFI alone, from
// images/efiboot.img as an El Torito EFI entry.
type Platform struct {
	Arch string
	// EFI is UEFI's short name for the architecture, as file names have
	// it: BOOTX64.EFI, gcdx64.efi, shimaa64.efi.
	EFI string
	// BIOS media carry GRUB for BIOS (grub2-pc-modules) too.
	BIOS bool
	// BCJ is the xz branch filter mksquashfs is given (lorax's ArchData:
	// x86 for x86, none for aarch64, which squashfs-tools 4.5 lacks).
	BCJ string
}

var platforms = map[string]Platform{
	"x86_64":  {Arch: "x86_64", EFI: "x64", BIOS: true, BCJ: "x86"},
	"aarch64": {Arch: "aarch64", EFI: "aa64"},
}

// PlatformOf is arch's platform; fbs makes media for x86_64 and aarch64.
func PlatformOf(arch string) (Platform, error) {
	p, ok := platforms[arch]
	if !ok {
		return Platform{}, fmt.Errorf("fbs makes %s media, not %s", strings.Join(hostarch.Media, " and "), arch)
	}
	return p, nil
}

// BootFile is the removable-media loader's name in EFI/BOOT: BOOTX64.EFI.
func (p Platform) BootFile() string { return "BOOT" + strings.ToUpper(p.EFI) + ".EFI" }

// GrubFile is GRUB's name in EFI/BOOT when shim loads it: grubx64.efi.
func (p Platform) GrubFile() string { return "grub" + p.EFI + ".efi" }
