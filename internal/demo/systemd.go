package demo

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"fbs/internal/hosttool"
	"fbs/internal/runner"
)

// dracutRoots are the Debian packages whose dependency closure makes the
// dracut chain's distro: what Fedora's @core and a live image's dracut,
// dracut-live and media check take, in Debian's packages.
var dracutRoots = []string{"systemd", "systemd-sysv", "udev", "dbus", "dracut", "dracut-live", "dracut-network",
	"bash", "coreutils", "util-linux", "kmod", "login", "passwd", "libc-bin", "tzdata", "debianutils", "mawk",
	"findutils", "grep", "sed", "gzip", "tar", "xz-utils", "hostname", "diffutils", "ncurses-base", "ncurses-bin",
	"procps", "iproute2", "less", "isomd5sum", "curl", "ntfs-3g"}

// notPackaged says a package of the closure stays out of the distro: dpkg,
// debconf and perl serve only Debian's maintainer scripts, whose work the
// RPMs do when they are made or in %posttrans; base-files and base-passwd
// give way to Fedora's setup and filesystem roles.
func notPackaged(name string) bool {
	switch name {
	case "dpkg", "debconf", "adduser", "usrmerge", "init-system-helpers", "libdebconfclient0", "base-files", "base-passwd",
		"libgdbm6", "libgdbm-compat4":
		return true
	}
	return name == "perl" || strings.HasPrefix(name, "perl-") || strings.HasPrefix(name, "libperl") || strings.HasSuffix(name, "-perl")
}

// fedoraNames are the Debian packages that play a Fedora package's role,
// under that package's name; each keeps its Debian name as a Provides.
var fedoraNames = map[string]string{
	"libc6": "glibc", "libc-bin": "glibc-common", "udev": "systemd-udev", "passwd": "shadow-utils",
	"procps": "procps-ng", "iproute2": "iproute", "xz-utils": "xz",
}

func rpmName(deb string) string {
	if n, ok := fedoraNames[deb]; ok {
		return n
	}
	return deb
}

// tweak is what a package's Debian maintainer scripts do that the image
// needs, done when its RPM is made (the links update-alternatives makes,
// the files a postinst copies) or in its %posttrans.
type tweak struct {
	links     map[string]string // path in the tree -> link target
	copies    map[string]string // path in the tree -> the tree's file it copies
	requires  []string          // what Fedora's package requires and Debian's only recommends
	provides  []string
	posttrans string
	patch     string // an embedded patch to the tree, for -p1
}

var tweaks = map[string]tweak{
	// On Fedora /bin/sh is bash (on Debian dash's).
	"bash":        {links: map[string]string{"usr/bin/sh": "bash"}, provides: []string{"/bin/sh", "/usr/bin/sh", "/bin/bash"}},
	"mawk":        {links: map[string]string{"usr/bin/awk": "mawk"}, provides: []string{"awk"}},
	"debianutils": {links: map[string]string{"usr/bin/which": "which.debianutils"}, provides: []string{"which"}},
	// pam-auth-update writes the common-* files from these templates.
	"libpam-runtime": {copies: map[string]string{
		"etc/pam.d/common-auth": "usr/share/pam/common-auth", "etc/pam.d/common-account": "usr/share/pam/common-account",
		"etc/pam.d/common-password": "usr/share/pam/common-password", "etc/pam.d/common-session": "usr/share/pam/common-session",
		"etc/pam.d/common-session-noninteractive": "usr/share/pam/common-session-noninteractive"}},
	"libc-bin": {posttrans: "/usr/sbin/ldconfig"},
	// livemedia-creator's --add livenet takes dracut's network modules and
	// curl, and its dmsquash-live-ntfs ntfs-3g: dracut fails without them.
	// The module in place of anaconda's (files/dracut-chain/dracut) hands
	// stage2 to dmsquash-live, as anaconda-dracut does.
	"dracut":      {requires: []string{"dracut-live"}},
	"dracut-live": {requires: []string{"dracut-network", "curl", "ntfs-3g"}, patch: "files/dracut-chain/patches/dracut-live.patch"},
	// Fedora's systemd makes the system users from sysusers.d and applies
	// the presets to the units installed with it.
	"systemd": {posttrans: "systemd-sysusers\nsystemctl preset-all"},
}

