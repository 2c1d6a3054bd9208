package build

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"fbs/internal/dnf"
	"fbs/internal/hosttool"
	"fbs/internal/kickstart"
	"fbs/internal/runner"
)

var (
	dnfRepoErr = regexp.MustCompile(`Failed to download metadata for repo '([^']+)'(.*)`)
	dnfNoMatch = regexp.MustCompile(`^(?:No match for argument: (\S+)|Module or Group '([^']+)' does not exist)`)
	dnfCurl    = regexp.MustCompile(`Curl error \(\d+\): (.*)`)
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
			return b.countPackages(root) + ", " + how, nil
		}
	}
	if err := run(in); err != nil {
		return "", err
	}
	if err := b.installBuildPackages(ctx, in, repos, pkgs); err != nil {
		return "", err
	}
	return b.countPackages(root), nil
}
func (b *build) dnf(ctx context.Context, repos []kickstart.Repo, pkgs kickstart.Packages, in dnf.Install) error {
	var badRepo, why, missing string
	err := b.run.Run(ctx, runner.Cmd{Args: append([]string{hosttool.Path("dnf")}, in.Args()[1:]...), OnLine: func(line string) bool {
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
	if missing != "" {
		return &kickstart.Error{Pos: pkgs.Pos, Msg: fmt.Sprintf("%%packages: no package or group %q in the repos", missing)}
	}
	return err
}
func (b *build) countPackages(root string) string {
	out, err := runnerOutput(hosttool.Path("rpm"), "--root", root, "-qa")
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d packages", strings.Count(out, "\n"))
}

// runnerOutput runs a quick query and returns what it printed on stdout.
func runnerOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}
