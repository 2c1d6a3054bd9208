package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"

	"fbs/internal/beneath"
	"fbs/internal/dnf"
	"fbs/internal/hosttool"
	"fbs/internal/kickstart"
	"fbs/internal/runner"
)

var (
	dnfRepoErr = regexp.MustCompile(`Failed to download metadata for repo '([^']+)'(.*)`)
	dnfCurl    = regexp.MustCompile(`Curl error \(\d+\): (.*)`)
	// dnfStatus is an HTTP answer that was not the file (a 404 for repomd.xml).
	dnfStatus = regexp.MustCompile(`Status code: (\d+) for (\S+)`)
)

// install puts the packages into the image root, from the root cache when it can.
func (b *build) install(ctx context.Context, pkgs kickstart.Packages) (string, error) {
	in, err := b.transaction(ctx, pkgs, b.root)
	if err != nil {
		return "", err
	}
	in.Proxy = b.proxy()
	run := func(in dnf.Install) error { return b.dnf(ctx, pkgs, in) }
	key, why := b.rootKey(ctx, in, b.withSide(b.repos))
	if key == "" {
		b.log.Printf("root cache: not used: %s", why)
	} else {
		how, err := b.cachedRoot(ctx, key, in, run)
		if err != nil {
			return "", err
		}
		if how != "" {
			return b.countPackages(ctx, b.root) + ", " + how, nil
		}
	}
	if err := run(in); err != nil {
		return "", err
	}
	if err := b.installBuildPackages(ctx, in, pkgs); err != nil {
		return "", err
	}
	return b.countPackages(ctx, b.root), nil
}

// transaction is the dnf transaction of pkgs into root, as the host's dnf
// takes it (dnf.Plan), with the build's repos written for it.
func (b *build) transaction(ctx context.Context, pkgs kickstart.Packages, root string) (dnf.Install, error) {
	v, err := hostDNF(ctx)
	if err != nil {
		return dnf.Install{}, err
	}
	t := dnf.Plan(pkgs, v)
	for _, n := range t.Notes {
		b.log.Printf("kickstart: %s", n)
	}
	conf := filepath.Join(b.work, dnfConfDir)
	in := dnf.Install{
		Root: root, CacheDir: filepath.Join(b.opts.CacheDir, "dnf"),
		ReposDir: filepath.Join(conf, "repos.d"), Config: filepath.Join(conf, "dnf.conf"), VarsDir: filepath.Join(conf, "vars"),
		Repos:      b.withSide(b.repos),
		Releasever: b.req.Releasever(), Arch: b.req.Arch,
		Packages: t.Specs, Exclude: t.Exclude, Options: t.Options, Macros: t.Macros,
	}
	for _, r := range in.Repos {
		b.log.Printf("repo %s: %s", r.Name, kickstart.Expand(strings.Join(r.Sources(), " "), in.Releasever, in.Arch))
	}
	return in, nil
}

// dnfVersions caches the host dnf's version by its path: it does not
// change while fbs runs, and asking takes a third of a second.
var dnfVersions sync.Map

// hostDNF is the host dnf's major version.
func hostDNF(ctx context.Context) (dnf.Version, error) {
	path := hosttool.Path("dnf")
	if v, ok := dnfVersions.Load(path); ok {
		return v.(dnf.Version), nil
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("dnf --version: %w", err)
	}
	v, err := dnf.ParseVersion(string(out))
	if err != nil {
		return 0, err
	}
	dnfVersions.Store(path, v)
	return v, nil
}

// dnf runs a dnf transaction. No code of a package (a scriptlet, which may
// leave the chroot rpm gives it) runs while the shared package cache is
// writable: fbs's dnf first only downloads the transaction's packages into
// it, then installs them with the cache seen through an overlay whose
// writes land in the work dir, where the disk limit counts them and no
// other build sees them.
func (b *build) dnf(ctx context.Context, pkgs kickstart.Packages, in dnf.Install) error {
	if err := os.MkdirAll(in.CacheDir, 0o755); err != nil {
		return fmt.Errorf("package cache: %w", err)
	}
	if in.DownloadTo != "" || b.run.Confine == nil {
		// A download runs nothing of the packages; an unconfined build is
		// not kept from anything.
		return b.dnfRun(ctx, b.downloader(in.CacheDir), pkgs, in)
	}
	if err := b.dnfRun(ctx, b.downloader(in.CacheDir), pkgs, in, "--downloadonly"); err != nil {
		return err
	}
	view, shared, undo, err := b.cacheView(in.CacheDir)
	if err != nil {
		return err
	}
	defer undo()
	in.CacheDir = view
	if !shared {
		// Downloaded again into the build's own cache, still running
		// nothing of the packages: the install, where their scriptlets
		// run, has no network.
		if err := b.dnfRun(ctx, b.run, pkgs, in, "--downloadonly"); err != nil {
			return err
		}
	}
	return b.dnfRun(ctx, b.run, pkgs, in, "--cacheonly")
}