// dracutTrees prepares the dracut chain's packages: Fedora's filesystem,
// setup and release roles, the kernel and bootloaders, the report unit,
// and one RPM per Debian package of the closure.
func (b *builder) dracutTrees(ctx context.Context, src, debPaths map[string]string, closure []string) ([]*pkg, error) {
	var pkgs []*pkg
	add := func(p *pkg) *pkg {
		if p.Tree == "" {
			p.Tree = filepath.Join(b.work, "tree", p.Name)
		}
		if p.Release == "" {
			p.Release = "1"
		}
		if p.Name != "filesystem" {
			p.Requires = append(p.Requires, "filesystem")
		}
		pkgs = append(pkgs, p)
		return p
	}
	if err := usrMergedFilesystem(add(&pkg{Name: "filesystem", Version: "1", Summary: "The basic directory layout, /usr merged",
		License: "Public Domain", From: "nothing", ownsDirs: true}).Tree); err != nil {
		return nil, err
	}
	setup := add(&pkg{Name: "setup", Version: "1", Summary: "System accounts and configuration files", License: "Public Domain", From: "nothing"})
	if err := copyEmbeddedTree("files/dracut-chain/setup", setup.Tree); err != nil {
		return nil, err
	}
	rel, err := releasePackage(add)
	if err != nil {
		return nil, err
	}
	if err := copyEmbeddedTree("files/dracut-chain/release", rel.Tree); err != nil {
		return nil, err
	}
	report := add(&pkg{Name: "fbs-demo-init", Version: "2", Summary: "A unit that reports on the console once multi-user.target is reached",
		License: "MIT", From: "nothing", Requires: []string{"systemd", "util-linux"}})
	if err := copyEmbeddedTree("files/dracut-chain/report", report.Tree); err != nil {
		return nil, err
	}
	// A demo system is set up by its kickstart, or is a boot.iso's stage2:
	// systemd-firstboot's prompts would hold the serial console. An empty
	// unit file masks it.
	if err := writeFile(filepath.Join(report.Tree, "etc/systemd/system/systemd-firstboot.service"), "", 0o644); err != nil {
		return nil, err
	}
	if err := b.bootPackages(ctx, add, src, debPaths, "usr/lib/modules"); err != nil {
		return nil, err
	}

	controls := map[string]control{}
	have := map[string]bool{}
	for _, name := range closure {
		c, err := readControl(ctx, debPaths[name])
		if err != nil {
			return nil, err
		}
		controls[name] = c
		have[name] = true
		for _, p := range c.Provides {
			have[p] = true
		}
	}
	for _, name := range closure {
		p, err := b.debPackage(ctx, name, src[name], controls[name], have)
		if err != nil {
			return nil, fmt.Errorf("repackage %s: %w", name, err)
		}
		add(p)
	}
	// The demo's dracut is configured generic, as Fedora's images have it
	// with dracut-config-generic, and holds a small module in place of
	// anaconda's, which Debian lacks, to find a boot.iso's stage2 (see its
	// module-setup.sh).
	for _, p := range pkgs {
		if p.Name == "dracut" {
			if err := copyEmbeddedTree("files/dracut-chain/dracut", p.Tree); err != nil {
				return nil, err
			}
		}
	}
	var trees []string
	for _, p := range pkgs {
		trees = append(trees, p.Tree)
	}
	return pkgs, dedupe(trees)
}

