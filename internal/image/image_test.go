package image

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"fbs/internal/fbstest"
)

func TestToolCommandLines(t *testing.T) {
	const root = "/work/root"
	iso := ISO{
		Out: "/work/Live.iso", VolumeID: "Fedora-Live", GrubPC: root + "/usr/lib/grub/i386-pc", EFIBoot: "/work/parts/efiboot.img",
		Grafts: map[string]string{
			"images/pxeboot/vmlinuz":    root + "/lib/modules/6.1.0/vmlinuz",
			"images/pxeboot/initrd.img": "/work/parts/initrd.img",
			"LiveOS/squashfs.img":       "/work/parts/squashfs.img",
			"boot/grub2/grub.cfg":       "/work/parts/grub.cfg",
			"boot/grub2/i386-pc":        root + "/usr/lib/grub/i386-pc",
			"images/eltorito.img":       "/work/parts/eltorito.img",
			"EFI/BOOT/BOOTX64.EFI":      root + "/boot/efi/EFI/fedora/shimx64.efi",
			"EFI/BOOT/grubx64.efi":      root + "/boot/efi/EFI/fedora/gcdx64.efi",
			"EFI/BOOT/grub.cfg":         "/work/parts/grub.cfg",
		},
	}
	big := iso
	big.BigFiles = true
	// lorax's live/aarch64.tmpl: UEFI alone, efiboot.img on the ISO.
	arm := ISO{Out: "/work/Live.iso", VolumeID: "Fedora-Live-aarch64", EFIBoot: "/work/parts/efiboot.img",
		Grafts: map[string]string{
			"images/pxeboot/vmlinuz": root + "/lib/modules/6.1.0/vmlinuz",
			"LiveOS/squashfs.img":    "/work/parts/squashfs.img",
			"EFI/BOOT/BOOTAA64.EFI":  root + "/boot/efi/EFI/fedora/gcdaa64.efi",
			"EFI/BOOT/grub.cfg":      "/work/parts/grub.cfg",
		}}
	efi := EFIBootImage{Path: "/work/parts/efiboot.img", SizeK: 4096, Files: map[string]string{
		"BOOTX64.EFI": root + "/boot/efi/EFI/fedora/shimx64.efi", "grubx64.efi": root + "/boot/efi/EFI/fedora/gcdx64.efi", "grub.cfg": "/work/parts/grub.cfg"}}
	tests := map[string]string{
		"xorrisofs":            fbstest.Lines(iso.Args()),
		"xorrisofs-big":        fbstest.Lines(big.Args()),
		"xorrisofs-aarch64":    fbstest.Lines(arm.Args()),
		"mksquashfs-xz":        fbstest.Lines(MksquashfsArgs(root, "/work/parts/squashfs.img", "xz", "x86_64", 2)),
		"mksquashfs-zstd":      fbstest.Lines(MksquashfsArgs(root, "/work/parts/squashfs.img", "zstd", "x86_64", 8)),
		"mksquashfs-xz-arm":    fbstest.Lines(MksquashfsArgs(root, "/work/parts/squashfs.img", "xz", "aarch64", 2)),
		"rootfs-squashfs-fast": fbstest.Lines(RootImageArgs("squashfs", root, "/work/parts/root.img", "fast", "x86_64", 2)),
		"rootfs-erofs":         fbstest.Lines(RootImageArgs("erofs", root, "/work/parts/root.img", "lz4hc", "x86_64", 2)),
		"rootfs-erofs-fast":    fbstest.Lines(RootImageArgs("erofs", root, "/work/parts/root.img", "fast", "x86_64", 2)),
		"rootfs-erofs-lzma":    fbstest.Lines(RootImageArgs("erofs", root, "/work/parts/root.img", "lzma", "x86_64", 2)),
		"grub-mkimage-bios":    fbstest.Lines(EltoritoArgs("grub2-mkimage", root+"/usr/lib/grub/i386-pc", "/work/parts/eltorito.img")),
		"efiboot":              fbstest.Lines(efi.Commands()...),
		"dracut":               fbstest.Lines(DracutArgs("/run/fbs-out/initrd.img", "6.1.0-56-amd64")),
	}
	for name, got := range tests {
		t.Run(name, func(t *testing.T) { fbstest.Golden(t, name, got) })
	}
}

func TestGrubConfig(t *testing.T) {
	tests := map[string]GrubConfig{
		"grub-serial":    LiveMenu("FBS-Demo-Live", "fbs demo", "console=ttyS0,115200", 1),
		"grub-plain":     LiveMenu("Fedora-WS-Live-41", "Fedora Workstation", "", 60),
		"grub-installer": InstallerMenu("fedora-40-x86_64", "fedora", "40", "", 60),
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) { fbstest.Golden(t, name+".cfg", cfg.Render()) })
	}
}

