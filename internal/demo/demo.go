// Package demo builds the demo distro: a real RPM repository, made with
// rpmbuild and createrepo_c from Debian's packages, laid out where fbs
// reads a Fedora root. Tests and "fbs demo" build images from it, as no
// Fedora mirror is within reach of our machines. It comes in two chains
// (chain.go): Debian's busybox in dracut's and init's places, or Debian's
// dracut, systemd and udev with the closure of their dependencies.
package demo

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"golang.org/x/sync/errgroup"

	"fbs/internal/hosttool"
	"fbs/internal/runner"
)

//go:embed files
var files embed.FS

// formatVersion changes whenever the packages' make-up changes, so that
// a cached repo from an older fbs is rebuilt.
const formatVersion = "4"

// Repo builds the demo repository of a chain for an arch (x86_64 or
// aarch64) into dir, from Debian's packages of that arch, with them and
// the build's scratch space under cache. It returns false when dir
// already held the same repo and nothing was rebuilt.
func Repo(ctx context.Context, r *runner.Runner, dir, cache string, chain Chain, archName string) (bool, error) {
	a, err := archNamed(archName)
	if err != nil {
		return false, fmt.Errorf("demo repo: %w", err)
	}
	b := &builder{r: r, dir: dir, cache: cache, arch: a, work: filepath.Join(cache, "demo-build-"+string(chain)+archSuffix(a.rpm))}
	debPaths, closure, err := b.fetchDebs(ctx, chain)
	if err != nil {
		return false, fmt.Errorf("demo repo: %w", err)
	}
	built, err := b.unlessStamped(".fbs-demo-stamp", stampOf(chain, a.rpm, debPaths), func() error {
		return b.build(ctx, chain, debPaths, closure)
	})
	if err != nil {
		return false, fmt.Errorf("demo repo: %w", err)
	}
	return built, nil
}

// unlessStamped runs rebuild to make the repo in b.dir unless its stamp
// file already holds stamp, then records stamp; it reports whether rebuild
// ran. Nothing is rebuilt when its inputs did not change.
func (b *builder) unlessStamped(name, stamp string, rebuild func() error) (bool, error) {
	stampFile := filepath.Join(b.dir, name)
	if old, err := os.ReadFile(stampFile); err == nil && string(old) == stamp {
		if _, err := os.Stat(filepath.Join(b.dir, "repodata", "repomd.xml")); err == nil {
			b.r.Log.Printf("repo %s is up to date", b.dir)
			return false, nil
		}
	}
	if err := rebuild(); err != nil {
		return false, err
	}
	if err := os.WriteFile(stampFile, []byte(stamp), 0o644); err != nil {
		return false, err
	}
	return true, os.RemoveAll(b.work)
}

type builder struct {
	r                *runner.Runner
	dir, cache, work string
	arch             arch
}

func (b *builder) run(ctx context.Context, dir string, args ...string) error {
	return b.r.Run(ctx, runner.Cmd{Args: args, Dir: dir})
}

// fetchDebs returns the cached .deb files of the builder's arch by
// package name, downloading what is missing from Debian's archive with
// apt-get, and the names of the packages of the dracut chain's closure.
func (b *builder) fetchDebs(ctx context.Context, chain Chain) (map[string]string, []string, error) {
	dir := filepath.Join(b.cache, b.arch.debDir())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	out := map[string]string{}
	if out["linux-image"] = globOne(dir, b.arch.kernelGlob()); out["linux-image"] == "" {
		kpkg, err := kernelPackage(ctx, b.arch)
		if err != nil {
			return nil, nil, err
		}
		if err := b.download(ctx, dir, kpkg); err != nil {
			return nil, nil, err
		}
		if out["linux-image"] = globOne(dir, kpkg+"_*.deb"); out["linux-image"] == "" {
			return nil, nil, fmt.Errorf("apt-get download %s left no .deb in %s", kpkg, dir)
		}
	}
	for _, name := range chain.debs(b.arch) {
		if p := globOne(dir, name+"_*.deb"); p != "" {
			out[name] = p
			continue
		}
		if err := b.download(ctx, dir, name); err != nil {
			return nil, nil, err
		}
		if out[name] = globOne(dir, name+"_*.deb"); out[name] == "" {
			return nil, nil, fmt.Errorf("apt-get download %s left no .deb in %s", name, dir)
		}
	}
	if chain != Dracut {
		return out, nil, nil
	}
	refs, err := aptClosure(ctx, b.arch, dracutRoots)
	if err != nil {
		return nil, nil, err
	}
	var closure, missing []string
	for _, ref := range refs {
		if notPackaged(ref.Name) {
			continue
		}
		closure = append(closure, ref.Name)
		out[ref.Name] = filepath.Join(dir, ref.File())
		if _, err := os.Stat(out[ref.Name]); err != nil {
			missing = append(missing, ref.Name+"="+ref.Version)
		}
	}
	if len(missing) > 0 {
		if err := b.download(ctx, dir, missing...); err != nil {
			return nil, nil, err
		}
	}
	return out, closure, nil
}

