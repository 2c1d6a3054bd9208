package build

import (
	"context"
	"path/filepath"
	"strings"

	"fbs/internal/beneath"
	"fbs/internal/image"
	"fbs/internal/kickstart"
	"fbs/internal/spec"
	"fbs/internal/stage"
)

// installer builds a boot (installer) ISO as lorax does: the runtime package
// set into a root, which becomes images/install.img, with
// inst.stage2=hd:LABEL=<volid> on the kernel line.
func (b *build) installer(ctx context.Context, target stage.Target) ([]Artifact, error) {
	bt := b.req.Boot
	root := filepath.Join(b.work, "root")
	pos := kickstart.Pos{File: b.req.Source}
	repos := bootRepos(b.req, pos)
	pkgs := kickstart.Packages{NoCore: true, Include: append(image.RuntimePackages(bt.Product, b.req.Arch), bt.Packages...), Pos: pos}
	if err := b.kojiStage(ctx, bt.Proxy); err != nil {
		return nil, err
	}
	st := image.Stamp{Product: bt.Product, Version: bt.Version, Arch: b.req.Arch, BugURL: "your distribution provided bug reporting tool", Time: b.started}
	if err := b.runtimeRoot(ctx, repos, pkgs, bt.Proxy, root, st); err != nil {
		return nil, err
	}
	parts := filepath.Join(b.work, "parts")
	if err := beneath.MkdirAll(b.work, "parts", 0o755); err != nil {
		return nil, err
	}
	files := map[string]string{}
	for name, text := range map[string]string{".discinfo": st.DiscInfo(), ".treeinfo": st.TreeInfo()} {
		if err := beneath.WriteFile(parts, name, []byte(text), 0o644); err != nil {
			return nil, err
		}
		files[name] = filepath.Join(parts, name)
	}
	timeout := loraxTimeout
	if bt.Timeout != nil {
		timeout = *bt.Timeout
	}
	return b.media(ctx, target, root, medium{
		rootImage: "images/install.img",
		dracut:    image.InstallerDracutArgs,
		menu:      image.InstallerMenu(bt.Label, bt.Product, bt.Version, bt.Append, timeout),
		files:     files,
		repos:     repos,
		pkgsPos:   pos,
	})
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

// runtimeRoot installs an installer's runtime package set into root (the
// packages stage), makes anaconda start in it where it is installed
// (lorax's runtime-postinstall, the essential part), and writes the
// /.buildstamp anaconda and dracut read.
func (b *build) runtimeRoot(ctx context.Context, repos []kickstart.Repo, pkgs kickstart.Packages, proxy, root string, st image.Stamp) error {
	if err := b.stage("packages", func() (string, error) {
		return b.install(ctx, repos, pkgs, b.releasever, proxy, root)
	}); err != nil {
		return err
	}
	done, err := image.InstallerSetup(root)
	for _, d := range done {
		b.log.Printf("installer setup: %s", d)
	}
	if err != nil {
		return err
	}
	return beneath.WriteFile(root, ".buildstamp", []byte(st.BuildStamp()), 0o644)
}
