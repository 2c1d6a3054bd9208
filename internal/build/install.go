package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"fbs/internal/beneath"
	"fbs/internal/dnf"
	"fbs/internal/hosttool"
	"fbs/internal/kickstart"
	"fbs/internal/runner"
)

var (
	dnfRepoErr = regexp.MustCompile(`Failed to download metadata for repo '([^']+)'(.*)`)
	dnfNoMatch = regexp.MustCompile(`^(?:No match for argument: (\S+)|Module or Group '([^']+)' does not exist)`)
	dnfCurl    = regexp.MustCompile(`Curl error \(\d+\): (.*)`)
	// dnfStatus is an HTTP answer that was not the file (a 404 for repomd.xml).
	dnfStatus = regexp.MustCompile(`Status code: (\d+) for (\S+)`)
)

// install puts the packages into root, from the root cache when it can.
func (b *build) install(ctx context.Context, repos []kickstart.Repo, pkgs kickstart.Packages, releasever, proxy, root string) (string, error) {
	repos = b.withSide(repos)
	in := dnf.Install{
		Root: root, CacheDir: filepath.Join(b.opts.CacheDir, "dnf"), ReposDir: filepath.Join(b.work, "repos.d"),
		Releasever: releasever, Arch: b.req.Arch, Proxy: proxy,
		Packages: dnf.Packages(pkgs), Exclude: pkgs.Exclude, NoDocs: pkgs.ExcludeDocs,
	}
	for _, g := range pkgs.ExcludeGroups {
		b.log.Printf("kickstart: -@%s: dnf cannot exclude a group; exclude its packages by name", g)
	}
	if err := dnf.WriteRepos(in.ReposDir, repos); err != nil {
		return "", err
	}
	for _, r := range repos {
		b.log.Printf("repo %s: %s", r.Name, kickstart.Expand(strings.Join(r.Sources(), " "), in.Releasever, in.Arch))
	}
	run := func(in dnf.Install) error { return b.dnf(ctx, repos, pkgs, in) }
	key, why := b.rootKey(ctx, in, repos)
	if key == "" {
		b.log.Printf("root cache: not used: %s", why)
	} else {
		how, err := b.cachedRoot(ctx, key, in, run)
		if err != nil {
			return "", err
		}
		if how != "" {
			return b.countPackages(ctx, root) + ", " + how, nil
		}
	}
	if err := run(in); err != nil {
		return "", err
	}
	if err := b.installBuildPackages(ctx, in, repos, pkgs); err != nil {
		return "", err
	}
	return b.countPackages(ctx, root), nil
}

// dnf runs a dnf transaction. No code of a package (a scriptlet, which may
// leave the chroot rpm gives it) runs while the shared package cache is
// writable: fbs's dnf first only downloads the transaction's packages into
// it, then installs them with the cache seen through an overlay whose
// writes land in the work dir, where the disk limit counts them and no
// other build sees them.
func (b *build) dnf(ctx context.Context, repos []kickstart.Repo, pkgs kickstart.Packages, in dnf.Install) error {
	if err := os.MkdirAll(in.CacheDir, 0o755); err != nil {
		return fmt.Errorf("package cache: %w", err)
	}
	if in.DownloadTo != "" || b.run.Confine == nil {
		// A download runs nothing of the packages; an unconfined build is
		// not kept from anything.
		return b.dnfRun(ctx, b.downloader(in.CacheDir), repos, pkgs, in)
	}
	if err := b.dnfRun(ctx, b.downloader(in.CacheDir), repos, pkgs, in, "--downloadonly"); err != nil {
		return err
	}
	view, cacheOnly, undo, err := b.cacheView(in.CacheDir)
	if err != nil {
		return err
	}
	defer undo()
	in.CacheDir = view
	var extra []string
	if cacheOnly {
		extra = []string{"--cacheonly"}
	}
	return b.dnfRun(ctx, b.run, repos, pkgs, in, extra...)
}

// downloader is the build's runner with the shared package cache writable
// too, for fbs's dnf while it only downloads.
func (b *build) downloader(cache string) *runner.Runner {
	r := *b.run
	if r.Confine != nil {
		c := *r.Confine
		c.Writable = append(slices.Clip(c.Writable), cache)
		r.Confine = &c
	}
	return &r
}

// cacheView mounts the shared package cache at dnf-cache in the work dir,
// under an overlay whose upper dir is the work dir's too; undo unmounts
// it. Where fbs cannot mount one, the view is an empty cache of the
// build's own, and dnf downloads again (cacheOnly is then false).
func (b *build) cacheView(shared string) (view string, cacheOnly bool, undo func(), err error) {
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
func (b *build) dnfRun(ctx context.Context, r *runner.Runner, repos []kickstart.Repo, pkgs kickstart.Packages, in dnf.Install, extra ...string) error {
	var badRepo, why, missing string
	args := append(append([]string{hosttool.Path("dnf")}, in.Args()[1:]...), extra...)
	err := r.Run(ctx, runner.Cmd{Args: args, OnLine: func(line string) bool {
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
		if m := dnfNoMatch.FindStringSubmatch(line); m != nil && missing == "" {
			missing = m[1] + m[2]
		}
		return false
	}})
	if err == nil || ctx.Err() != nil {
		return err
	}
	for _, r := range repos {
		if r.Name == badRepo {
			return &kickstart.Error{Pos: r.Pos, Msg: fmt.Sprintf("repo %s cannot be read: %s", r.Name, why)}
		}
	}
	switch {
	case strings.HasPrefix(missing, "%"):
		// A section header dnf was asked to install: %packages went on.
		return &kickstart.Error{Pos: packageLine(b.ksLines, pkgs.Pos, missing), Msg: fmt.Sprintf("%s inside %%packages: the %%packages at %s has no %%end before it", missing, pkgs.Pos)}
	case missing != "":
		return &kickstart.Error{Pos: packageLine(b.ksLines, pkgs.Pos, missing), Msg: fmt.Sprintf("%%packages: no package or group %q in the repos", missing)}
	}
	return err
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
	out, err := b.query(ctx, hosttool.Path("rpm"), "--root", root, "-qa")
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d packages", len(out))
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