// debPackage turns an unpacked Debian package into an RPM's tree: /usr
// merged, documentation left out but for the copyright (as Fedora's
// licence files), Requires from Depends and Pre-Depends (the first
// alternative the distro has), Provides from Provides.
func (b *builder) debPackage(ctx context.Context, name, tree string, c control, have map[string]bool) (*pkg, error) {
	if err := usrMerge(tree); err != nil {
		return nil, err
	}
	tw := tweaks[name]
	if tw.patch != "" {
		diff, err := files.ReadFile(tw.patch)
		if err != nil {
			return nil, err
		}
		err = b.r.Run(ctx, runner.Cmd{Args: []string{hosttool.Path("patch"), "-p1", "--batch", "--forward", "--no-backup-if-mismatch", "-d", tree},
			Stdin: bytes.NewReader(diff)})
		if err != nil {
			return nil, fmt.Errorf("apply %s: %w", tw.patch, err)
		}
	}
	if copyright := filepath.Join(tree, "usr/share/doc", name, "copyright"); exists(copyright) {
		if err := copyFile(copyright, filepath.Join(tree, "usr/share/licenses", name, "copyright"), 0o644); err != nil {
			return nil, err
		}
	}
	for _, t := range trimmed {
		if err := os.RemoveAll(filepath.Join(tree, t)); err != nil {
			return nil, err
		}
	}
	for link, target := range tw.links {
		if err := os.Symlink(target, filepath.Join(tree, link)); err != nil {
			return nil, err
		}
	}
	for dst, from := range tw.copies {
		if err := copyFile(filepath.Join(tree, from), filepath.Join(tree, dst), 0o644); err != nil {
			return nil, err
		}
	}
	version, release := splitDebVersion(c.Version)
	p := &pkg{Name: rpmName(name), Version: version, Release: release, Summary: c.Summary,
		License: "see /usr/share/licenses/" + name + "/copyright", From: name, Tree: tree, PostTrans: tw.posttrans}
	seen := map[string]bool{p.Name: true, name: true}
	clauses := c.Depends
	for _, r := range tw.requires {
		clauses = append(clauses, []string{r})
	}
	for _, alts := range clauses {
		for _, alt := range alts {
			if have[alt] {
				if dep := rpmName(alt); !seen[dep] {
					seen[dep] = true
					p.Requires = append(p.Requires, dep)
				}
				break
			}
		}
	}
	if p.Name != name {
		p.Provides = append(p.Provides, name)
	}
	p.Provides = append(p.Provides, c.Provides...)
	p.Provides = append(p.Provides, tw.provides...)
	return p, nil
}

// usrMergedFilesystem lays out Fedora's directories, with /bin, /sbin,
// /lib and /lib64 as links into /usr.
func usrMergedFilesystem(tree string) error {
	for d := range fsDirs {
		switch d {
		case "/bin", "/sbin", "/lib", "/lib/modules":
			continue
		}
		if err := os.MkdirAll(tree+d, 0o755); err != nil {
			return err
		}
	}
	for _, d := range []string{"/usr/lib64", "/usr/lib/modules"} {
		if err := os.MkdirAll(tree+d, 0o755); err != nil {
			return err
		}
	}
	for _, d := range []string{"/tmp", "/var/tmp"} {
		if err := os.Chmod(tree+d, 0o1777); err != nil {
			return err
		}
	}
	for _, l := range []string{"bin", "sbin", "lib", "lib64"} {
		if err := os.Symlink("usr/"+l, filepath.Join(tree, l)); err != nil {
			return err
		}
	}
	return nil
}

// copyEmbeddedTree copies an embedded dir into tree: scripts executable,
// the shadow files readable by root alone, as Fedora's setup has them.
func copyEmbeddedTree(dir, tree string) error {
	return fs.WalkDir(files, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		switch {
		case strings.HasPrefix(string(data), "#!"):
			mode = 0o755
		case path.Base(name) == "shadow" || path.Base(name) == "gshadow":
			mode = 0
		}
		dst := filepath.Join(tree, strings.TrimPrefix(name, dir))
		if err := writeFile(dst, string(data), mode); err != nil {
			return err
		}
		return os.Chmod(dst, mode)
	})
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
