package build

import (
	"context"
	"path/filepath"
	"strings"

	"fbs/internal/beneath"
	"fbs/internal/image"
	"fbs/internal/kickstart"
	"fbs/internal/spec"
)

// A boot (installer) ISO is built as lorax builds one, and a DVD's
// installer so too: the runtime package set into a root, which becomes
// images/install.img, with inst.stage2=hd:LABEL=<volid> on the kernel line.

// requestRepos takes a boot request's repos from its [boot] section.
func (b *build) requestRepos(context.Context) (string, error) {
	b.repos = bootRepos(b.req, kickstart.Pos{File: b.req.Source})
	return "", nil
}

// runtimeSet is the installer's runtime package set (and the [boot]
// section's packages), errors pointing at the kickstart's %packages or
// the request.
func (b *build) runtimeSet() kickstart.Packages {
	pkgs := kickstart.Packages{NoCore: true, Include: image.RuntimePackages(b.req.Product(), b.req.Arch), Pos: kickstart.Pos{File: b.req.Source}}
	if b.ks != nil {
		pkgs.Pos = b.ks.Packages.Pos
	}
	if b.req.Boot != nil {
		pkgs.Include = append(pkgs.Include, b.req.Boot.Packages...)
	}
	return pkgs
}

// bootRepos are the [boot] section's repos: the release, and its updates
// and updates-testing when asked for. Each is named after its keys' prefix
// ("40-updates" for 40-updates_url and 40-updates_mirror), so an error
// about it points at them.
func bootRepos(r *spec.Request, pos kickstart.Pos) []kickstart.Repo {
	bt := r.Boot
	var repos []kickstart.Repo
	add := func(name string, src spec.RepoSource) {
		repo := kickstart.Repo{Name: name, BaseURL: src.URL, Proxy: bt.Proxy, Pos: pos}
		if src.Mirror != "" {
			if isMetalink(src.Mirror) {
				repo.Metalink = src.Mirror
			} else {
				repo.Mirrorlist = src.Mirror
			}
		}
		repos = append(repos, repo)
	}
	add(r.Release, bt.Repo)
	if bt.Updates {
		add(r.Release+"-updates", bt.UpdatesRepo)
	}
	if bt.UpdatesTesting {
		add(r.Release+"-updates-testing", bt.TestingRepo)
	}
	return repos
}

// isMetalink tells Fedora's metalink URLs (mirrors.fedoraproject.org/metalink?…)
// from plain mirrorlists.
func isMetalink(u string) bool {
	return strings.Contains(u, "metalink")
}

// proxy is the [boot] section's proxy, for Koji and dnf.
func (b *build) proxy() string {
	if b.req.Boot != nil {
		return b.req.Boot.Proxy
	}
	return ""
}

// imageStamp is what .buildstamp, .discinfo and .treeinfo say of the product.
func (b *build) imageStamp() image.Stamp {
	st := image.Stamp{Product: b.req.Product(), Version: b.req.Version(), Arch: b.req.Arch, BugURL: "your distribution provided bug reporting tool", Time: b.started}
	if b.req.DVD != nil {
		st.BugURL = b.req.DVD.BugURL
	}
	return st
}

// installerSetup makes anaconda start in the root where it is installed
// (lorax's runtime-postinstall, the essential part), and writes the
// /.buildstamp anaconda and dracut read.
func (b *build) installerSetup(context.Context) (string, error) {
	done, err := image.InstallerSetup(b.root)
	for _, d := range done {
		b.log.Printf("installer setup: %s", d)
	}
	if err != nil {
		return "", err
	}
	return "", beneath.WriteFile(b.root, ".buildstamp", []byte(b.imageStamp().BuildStamp()), 0o644)
}

// installerTreeInfo writes a boot ISO's .discinfo and .treeinfo.
func (b *build) installerTreeInfo(context.Context) (string, error) {
	if err := beneath.MkdirAll(b.work, "parts", 0o755); err != nil {
		return "", err
	}
	st := b.imageStamp()
	for name, text := range map[string]string{".discinfo": st.DiscInfo(), ".treeinfo": st.TreeInfo()} {
		if err := beneath.WriteFile(b.parts(), name, []byte(text), 0o644); err != nil {
			return "", err
		}
		b.addFile(name, filepath.Join(b.parts(), name))
	}
	return "", nil
}

// addFile puts a file onto the ISO at path.
func (b *build) addFile(path, file string) {
	if b.files == nil {
		b.files = map[string]string{}
	}
	b.files[path] = file
}

func (b *build) parts() string { return filepath.Join(b.work, "parts") }
