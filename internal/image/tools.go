package image

import (
	"fmt"
	"maps"
	"strconv"
)

// DracutArgs is livemedia-creator's initramfs command for a live root, run
// inside the root. (lmc adds --debug; fbs leaves it out, as it turns dracut
// into a shell trace thousands of lines long in the build log.)
func DracutArgs(out, kver string) []string {
	return []string{"dracut", "--nomdadmconf", "--nolvmconf", "--xz",
		"--add", "livenet dmsquash-live dmsquash-live-ntfs convertfs pollcdrom qemu qemu-net",
		"--no-hostonly", "--no-early-microcode", "--force", out, kver}
}

// MksquashfsArgs compresses the root with all processors; xz gets the
// platform's BCJ filter as on Fedora's media. comp is a compressor, or "name,level".
func MksquashfsArgs(root, out, comp, arch string, procs int) []string {
	p, _ := PlatformOf(arch)
	name := compressorName(comp)
	args := []string{"mksquashfs", root, out, "-noappend", "-comp", name, "-processors", strconv.Itoa(procs)}
	args = append(args, squashfsLevel(comp)...)
	if name == "xz" && p.BCJ != "" {
		args = append(args, "-Xbcj", p.BCJ)
	}
	return args
}

// EltoritoArgs builds the BIOS El Torito image from the root's i386-pc modules (lorax x86.tmpl).
func EltoritoArgs(mkimage, grubPC, out string) []string {
	return []string{mkimage, "-O", "i386-pc-eltorito", "-d", grubPC, "-o", out, "-p", "/boot/grub2", "iso9660", "biosdisk"}
}

// EFIBootImage is the FAT image of EFI/BOOT that goes into the ISO as an
// appended GPT partition (lorax's mkefiboot).
type EFIBootImage struct {
	Path  string
	SizeK int64             // FAT size in KiB
	Files map[string]string // name in EFI/BOOT -> source
}

// Commands returns the mkfs.fat and mtools runs that make the image.
func (e EFIBootImage) Commands() [][]string {
	cmds := [][]string{
		{"mkfs.fat", "-n", "ANACONDA", "-C", e.Path, strconv.FormatInt(e.SizeK, 10)},
		{"mmd", "-i", e.Path, "::EFI", "::EFI/BOOT"},
	}
	for _, name := range sortedKeys(e.Files) {
		cmds = append(cmds, []string{"mcopy", "-i", e.Path, e.Files[name], "::EFI/BOOT/" + name})
	}
	return cmds
}

// ISO is the xorrisofs run that writes the ISO.
type ISO struct {
	Out      string
	VolumeID string
	// GrubPC is the i386-pc module dir, for boot_hybrid.img; "" makes an
	// ISO that boots UEFI alone.
	GrubPC   string
	EFIBoot  string // efiboot.img
	Grafts   map[string]string
	BigFiles bool // a file of 4 GiB or more needs ISO level 3
}

// EFIImage is where an ISO that boots UEFI alone carries efiboot.img.
const EFIImage = "images/efiboot.img"

// Args is lorax's xorrisofs command line: live/x86.tmpl's hybrid ISO
// (BIOS El Torito and MBR, efiboot.img appended as GPT partition 2), or,
// without GrubPC, live/aarch64.tmpl's (efiboot.img on the ISO, its El
// Torito EFI entry the only one).
func (i ISO) Args() []string {
	args := []string{"xorrisofs"}
	if i.BigFiles {
		args = append(args, "-iso-level", "3")
	}
	args = append(args, "-o", i.Out)
	grafts := i.Grafts
	if i.GrubPC == "" {
		grafts = maps.Clone(i.Grafts)
		grafts[EFIImage] = i.EFIBoot
		args = append(args, "-eltorito-alt-boot", "-e", EFIImage, "-no-emul-boot", "-R", "-J", "-V", i.VolumeID, "-graft-points")
	} else {
		args = append(args, "-R", "-J", "-V", i.VolumeID,
			"--grub2-mbr", i.GrubPC+"/boot_hybrid.img", "-partition_offset", "16",
			"-appended_part_as_gpt", "-append_partition", "2", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", i.EFIBoot,
			"-iso_mbr_part_type", "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7",
			"-c", "boot.cat", "--boot-catalog-hide",
			"-b", "images/eltorito.img", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", "--grub2-boot-info",
			"-eltorito-alt-boot", "-e", "--interval:appended_partition_2:all::", "-no-emul-boot",
			"-graft-points")
	}
	for _, dst := range sortedKeys(grafts) {
		args = append(args, fmt.Sprintf("%s=%s", dst, grafts[dst]))
	}
	return args
}