func TestInstallerFiles(t *testing.T) {
	st := Stamp{Product: "Fedora", Version: "40", Arch: "x86_64", BugURL: "https://bugzilla.redhat.com", Time: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	fbstest.Golden(t, "buildstamp", st.BuildStamp())
	fbstest.Golden(t, "discinfo", st.DiscInfo())
	fbstest.Golden(t, "treeinfo", st.TreeInfo())
	fbstest.Golden(t, "treeinfo-dvd", st.ProductTreeInfo("Everything", map[string]string{"images/install.img": "ab12", "images/pxeboot/vmlinuz": "cd34"}))
	fbstest.Golden(t, "media.repo", st.MediaRepo())
	arm := st
	arm.Arch = "aarch64"
	fbstest.Golden(t, "treeinfo-aarch64", arm.TreeInfo())
	fbstest.Golden(t, "treeinfo-dvd-aarch64", arm.ProductTreeInfo("Everything", map[string]string{"images/efiboot.img": "ef56", "images/install.img": "ab12"}))
	fbstest.Golden(t, "dracut-installer", fbstest.Lines(InstallerDracutArgs("/run/fbs-out/initrd.img", "6.8.5-301.fc40.x86_64")))
}

func TestRuntimePackages(t *testing.T) {
	demo := RuntimePackages("fbs-demo", "x86_64")
	fedora := RuntimePackages("fedora", "x86_64")
	if len(demo) != 5 || !slices.Contains(fedora, "anaconda") || !slices.Contains(fedora, "grub2-efi-x64-cdboot") {
		t.Errorf("demo %q, fedora %d packages", demo, len(fedora))
	}
	if slices.Contains(RuntimePackages("fedora", "aarch64"), "grub2-efi-x64-cdboot") {
		t.Error("aarch64 gets x86 bootloaders")
	}
	if got := RuntimePackages("fbs-demo", "aarch64"); !slices.Equal(got, []string{"@core", "kernel", "dracut", "grub2-efi-aa64-cdboot"}) {
		t.Errorf("demo aarch64 runtime %q", got)
	}
}

func TestFindBoot(t *testing.T) {
	tests := map[string]struct {
		arch  string
		files []string
		want  Boot // paths relative to the root
		err   string
	}{
		"x86_64 with shim": {arch: "x86_64",
			files: []string{"lib/modules/6.1.0/vmlinuz", "usr/lib/grub/i386-pc/boot_hybrid.img", "boot/efi/EFI/fedora/gcdx64.efi", "boot/efi/EFI/fedora/shimx64.efi"},
			want:  Boot{KernelVersion: "6.1.0", Kernel: "lib/modules/6.1.0/vmlinuz", GrubPC: "usr/lib/grub/i386-pc", EFIBoot: "boot/efi/EFI/fedora/shimx64.efi", EFIGrub: "boot/efi/EFI/fedora/gcdx64.efi"}},
		"x86_64 without BIOS GRUB": {arch: "x86_64", files: []string{"lib/modules/6.1.0/vmlinuz", "boot/efi/EFI/fedora/gcdx64.efi"},
			err: "the image root has no BIOS GRUB modules (/usr/lib/grub/i386-pc/boot_hybrid.img): add grub2-pc-modules to %packages"},
		"aarch64": {arch: "aarch64", files: []string{"usr/lib/modules/6.1.0-arm64/vmlinuz", "boot/efi/EFI/fedora/gcdaa64.efi", "boot/efi/EFI/fedora/gcdx64.efi"},
			want: Boot{KernelVersion: "6.1.0-arm64", Kernel: "usr/lib/modules/6.1.0-arm64/vmlinuz", EFIBoot: "boot/efi/EFI/fedora/gcdaa64.efi"}},
		"aarch64 with an x64 GRUB only": {arch: "aarch64", files: []string{"usr/lib/modules/6.1.0/vmlinuz", "boot/efi/EFI/fedora/gcdx64.efi"},
			err: "the image root has no UEFI GRUB for aarch64 (/boot/efi/EFI/*/gcdaa64.efi): add grub2-efi-aa64-cdboot to %packages"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range tc.files {
				os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755)
				os.WriteFile(filepath.Join(root, f), nil, 0o644)
			}
			p, err := PlatformOf(tc.arch)
			if err != nil {
				t.Fatal(err)
			}
			got, err := FindBoot(root, p)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rel := func(p string) string {
				if p == "" {
					return ""
				}
				r, _ := filepath.Rel(root, p)
				return r
			}
			got = &Boot{KernelVersion: got.KernelVersion, Kernel: rel(got.Kernel), GrubPC: rel(got.GrubPC), EFIBoot: rel(got.EFIBoot), EFIGrub: rel(got.EFIGrub)}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestInstallerSetup(t *testing.T) {
	root := t.TempDir()
	for path, text := range map[string]string{
		"usr/lib/systemd/system/anaconda.target": "[Unit]\n",
		"etc/yum.repos.d/fedora.repo":            "[fedora]\n",
		"etc/shadow":                             "root:*:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n",
		"var/log/journal/x":                      "x",
	} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(path)), 0o755)
		os.WriteFile(filepath.Join(root, path), []byte(text), 0o644)
	}
	done, err := InstallerSetup(root)
	if err != nil || len(done) != 6 {
		t.Fatalf("done %q, %v", done, err)
	}
	if target, _ := os.Readlink(filepath.Join(root, "etc/systemd/system/default.target")); target != "/lib/systemd/system/anaconda.target" {
		t.Errorf("default.target -> %q", target)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/anaconda.repos.d/fedora.repo")); err != nil {
		t.Error(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/shadow")); !strings.HasPrefix(string(b), "root::19000") || !strings.Contains(string(b), "bin:*:") {
		t.Errorf("shadow %q", b)
	}
	if _, err := os.Stat(filepath.Join(root, "var/log/journal")); err == nil {
		t.Error("journal kept")
	}

	plain := t.TempDir() // no anaconda: left alone
	if done, err := InstallerSetup(plain); err != nil || done != nil {
		t.Errorf("a root without anaconda: %q %v", done, err)
	}
}

func TestErofsCompressors(t *testing.T) {
	tests := map[string]struct {
		help string
		want []string
	}{
		"erofs-utils 1.5": {"usage: [options] FILE DIRECTORY\n --quiet   quiet execution\n\nAvailable compressors are: lz4hc, lz4\n", []string{"lz4hc", "lz4"}},
		"with lzma":       {"Available compressors are: lz4hc, lz4, lzma\n", []string{"lz4hc", "lz4", "lzma"}},
		"none listed":     {"usage: [options] FILE DIRECTORY\n", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ErofsCompressors(tc.help); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