// downloader is the build's runner with the shared package cache seen
// and writable, for fbs's dnf while it only downloads.
func (b *build) downloader(cache string) *runner.Runner {
	r := *b.run
	if r.Confine != nil {
		c := *r.Confine
		c.Writable = append(slices.Clip(c.Writable), cache)
		c.Hidden = slices.DeleteFunc(slices.Clone(c.Hidden), func(p string) bool { return p == cache })
		r.Confine = &c
	}
	return &r
}

// cacheView mounts the shared package cache at dnf-cache in the work dir,
// under an overlay whose upper dir is the work dir's too; undo unmounts
// it. Where fbs cannot mount one, the view is an empty cache of the
// build's own, and dnf downloads again (has is then false).
func (b *build) cacheView(shared string) (view string, has bool, undo func(), err error) {
	for _, d := range []string{"dnf-cache", "dnf-upper", "dnf-work"} {
		// Not followed, if an earlier transaction's scriptlet made it a symlink.
		if err := beneath.MkdirAll(b.work, d, 0o755); err != nil {
			return "", false, nil, fmt.Errorf("package cache: %w", err)
		}
	}
	view = filepath.Join(b.work, "dnf-cache")
	nothing := func() {}
	if !runner.HasPrivateMounts() {
		b.log.Printf("package cache: no mount namespace of its own to mount it in; packages are downloaded again into the work dir")
		return view, false, nothing, nil
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", shared, filepath.Join(b.work, "dnf-upper"), filepath.Join(b.work, "dnf-work"))
	if err := syscall.Mount("overlay", view, "overlay", syscall.MS_NOSUID|syscall.MS_NODEV, opts); err != nil {
		b.log.Printf("package cache: cannot mount an overlay here (%v); packages are downloaded again into the work dir", err)
		return view, false, nothing, nil
	}
	return view, true, func() {
		if err := syscall.Unmount(view, syscall.MNT_DETACH); err != nil {
			b.log.Printf("unmount %s: %v", view, err)
		}
	}, nil
}

// dnfRun runs dnf on r, with extra arguments, and names the repo or
// package at fault when it fails.
func (b *build) dnfRun(ctx context.Context, r *runner.Runner, pkgs kickstart.Packages, in dnf.Install, extra ...string) error {
	var badRepo, why, missing string
	args := append(append([]string{hosttool.Path("dnf")}, in.Args()[1:]...), extra...)
	env, err := b.writeDNFConf(in)
	if err != nil {
		return err
	}
	// dnf needs the network but where it installs from its cache alone:
	// then the packages' scriptlets run without it.
	network := !slices.Contains(extra, "--cacheonly")
	if network && b.run.Confine != nil {
		// Where the shared cache is writable, dnf writes nothing into the
		// image root, whose /var/log or /var/lib/dnf an earlier scriptlet
		// may have made a symlink into the cache.
		conf := filepath.Join(b.work, dnfConfDir)
		args = append(args, "--setopt=logdir="+filepath.Join(conf, "log"), "--setopt=persistdir="+filepath.Join(conf, "persist"))
		if b.side != nil {
			if err := b.makeSideRepo(ctx); err != nil {
				return err
			}
		}
	}
	err = r.Run(ctx, runner.Cmd{Args: args, Env: env, Network: network, OnLine: func(line string) bool {
		if p, ok := dnf.ParseProgress(line); ok {
			b.opts.Reporter.StageProgress("packages", p.Phase, p.Done, p.Total)
		}
		if m := dnfRepoErr.FindStringSubmatch(line); m != nil {
			badRepo = m[1]
			if why == "" {
				why = strings.TrimPrefix(m[2], ": ")
			}
		}
		if m := dnfCurl.FindStringSubmatch(line); m != nil {
			why = m[1]
		}
		if m := dnfStatus.FindStringSubmatch(line); m != nil {
			why = fmt.Sprintf("%s answered HTTP %s", m[2], m[1])
		}
		if m, ok := dnf.Missing(line); ok && missing == "" {
			missing = m
		}
		return false
	}})
	if err == nil || ctx.Err() != nil {
		return err
	}
	for _, r := range b.withSide(b.repos) {
		if r.Name == badRepo {
			return &kickstart.Error{Pos: r.Pos, Msg: fmt.Sprintf("repo %s cannot be read: %s", r.Name, why)}
		}
	}
	if missing != "" {
		return &kickstart.Error{Pos: packageLine(b.ksLines(), pkgs.Pos, missing), Msg: fmt.Sprintf("%%packages: no package or group %q in the repos", missing)}
	}
	return err
}

// dnfConfDir, in the work dir, holds what fbs's dnf reads besides the
// image root and the package cache: its dnf.conf, the build's .repo file
// and a HOME whose .rpmmacros holds the rpmdb's path and the
// transaction's macros (--inst-langs): dnf 4 reads none from the image
// root, only from $HOME/.rpmmacros.
const dnfConfDir = "dnf-conf"

// writeDNFConf writes dnfConfDir anew for one dnf run, and returns the
// environment dnf runs with. Anew, as an earlier transaction's scriptlets
// can change the work dir: plant a symlink for fbs to write through, or a
// ~/.rpmmacros whose %(…) or a Python .pth file under ~/.local whose code
// the next dnf would run, with the network and the package cache
// writable while it downloads. No code of the build runs meanwhile.
func (b *build) writeDNFConf(in dnf.Install) ([]string, error) {
	dir := filepath.Join(b.work, dnfConfDir)
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("dnf configuration: %w", err)
	}
	macros := append([]string{"%_dbpath " + dnf.DBPath}, in.Macros...)
	files := map[string]string{"dnf.conf": dnf.Conf, "repos.d/fbs.repo": dnf.RepoFile(in.Repos), "home/.rpmmacros": strings.Join(macros, "\n") + "\n"}
	for _, d := range []string{"repos.d", "home", "vars", "log", "persist"} {
		if err := beneath.MkdirAll(b.work, filepath.Join(dnfConfDir, d), 0o755); err != nil {
			return nil, fmt.Errorf("dnf configuration: %w", err)
		}
	}
	for name, text := range files {
		if err := beneath.WriteFile(dir, name, []byte(text), 0o644); err != nil {
			return nil, fmt.Errorf("dnf configuration: %w", err)
		}
	}
	return []string{"HOME=" + filepath.Join(dir, "home"), "PYTHONNOUSERSITE=1"}, nil
}

