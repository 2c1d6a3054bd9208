package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// InstallerDracutArgs is lorax's initramfs command for boot.iso, run in the
// runtime root (lorax's --dracut-arg defaults).
func InstallerDracutArgs(out, kver string) []string {
	return []string{"dracut", "--nomdadmconf", "--nolvmconf", "--xz", "--install", "/.buildstamp",
		"--no-early-microcode", "--add", "fips", "--add", "anaconda pollcdrom qemu qemu-net prefixdevname-tools",
		"--force", out, kver}
}

// RuntimePackages is the installer's runtime package set for a product.
// Fedora's (and any product's not listed) follows lorax's
// runtime-install.tmpl for the arch; lorax's firmware glob with its
// exceptions has no dnf equivalent and is left out. The demo distro's is
// its core group with a kernel, dracut and the arch's bootloaders.
func RuntimePackages(product, arch string) []string {
	if product == "fbs-demo" {
		pkgs := []string{"@core", "kernel", "dracut"}
		if p, err := PlatformOf(arch); err == nil {
			if p.BIOS {
				pkgs = append(pkgs, "grub2-pc-modules")
			}
			pkgs = append(pkgs, "grub2-efi-"+p.EFI+"-cdboot")
		}
		return pkgs
	}
	pkgs := strings.Fields(`anaconda anaconda-widgets kexec-tools-anaconda-addon anaconda-install-env-deps
		dnf rpm-ostree ostree pigz kernel kernel-modules kernel-modules-extra grubby b43-openfwwf
		glibc-all-langpacks plymouth anaconda-dracut dracut-network dracut-config-generic initscripts
		cryptsetup rpcbind kbd kbd-misc tar xz curl bzip2 systemd-sysv systemd-units rsyslog
		xorg-x11-drivers xorg-x11-server-Xorg xorg-x11-server-utils xorg-x11-xauth dbus-x11 metacity
		gsettings-desktop-schemas nm-connection-editor librsvg2 btrfs-progs jfsutils xfsprogs
		reiserfs-utils gfs2-utils ntfs-3g ntfsprogs system-storage-manager device-mapper-persistent-data
		xfsdump udisks2 udisks2-iscsi hostname libblockdev-lvm-dbus volume_key nss-tools
		zram-generator-defaults selinux-policy-targeted audit ethtool openssh-server nfs-utils
		openssh-clients tigervnc-server-minimal tigervnc-server-module net-tools bridge-utils nmap-ncat
		pciutils usbutils ipmitool mt-st smartmontools hdparm libmlx4 rdma-core rng-tools
		aajohan-comfortaa-fonts abattis-cantarell-fonts bitmap-fangsongti-fonts dejavu-sans-fonts
		dejavu-sans-mono-fonts google-noto-sans-cjk-ttc-fonts google-noto-sans-gurmukhi-fonts
		google-noto-sans-sinhala-vf-fonts jomolhari-fonts khmeros-base-fonts lohit-assamese-fonts
		lohit-bengali-fonts lohit-devanagari-fonts lohit-gujarati-fonts lohit-kannada-fonts
		lohit-marathi-fonts lohit-odia-fonts lohit-tamil-fonts lohit-telugu-fonts madan-fonts
		paktype-naskh-basic-fonts sil-abyssinica-fonts sil-padauk-fonts sil-scheherazade-fonts
		smc-meera-fonts thai-scalable-waree-fonts xorg-x11-fonts-misc gdb-gdbserver
		libreport-plugin-bugzilla libreport-plugin-reportuploader fpaste python3-pyatspi vim-minimal
		strace lsof dump less wget rsync bind-utils ftp mtr vconfig icfg spice-vdagent gdisk hexedit
		sg3_utils notification-daemon`)
	switch arch {
	case "x86_64":
		pkgs = append(pkgs, "grub2-tools-efi", "efibootmgr", "shim-x64", "grub2-efi-x64-cdboot", "shim-ia32",
			"grub2-efi-ia32-cdboot", "biosdevname", "memtest86+", "syslinux", "grub2-tools", "grub2-tools-minimal",
			"grub2-tools-extra", "pcmciautils", "dmidecode")
	case "i686":
		pkgs = append(pkgs, "gpart", "biosdevname", "memtest86+", "syslinux", "grub2-tools", "grub2-tools-minimal",
			"grub2-tools-extra", "pcmciautils", "dmidecode")
	case "aarch64":
		pkgs = append(pkgs, "efibootmgr", "grub2-efi-aa64-cdboot", "shim-aa64", "uboot-tools", "dmidecode")
	case "ppc64le":
		pkgs = append(pkgs, "powerpc-utils", "lsvpd", "ppc64-diag", "grub2-tools", "grub2-tools-minimal",
			"grub2-tools-extra", "grub2-ppc64le")
	case "s390x":
		pkgs = append(pkgs, "lsscsi", "s390utils-base", "s390utils-cmsfs-fuse", "s390utils-hmcdrvfs", "pcmciautils")
	}
	return pkgs
}

