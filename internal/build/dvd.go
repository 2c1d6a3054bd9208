package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fbs/internal/beneath"
	"fbs/internal/hosttool"
	"fbs/internal/image"
	"fbs/internal/publish"
	"fbs/internal/rpmrepo"
	"fbs/internal/runner"
)

// A DVD is laid out as pungi lays one out: the kickstart's packages with
// their whole dependency closure in Packages/<first letter>/, a repository
// over them with the repos' comps groups, and the boot ISO's content.

// dvdFiles writes the tree's media.repo and .discinfo.
func (b *build) dvdFiles(context.Context) (string, error) {
	st := b.imageStamp()
	tree := b.tree()
	for name, text := range map[string]string{"media.repo": st.MediaRepo(), ".discinfo": st.DiscInfo() + "ALL\n"} {
		if err := beneath.WriteFile(tree, name, []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	for _, name := range []string{"Packages", "repodata", "media.repo", ".discinfo"} {
		b.addFile(name, filepath.Join(tree, name))
	}
	return "", nil
}

// dvdTreeInfo writes the .treeinfo, which holds the checksums of the
// installer's images.
func (b *build) dvdTreeInfo(context.Context) (string, error) {
	sums := map[string]string{}
	images := map[string]string{"images/install.img": filepath.Join(b.parts(), "root.img"),
		"images/pxeboot/initrd.img": filepath.Join(b.parts(), "initrd.img")}
	if !b.platform.BIOS {
		images[image.EFIImage] = filepath.Join(b.parts(), "efiboot.img")
	}
	for name, path := range images {
		// Not OpenSole: fbs itself links root.img into the cache of
		// earlier images, and no build's code reaches parts/ (see
		// initramfs and post).
		f, err := beneath.Open(b.parts(), filepath.Base(path))
		if err != nil {
			return "", err
		}
		_, sums[name], err = publish.Sum(f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	// The kernel is the root's, where /lib may be a symlink to usr/lib.
	rel, _ := filepath.Rel(b.root, b.boot.Kernel)
	k, err := beneath.OpenInRoot(b.root, rel)
	if err != nil {
		return "", err
	}
	defer k.Close()
	if _, sums["images/pxeboot/vmlinuz"], err = publish.Sum(k); err != nil {
		return "", err
	}
	b.addFile(".treeinfo", filepath.Join(b.tree(), ".treeinfo"))
	return "", beneath.WriteFile(b.tree(), ".treeinfo", []byte(b.imageStamp().ProductTreeInfo(b.req.DVD.Flavor, sums)), 0o644)
}

func (b *build) tree() string { return filepath.Join(b.work, "dvd") }

// gather downloads the kickstart's packages with their whole closure (dnf
// resolving into an empty root) and files them as pungi does, by the first
// letter of their name; every RPM of the Koji builds goes in too.
func (b *build) gather(ctx context.Context) (string, error) {
	flat, tree := filepath.Join(b.work, "gathered"), b.tree()
	in, err := b.transaction(ctx, b.ks.Packages, filepath.Join(b.work, "gather-root"))
	if err != nil {
		return "", err
	}
	in.DownloadTo = flat
	if err := b.dnf(ctx, b.ks.Packages, in); err != nil {
		return "", err
	}
	files, _ := filepath.Glob(filepath.Join(flat, "*.rpm"))
	put := map[string]func(src, dir, name string) (string, error){}
	for _, f := range files {
		put[f] = publish.Copy
	}
	if b.side != nil {
		for _, f := range b.side.fetched {
			for _, file := range f.Files {
				// A copy: a link would let the build's code change the shared Koji cache.
				put[file] = publish.Duplicate
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
func (b *build) dvdRepo(ctx context.Context) (string, error) {
	args := []string{hosttool.Path("createrepo_c"), "--quiet"}
	note := "no comps groups in the repos"
	for _, r := range b.repos {
		comps, err := rpmrepo.Comps(ctx, r, b.req.Releasever(), b.req.Arch)
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
	if err := b.run.Run(ctx, runner.Cmd{Args: append(args, b.tree())}); err != nil {
		return "", err
	}
	return note, nil
}