// ksLines are the kickstart's lines, where errors about a package point.
func (b *build) ksLines() []kickstart.Line {
	if b.ks == nil {
		return nil
	}
	return b.ks.Lines
}

// packageLine is the position of the %packages line that names pkg (a
// package, or a group as dnf says it: "core" for @core), else at (the
// %packages header's).
func packageLine(lines []kickstart.Line, at kickstart.Pos, pkg string) kickstart.Pos {
	in := false
	for _, l := range lines {
		text := strings.TrimSpace(l.Text)
		switch {
		case strings.HasPrefix(text, "%packages"):
			in = true
		case in && strings.HasPrefix(text, "%end"):
			in = false
		case in:
			if f := strings.Fields(text); len(f) > 0 && strings.TrimPrefix(f[0], "@") == pkg {
				return l.Pos
			}
		}
	}
	return at
}

func (b *build) countPackages(ctx context.Context, root string) string {
	out, err := b.rpmQuery(ctx, root, "-qa")
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d packages", len(out))
}

// rpmQuery runs rpm's query args on the rpmdb of an image root.
func (b *build) rpmQuery(ctx context.Context, root string, args ...string) ([]string, error) {
	return b.query(ctx, append([]string{hosttool.Path("rpm"), "--root", root, "--dbpath", dnf.DBPath}, args...)...)
}

// query runs a quick query of an image root and returns its output lines
// (kept out of the build log). It runs confined, as the build's other
// commands: what the root's scriptlets and %post left there (a symlinked
// rpmdb) is read on the sandbox's view of the host, not fbs's.
func (b *build) query(ctx context.Context, args ...string) ([]string, error) {
	var lines []string
	err := b.run.Run(ctx, runner.Cmd{Args: args, OnLine: func(line string) bool {
		lines = append(lines, line)
		return true
	}})
	return lines, err
}