// Stamp is what lorax writes about a boot.iso: .buildstamp in the runtime
// root, .discinfo and .treeinfo at the top of the medium.
type Stamp struct {
	Product, Version, Arch, BugURL string
	Time                           time.Time
}

// BuildStamp is /.buildstamp, which anaconda reads for the product.
func (s Stamp) BuildStamp() string {
	return fmt.Sprintf("[Main]\nProduct=%s\nVersion=%s\nBugURL=%s\nIsFinal=False\nUUID=%s.%s\n[Compose]\nLorax=fbs\n",
		s.Product, s.Version, s.BugURL, s.Time.UTC().Format("200601021504"), s.Arch)
}

// DiscInfo is .discinfo: timestamp, release, basearch.
func (s Stamp) DiscInfo() string {
	return fmt.Sprintf("%d.000000\n%s\n%s\n", s.Time.Unix(), s.Version, s.Arch)
}

// TreeInfo is lorax's own .treeinfo for a boot.iso.
func (s Stamp) TreeInfo() string {
	return fmt.Sprintf(`[general]
timestamp = %d
family = %s
version = %s
name = %s-%s
arch = %s
platforms = %s
packagedir = 

[stage2]
mainimage = images/install.img

[images-%s]
kernel = images/pxeboot/vmlinuz
initrd = images/pxeboot/initrd.img
%s`, s.Time.Unix(), s.Product, s.Version, s.Product, s.Version, s.Arch, s.Arch, s.Arch, s.efiImageLine())
}

// efiImageLine is the .treeinfo line for an efiboot.img on the medium
// (lorax's aarch64.tmpl: "treeinfo images-aarch64 efiboot.img …"); x86_64's
// is an appended partition, not a file.
func (s Stamp) efiImageLine() string {
	if p, err := PlatformOf(s.Arch); err == nil && !p.BIOS {
		return "efiboot.img = " + EFIImage + "\n"
	}
	return ""
}

// InstallerSetup makes a runtime root that holds anaconda start it, as the
// essential part of lorax's runtime-postinstall.tmpl does: anaconda.target
// as the default target, /tmp on tmpfs, the repos moved where anaconda
// reads them, an empty root password and fstab, the journal kept in RAM.
// A root without anaconda (the demo distro's) is left as it is. It
// returns what it did, for the log.
func InstallerSetup(root string) ([]string, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if _, err := r.Stat("usr/lib/systemd/system/anaconda.target"); err != nil {
		return nil, nil
	}
	var done []string
	step := func(what string, err error) error {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("installer setup: %s: %w", what, err)
		}
		done = append(done, what)
		return nil
	}
	for _, link := range [][2]string{
		{"etc/systemd/system/default.target", "/lib/systemd/system/anaconda.target"},
		{"etc/systemd/system/local-fs.target.wants/tmp.mount", "/lib/systemd/system/tmp.mount"},
	} {
		r.Remove(link[0])
		if err := r.MkdirAll(filepath.Dir(link[0]), 0o755); err != nil {
			return done, err
		}
		if err := step("symlink "+link[0], r.Symlink(link[1], link[0])); err != nil {
			return done, err
		}
	}
	if err := step("move etc/yum.repos.d to etc/anaconda.repos.d", r.Rename("etc/yum.repos.d", "etc/anaconda.repos.d")); err != nil {
		return done, err
	}
	if err := step("remove var/log/journal", r.RemoveAll("var/log/journal")); err != nil {
		return done, err
	}
	if err := step("empty etc/fstab", r.WriteFile("etc/fstab", nil, 0o644)); err != nil {
		return done, err
	}
	shadow, err := r.ReadFile("etc/shadow")
	if err == nil {
		shadow = []byte(strings.Replace(string(shadow), "root:*:", "root::", 1))
		err = r.WriteFile("etc/shadow", shadow, 0o000)
	}
	return done, step("remove the root password", err)
}
