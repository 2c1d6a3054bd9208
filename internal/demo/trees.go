package demo

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"fbs/internal/hostarch"
	"fbs/internal/hosttool"
)

// fsDirs are the directories the filesystem package owns, as Fedora's does;
// dnf creates none of them in an installroot.
var fsDirs = map[string]bool{}

func init() {
	for _, d := range []string{"/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib/modules", "/media", "/mnt", "/opt",
		"/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/sbin",
		"/usr/share", "/usr/share/licenses", "/var", "/var/log", "/var/tmp", "/var/lib", "/var/cache"} {
		fsDirs[d] = true
	}
}

// trees prepares each package's file tree from the unpacked Debian packages.
func (b *builder) trees(ctx context.Context, src, debPaths map[string]string) ([]*pkg, error) {
	tree := func(name string) string { return filepath.Join(b.work, "tree", name) }
	var pkgs []*pkg
	add := func(p *pkg) *pkg {
		p.Tree = tree(p.Name)
		if p.Release == "" {
			p.Release = "1"
		}
		pkgs = append(pkgs, p)
		return p
	}

	fsPkg := add(&pkg{Name: "filesystem", Version: "1", Summary: "The basic directory layout", License: "Public Domain", From: "nothing", ownsDirs: true})
	for d := range fsDirs {
		if err := os.MkdirAll(fsPkg.Tree+d, 0o755); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{"/tmp", "/var/tmp"} {
		if err := os.Chmod(fsPkg.Tree+d, 0o1777); err != nil {
			return nil, err
		}
	}

	bbVer, bbRel, err := debVersion(ctx, debPaths["busybox-static"])
	if err != nil {
		return nil, err
	}
	bb := add(&pkg{Name: "busybox", Version: bbVer, Release: bbRel, Summary: "Statically linked shell and utilities", License: "GPL-2.0-only",
		From: "busybox-static", Requires: []string{"filesystem"}, Provides: []string{"/bin/sh", "coreutils", "util-linux"}})
	// busybox lists its applets itself: a foreign arch's runs through
	// binfmt_misc and qemu-user-static.
	if err := hostarch.Check(b.arch.rpm); err != nil {
		return nil, fmt.Errorf("busybox of the demo distro: %w", err)
	}
	if err := busyboxTree(ctx, src["busybox-static"], bb.Tree); err != nil {
		return nil, err
	}

	if err := b.bootPackages(ctx, add, src, debPaths, "lib/modules"); err != nil {
		return nil, err
	}
	if _, err := releasePackage(add); err != nil {
		return nil, err
	}
	ini := add(&pkg{Name: "fbs-demo-init", Version: "1", Summary: "An init that reports the root and powers off", License: "MIT", From: "nothing", Requires: []string{"busybox"}})
	if err := copyEmbedded("files/init", filepath.Join(ini.Tree, "sbin/init"), 0o755); err != nil {
		return nil, err
	}
	dr := add(&pkg{Name: "dracut", Version: "1", Summary: "A busybox initramfs generator taking dracut's arguments", License: "MIT", From: "busybox-static", Requires: []string{"busybox"}})
	if err := copyEmbedded("files/dracut", filepath.Join(dr.Tree, "usr/bin/dracut"), 0o755); err != nil {
		return nil, err
	}
	if err := copyEmbedded("files/initramfs-init", filepath.Join(dr.Tree, "usr/lib/dracut/fbs-demo-init"), 0o755); err != nil {
		return nil, err
	}
	return pkgs, nil
}

// bootPackages adds the kernel, with its modules under modDir, and the
// arch's bootloaders: the packages both chains take from Debian as they
// are. An arch whose media are UEFI only has no BIOS GRUB.
func (b *builder) bootPackages(ctx context.Context, add func(*pkg) *pkg, src, debPaths map[string]string, modDir string) error {
	kVer, kRel, err := debVersion(ctx, debPaths["linux-image"])
	if err != nil {
		return err
	}
	k := add(&pkg{Name: "kernel", Version: kVer, Release: kRel, Summary: "The Linux kernel with the modules a live medium needs", License: "GPL-2.0-only",
		From: filepath.Base(debPaths["linux-image"]), Provides: []string{"kernel-core", "kernel-modules"}})
	if err := b.kernelTree(ctx, src["linux-image"], k.Tree, modDir); err != nil {
		return err
	}
	efiDeb := b.arch.efi.deb
	gVer, gRel, err := debVersion(ctx, debPaths[efiDeb])
	if err != nil {
		return err
	}
	if pcDeb := b.arch.grubPC; pcDeb != "" {
		pc := add(&pkg{Name: "grub2-pc-modules", Version: gVer, Release: gRel, Summary: "GRUB modules for BIOS", License: "GPL-3.0-or-later", From: pcDeb})
		if err := copyTree(filepath.Join(src[pcDeb], "usr/lib/grub/i386-pc"), filepath.Join(pc.Tree, "usr/lib/grub/i386-pc")); err != nil {
			return err
		}
	}
	efi := add(&pkg{Name: b.arch.efi.rpm, Version: gVer, Release: gRel, Summary: "GRUB UEFI image for CD boot", License: "GPL-3.0-or-later", From: efiDeb})
	return b.cdbootImage(ctx, src[efiDeb], efi.Tree)
}

// releasePackage adds fbs-demo-release, in the role of fedora-release.
func releasePackage(add func(*pkg) *pkg) (*pkg, error) {
	rel := add(&pkg{Name: "fbs-demo-release", Version: "1", Summary: "fbs demo release files", License: "MIT", From: "nothing",
		Requires: []string{"filesystem"}, Provides: []string{"system-release", "system-release(1)"}})
	for path, text := range map[string]string{
		"etc/os-release": "NAME=\"fbs demo\"\nVERSION=\"1\"\nID=fbs-demo\nID_LIKE=fedora\nVERSION_ID=1\nPRETTY_NAME=\"fbs demo 1\"\n",
		"etc/issue":      "fbs demo 1\nKernel \\r on \\m (\\l)\n",
		"usr/share/licenses/fbs-demo-release-common/LICENSE": "The fbs demo distro's own files are MIT licensed; its packages keep their Debian licenses.\n",
	} {
		if err := writeFile(filepath.Join(rel.Tree, path), text, 0o644); err != nil {
			return nil, err
		}
	}
	return rel, nil
}

var debRevRe = regexp.MustCompile(`[^A-Za-z0-9._+]`)

// debVersion reads a .deb's version as an RPM version and release.
func debVersion(ctx context.Context, deb string) (string, string, error) {
	out, err := exec.CommandContext(ctx, hosttool.Path("dpkg-deb"), "-f", deb, "Version").Output()
	if err != nil {
		return "", "", fmt.Errorf("dpkg-deb -f %s Version: %w", deb, err)
	}
	v, rel := splitDebVersion(strings.TrimSpace(string(out)))
	return v, rel, nil
}

// splitDebVersion splits a Debian version into an RPM version and release
// (the epoch dropped).
func splitDebVersion(v string) (string, string) {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	rel := "1"
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v, rel = v[:i], v[i+1:]
	}
	return debRevRe.ReplaceAllString(v, "."), debRevRe.ReplaceAllString(strings.ReplaceAll(rel, "+", "."), ".")
}

