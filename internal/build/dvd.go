package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fbs/internal/beneath"
	"fbs/internal/dnf"
	"fbs/internal/hosttool"
	"fbs/internal/image"
	"fbs/internal/kickstart"
	"fbs/internal/rpmrepo"
	"fbs/internal/runner"
	"fbs/internal/stage"
)

// dvd builds a DVD as pungi lays it out: the kickstart's packages with
// their whole dependency closure in Packages/<first letter>/, a repository
// over them with the repos' comps groups, and the boot ISO's content.
func (b *build) dvd(ctx context.Context, target stage.Target) ([]Artifact, error) {
	d := b.req.DVD
	var ks *kickstart.Kickstart
	ksPath := filepath.Join(b.work, d.Label+".ks")
	err := b.stage("kickstart", func() (string, error) {
		var err error
		if ks, err = b.kickstart(ctx); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d lines, %d repo(s), %d package item(s)", len(ks.Lines), len(ks.Repos), len(ks.Packages.Include)+len(ks.Packages.Groups)), nil
	})
	if err != nil {
		return nil, err
	}
	if err := b.writeKickstart(ctx, ks, ksPath); err != nil {
		return nil, err
	}
	tree := filepath.Join(b.work, "dvd")
	if err := b.stage("gather", func() (string, error) { return b.gather(ctx, ks, tree) }); err != nil {
		return nil, err
	}
	if err := b.stage("repo", func() (string, error) { return b.dvdRepo(ctx, ks.Repos, tree) }); err != nil {
		return nil, err
	}
	root := filepath.Join(b.work, "root")
	runtime := kickstart.Packages{NoCore: true, Include: image.RuntimePackages(d.Name, b.req.Arch), Pos: ks.Packages.Pos}
	st := image.Stamp{Product: d.Name, Version: d.Version, Arch: b.req.Arch, BugURL: d.BugURL, Time: b.started}
	if err := b.runtimeRoot(ctx, ks.Repos, runtime, "", root, st); err != nil {
		return nil, err
	}
	for name, text := range map[string]string{"media.repo": st.MediaRepo(), ".discinfo": st.DiscInfo() + "ALL\n"} {
		if err := beneath.WriteFile(tree, name, []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	return b.media(ctx, target, root, medium{
		rootImage: "images/install.img",
		dracut:    image.InstallerDracutArgs,
		menu:      image.InstallerMenu(d.Label, d.Name, d.Version, ks.Bootloader.Append, menuTimeout(ks)),
		files: map[string]string{"Packages": filepath.Join(tree, "Packages"), "repodata": filepath.Join(tree, "repodata"),
			"media.repo": filepath.Join(tree, "media.repo"), ".discinfo": filepath.Join(tree, ".discinfo")},
		repos:   ks.Repos,
		pkgsPos: ks.Packages.Pos,
		ksPath:  ksPath,
		more: func(parts string, boot *image.Boot) (map[string]string, error) {
			sums := map[string]string{}
			for name, path := range map[string]string{"images/install.img": filepath.Join(parts, "root.img"),
				"images/pxeboot/initrd.img": filepath.Join(parts, "initrd.img")} {
				a := Artifact{Path: path}
				if err := hashFile(&a); err != nil {
					return nil, err
				}
				sums[name] = a.SHA256
			}
			// The kernel is the root's, where /lib may be a symlink to usr/lib.
			rel, _ := filepath.Rel(root, boot.Kernel)
			k, err := beneath.OpenInRoot(root, rel)
			if err != nil {
				return nil, err
			}
			defer k.Close()
			if _, sums["images/pxeboot/vmlinuz"], err = stage.Sum(k); err != nil {
				return nil, err
			}
			ti := filepath.Join(tree, ".treeinfo")
			return map[string]string{".treeinfo": ti}, beneath.WriteFile(tree, ".treeinfo", []byte(st.ProductTreeInfo(d.Flavor, sums)), 0o644)
		},
	})
}

// gather downloads the kickstart's packages with their whole closure (dnf
// resolving into an empty root) and files them as pungi does, by the first
// letter of their name; every RPM of the Koji builds goes in too.
func (b *build) gather(ctx context.Context, ks *kickstart.Kickstart, tree string) (string, error) {
	flat := filepath.Join(b.work, "gathered")
	repos := b.withSide(ks.Repos)
	in := dnf.Install{
		Root: filepath.Join(b.work, "gather-root"), CacheDir: filepath.Join(b.opts.CacheDir, "dnf"), ReposDir: filepath.Join(b.work, "repos.d"),
		Releasever: b.releasever, Arch: b.req.Arch, Packages: dnf.Packages(ks.Packages), Exclude: ks.Packages.Exclude, DownloadTo: flat,
	}
	if err := dnf.WriteRepos(in.ReposDir, repos); err != nil {
		return "", err
	}
	if err := b.dnf(ctx, repos, ks.Packages, in); err != nil {
		return "", err
	}
	files, _ := filepath.Glob(filepath.Join(flat, "*.rpm"))
	put := map[string]func(src, dir, name string) (string, error){}
	for _, f := range files {
		put[f] = stage.Copy
	}
	if b.side != nil {
		for _, f := range b.side.fetched {
			for _, file := range f.Files {
				// A copy: a link would let the build's code change the shared Koji cache.
				put[file] = stage.Duplicate
			}
		}
	}
	n := 0
	for f, copyIn := range put {
		name := filepath.Base(f)
		dir := filepath.Join(tree, "Packages", strings.ToLower(name[:1]))
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			continue // a Koji RPM the closure holds already
		}
		if _, err := copyIn(f, dir, name); err != nil {
			return "", err
		}
		n++
	}
	os.RemoveAll(flat)
	return fmt.Sprintf("%d packages", n), nil
}

// dvdRepo makes the DVD's repodata, with the first comps file the
// kickstart's repos offer, so that the groups install from the DVD.
func (b *build) dvdRepo(ctx context.Context, repos []kickstart.Repo, tree string) (string, error) {
	args := []string{hosttool.Path("createrepo_c"), "--quiet"}
	note := "no comps groups in the repos"
	for _, r := range repos {
		comps, err := rpmrepo.Comps(ctx, r, b.releasever, b.req.Arch)
		if err != nil {
			b.log.Printf("repo %s: no comps: %v", r.Name, err)
			continue
		}
		if comps == nil {
			continue
		}
		path := filepath.Join(b.work, "comps.xml")
		if err := os.WriteFile(path, comps, 0o644); err != nil {
			return "", err
		}
		args = append(args, "--groupfile", path)
		note = "comps from repo " + r.Name
		break
	}
	if err := b.run.Run(ctx, runner.Cmd{Args: append(args, tree)}); err != nil {
		return "", err
	}
	return note, nil
}
