// Package image turns an installed image root into bootable media: the
// initramfs, the squashfs, GRUB for BIOS and UEFI, and the hybrid ISO, laid out
// as Fedora's own media are (see the lorax templates).
package image

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Boot is what the root offers to boot: its kernel and its bootloader files.
type Boot struct {
	KernelVersion string
	Kernel        string // path of vmlinuz
	GrubPC        string // i386-pc module dir (grub2-pc-modules); "" where media boot UEFI alone
	EFIBoot       string // BOOTX64.EFI: shimx64.efi, or the cdboot grub without shim
	EFIGrub       string // grubx64.efi when shim is in use, else ""
	Font          string // unicode.pf2, if the root has it
	Licenses      []string
}

// FindBoot locates the kernel and bootloader files in root where Fedora's
// packages put them: kernel-core at /lib/modules/<kver>/vmlinuz,
// grub2-pc-modules (BIOS platforms), grub2-efi-<efi>-cdboot (gcd<efi>.efi)
// and shim-<efi>.
func FindBoot(root string, p Platform) (*Boot, error) {
	b := &Boot{}
	kernels, _ := filepath.Glob(filepath.Join(root, "lib/modules/*/vmlinuz"))
	if len(kernels) == 0 {
		kernels, _ = filepath.Glob(filepath.Join(root, "usr/lib/modules/*/vmlinuz"))
	}
	if len(kernels) == 0 {
		return nil, fmt.Errorf("the image root has no kernel (/lib/modules/<version>/vmlinuz): add kernel to %%packages")
	}
	sort.Strings(kernels)
	b.Kernel = kernels[len(kernels)-1]
	b.KernelVersion = filepath.Base(filepath.Dir(b.Kernel))

	if p.BIOS {
		b.GrubPC = filepath.Join(root, "usr/lib/grub/i386-pc")
		if _, err := os.Stat(filepath.Join(b.GrubPC, "boot_hybrid.img")); err != nil {
			return nil, fmt.Errorf("the image root has no BIOS GRUB modules (%s/boot_hybrid.img): add grub2-pc-modules to %%packages", "/usr/lib/grub/i386-pc")
		}
	}
	cdboot := first(root, "boot/efi/EFI/*/gcd"+p.EFI+".efi")
	if cdboot == "" {
		return nil, fmt.Errorf("the image root has no UEFI GRUB for %s (/boot/efi/EFI/*/gcd%s.efi): add grub2-efi-%s-cdboot to %%packages", p.Arch, p.EFI, p.EFI)
	}
	if shim := first(root, "boot/efi/EFI/*/shim"+p.EFI+".efi"); shim != "" {
		b.EFIBoot, b.EFIGrub = shim, cdboot
	} else {
		b.EFIBoot = cdboot
	}
	b.Font = first(root, "usr/share/grub/unicode.pf2")
	b.Licenses, _ = filepath.Glob(filepath.Join(root, "usr/share/licenses/*-release-common/*"))
	return b, nil
}

func first(root, pattern string) string {
	m, _ := filepath.Glob(filepath.Join(root, pattern))
	if len(m) == 0 {
		return ""
	}
	sort.Strings(m)
	return m[0]
}