func (b *builder) download(ctx context.Context, dir string, pkgs ...string) error {
	args := append([]string{hosttool.Path("apt-get"), "-q", "-o", "APT::Sandbox::User=root"}, b.arch.aptOptions()...)
	if err := b.run(ctx, dir, append(append(args, "download"), pkgs...)...); err != nil {
		return fmt.Errorf("download %s from Debian's archive (run apt-get update first if the package lists are empty%s): %w",
			strings.Join(pkgs, " "), b.arch.foreignHint(), err)
	}
	return nil
}

// kernelPackage names the kernel that Debian's linux-image-<arch> depends on now.
func kernelPackage(ctx context.Context, a arch) (string, error) {
	meta := "linux-image-" + a.deb
	out, err := exec.CommandContext(ctx, hosttool.Path("apt-cache"), append(a.aptOptions(), "depends", meta)...).Output()
	if err != nil {
		return "", fmt.Errorf("apt-cache depends %s: %w (run apt-get update%s)", meta, err, a.foreignHint())
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "Depends:" && strings.HasPrefix(f[1], "linux-image-") {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("apt-cache names no kernel for %s (run apt-get update%s)", meta, a.foreignHint())
}

func globOne(dir, pattern string) string {
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(m) == 0 {
		return ""
	}
	sort.Strings(m)
	return m[len(m)-1]
}

// stampOf identifies a repo build by its inputs: the chain, the arch, the
// .deb files and the demo distro's own files.
func stampOf(chain Chain, arch string, debPaths map[string]string) string {
	h := sha256.New()
	fmt.Fprintln(h, formatVersion, chain, arch)
	var names []string
	for _, p := range debPaths {
		names = append(names, filepath.Base(p))
	}
	sort.Strings(names)
	fmt.Fprintln(h, strings.Join(names, "\n"))
	fs.WalkDir(files, "files", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := files.ReadFile(path)
			fmt.Fprintf(h, "%s %d\n", path, len(data))
			h.Write(data)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

func (b *builder) build(ctx context.Context, chain Chain, debPaths map[string]string, closure []string) error {
	if err := os.RemoveAll(b.work); err != nil {
		return err
	}
	src := map[string]string{}
	for name := range debPaths {
		src[name] = filepath.Join(b.work, "deb", name)
	}
	unpack, uctx := errgroup.WithContext(ctx)
	unpack.SetLimit(4)
	for name, deb := range debPaths {
		unpack.Go(func() error {
			if err := os.MkdirAll(src[name], 0o755); err != nil {
				return err
			}
			return b.run(uctx, "", hosttool.Path("dpkg-deb"), "-x", deb, src[name])
		})
	}
	if err := unpack.Wait(); err != nil {
		return err
	}
	var pkgs []*pkg
	var err error
	comps := "files/comps.xml"
	if chain == Dracut {
		pkgs, err = b.dracutTrees(ctx, src, debPaths, closure)
		comps = "files/dracut-chain/comps.xml"
	} else {
		pkgs, err = b.trees(ctx, src, debPaths)
	}
	if err != nil {
		return err
	}
	out := filepath.Join(b.dir, "Packages")
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, p := range pkgs {
		g.Go(func() error { return b.rpmbuild(gctx, p, out) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	groupFile := filepath.Join(b.work, "comps.xml")
	if err := b.writeComps(comps, groupFile); err != nil {
		return err
	}
	return b.run(ctx, "", hosttool.Path("createrepo_c"), "--quiet", "--groupfile", groupFile, b.dir)
}

// pkg is one RPM of the demo distro, built from a prepared file tree.
type pkg struct {
	Name, Version, Release, Summary, License, From string
	BuildArch                                      string // noarch, or "" for the host's
	Requires, Provides                             []string
	Tree, FileList                                 string
	PostTrans                                      string // the %posttrans script
	ownsDirs                                       bool
}

// RPM describes a small package for tests: its files and their contents.
type RPM struct {
	Name, Version, Release string
	Arch                   string // "noarch", or "" for x86_64
	Requires               []string
	Files                  map[string]string // absolute path -> content
}

// BuildRPMs builds the packages with rpmbuild into out, using work as
// scratch space, and returns the RPM files.
func BuildRPMs(ctx context.Context, r *runner.Runner, work, out string, rpms []RPM) ([]string, error) {
	b := &builder{r: r, work: work, arch: arches["x86_64"]}
	var files []string
	for i, spec := range rpms {
		p := &pkg{Name: spec.Name, Version: spec.Version, Release: spec.Release, Summary: "fbs test package " + spec.Name,
			License: "MIT", From: "nothing", BuildArch: spec.Arch, Requires: spec.Requires,
			Tree: filepath.Join(work, "tree", fmt.Sprint(i))}
		for path, text := range spec.Files {
			if err := writeFile(filepath.Join(p.Tree, path), text, 0o644); err != nil {
				return nil, err
			}
		}
		if err := b.rpmbuild(ctx, p, out); err != nil {
			return nil, err
		}
		arch := cmp.Or(spec.Arch, "x86_64")
		files = append(files, filepath.Join(out, fmt.Sprintf("%s-%s-%s.%s.rpm", spec.Name, spec.Version, spec.Release, arch)))
	}
	return files, nil
}

var specTemplate = template.Must(template.ParseFS(files, "files/package.spec"))

func (b *builder) rpmbuild(ctx context.Context, p *pkg, out string) error {
	p.FileList = filepath.Join(b.work, p.Name+".files")
	if err := writeFileList(p); err != nil {
		return err
	}
	var spec bytes.Buffer
	if err := specTemplate.Execute(&spec, p); err != nil {
		return err
	}
	specPath := filepath.Join(b.work, p.Name+".spec")
	if err := os.WriteFile(specPath, spec.Bytes(), 0o644); err != nil {
		return err
	}
	top := filepath.Join(b.work, "rpmbuild-"+p.Name)
	return b.run(ctx, "", hosttool.Path("rpmbuild"), "-bb", "--quiet",
		"--define", "_topdir "+top,
		"--define", "_rpmdir "+out,
		"--define", "_build_name_fmt %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm",
		"--define", "_binary_payload w3.zstdio",
		"--define", "_build_id_links none",
		"--define", "debug_package %{nil}",
		"--define", "__os_install_post %{nil}",
		"--define", "_dbpath "+filepath.Join(top, "rpmdb"),
		"--target", b.arch.rpm+"-linux",
		specPath)
}

// writeFileList lists the tree for %files: every file and link, and the
// directories the package owns (filesystem owns the top-level ones).
func writeFileList(p *pkg) error {
	var lines []string
	err := filepath.WalkDir(p.Tree, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == p.Tree {
			return err
		}
		rel := "/" + strings.TrimPrefix(path, p.Tree+"/")
		switch {
		case !d.IsDir():
			lines = append(lines, quoteFile(rel))
		case p.ownsDirs || !fsDirs[rel]:
			lines = append(lines, "%dir "+quoteFile(rel))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return os.WriteFile(p.FileList, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

func quoteFile(p string) string {
	if strings.ContainsAny(p, " []") {
		return `"` + p + `"`
	}
	return strings.ReplaceAll(p, "%", "%%")
}

// writeComps writes the chain's comps with the arch's bootloaders in its
// live-boot group: the same groups on every arch, so one kickstart serves
// them all, as Fedora's comps list each arch's bootloaders.
func (b *builder) writeComps(name, dst string) error {
	data, err := renderEmbedded(name, map[string]any{"Bootloaders": b.arch.bootloaders()})
	if err != nil {
		return err
	}
	return writeFile(dst, string(data), 0o644)
}

// renderEmbedded executes an embedded template.
func renderEmbedded(name string, data any) ([]byte, error) {
	t, err := template.ParseFS(files, name)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b.Bytes(), nil
}

func copyEmbedded(name, dst string, mode os.FileMode) error {
	data, err := files.ReadFile(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, mode)
}