// busyboxTree installs busybox with a link for each applet, except init,
// which fbs-demo-init provides.
func busyboxTree(ctx context.Context, src, tree string) error {
	bin := filepath.Join(src, "bin/busybox")
	if err := copyFile(bin, filepath.Join(tree, "bin/busybox"), 0o755); err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, bin, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("busybox --list-full: %w", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		rel := strings.TrimSpace(sc.Text())
		if rel == "" || rel == "sbin/init" || rel == "linuxrc" || rel == "bin/busybox" {
			continue
		}
		dst := filepath.Join(tree, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Symlink("/bin/busybox", dst); err != nil {
			return err
		}
	}
	return nil
}

// kernelTree lays out the kernel as Fedora's kernel-core does
// (<modDir>/<kver>/vmlinuz) with only the modules a live boot loads.
func (b *builder) kernelTree(ctx context.Context, src, tree, modDir string) error {
	vmlinuz, _ := filepath.Glob(filepath.Join(src, "boot/vmlinuz-*"))
	if len(vmlinuz) != 1 {
		return fmt.Errorf("kernel package has %d vmlinuz files, want 1", len(vmlinuz))
	}
	kver := strings.TrimPrefix(filepath.Base(vmlinuz[0]), "vmlinuz-")
	// Debian's package carries no modules.dep; depmod writes it (about 2 s).
	if err := b.run(ctx, "", hosttool.Path("depmod"), "-b", src, kver); err != nil {
		return err
	}
	srcMods := filepath.Join(src, "lib/modules", kver)
	dstMods := filepath.Join(tree, modDir, kver)
	deps, err := readModulesDep(filepath.Join(srcMods, "modules.dep"))
	if err != nil {
		return err
	}
	need, err := closure(deps, b.arch.modules)
	if err != nil {
		return err
	}
	for _, rel := range need {
		if err := copyFile(filepath.Join(srcMods, rel), filepath.Join(dstMods, rel), 0o644); err != nil {
			return err
		}
	}
	for _, f := range []string{"modules.order", "modules.builtin", "modules.builtin.modinfo"} {
		if err := copyFile(filepath.Join(srcMods, f), filepath.Join(dstMods, f), 0o644); err != nil {
			return err
		}
	}
	if err := copyFile(vmlinuz[0], filepath.Join(dstMods, "vmlinuz"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(tree, "boot"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink("../lib/modules/"+kver+"/vmlinuz", filepath.Join(tree, "boot", "vmlinuz-"+kver)); err != nil {
		return err
	}
	// depmod -b BASE reads BASE/lib/modules: the tree, or its usr for /usr/lib/modules.
	base := filepath.Join(tree, strings.TrimSuffix(modDir, "lib/modules"))
	return b.run(ctx, "", hosttool.Path("depmod"), "-b", base, kver)
}

func readModulesDep(path string) (map[string][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		mod, rest, ok := strings.Cut(line, ":")
		if ok {
			deps[mod] = strings.Fields(rest)
		}
	}
	return deps, nil
}

// closure returns the module files for names and everything they depend on.
func closure(deps map[string][]string, names []string) ([]string, error) {
	byName := map[string]string{}
	for path := range deps {
		base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		byName[strings.ReplaceAll(base, "-", "_")] = path
	}
	seen := map[string]bool{}
	var out []string
	var visit func(string)
	visit = func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		out = append(out, path)
		for _, d := range deps[path] {
			visit(d)
		}
	}
	for _, n := range names {
		path, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("kernel has no module %s", n)
		}
		visit(path)
	}
	return out, nil
}

// cdbootImage makes the UEFI GRUB image that Fedora's grub2-efi-x64-cdboot
// ships as gcdx64.efi (grub2-efi-aa64-cdboot as gcdaa64.efi): modules
// built in, configuration from /EFI/BOOT. The host's grub-mkimage makes it
// for any arch from that arch's modules.
func (b *builder) cdbootImage(ctx context.Context, src, tree string) error {
	out := filepath.Join(tree, "boot/efi/EFI/fedora", b.arch.efi.image)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return b.run(ctx, "", b.arch.efi.mkimageArgs(src, out)...)
}

func writeFile(path, text string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), mode)
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func copyTree(src, dst string) error {
	return os.CopyFS(dst, os.DirFS(src))
}
