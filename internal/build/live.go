package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"fbs/internal/dnf"
	"fbs/internal/hosttool"
	"fbs/internal/image"
	"fbs/internal/kickstart"
	"fbs/internal/runner"
	"fbs/internal/stage"
)

// live builds a live ISO: kickstart, packages, %post, initramfs and squashfs
// (side by side), bootloader, ISO, checksums, boot tests, staging.
func (b *build) live(ctx context.Context, target stage.Target) ([]Artifact, error) {
	l := b.req.Live
	root := filepath.Join(b.work, "root")
	parts := filepath.Join(b.work, "parts")
	if err := os.MkdirAll(parts, 0o755); err != nil {
		return nil, err
	}
	var ks *kickstart.Kickstart
	ksPath := filepath.Join(b.work, l.Label+".ks")
	err := b.stage("kickstart", func() (string, error) {
		var err error
		ks, err = b.kickstart(ctx, ksPath)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d lines, %d repo(s), %d package item(s), %d %%post", len(ks.Lines), len(ks.Repos),
			len(ks.Packages.Include)+len(ks.Packages.Groups), len(ks.Posts)), nil
	})
	if err != nil {
		return nil, err
	}
	if err := b.stage("packages", func() (string, error) { return b.install(ctx, ks, root) }); err != nil {
		return nil, err
	}
	b.askToolVersions(ctx)
	if err := b.stage("post", func() (string, error) { return b.post(ctx, ks, root) }); err != nil {
		return nil, err
	}
	boot, err := image.FindBoot(root)
	if err != nil {
		return nil, &kickstart.Error{Pos: ks.Packages.Pos, Msg: err.Error()}
	}
	b.log.Printf("kernel %s, EFI boot %s", boot.KernelVersion, boot.EFIBoot)
	// dracut writes only into a bind mount outside the root and keeps its
	// scratch files on a private tmpfs, so mksquashfs may read the root meanwhile.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return b.stage("initramfs", func() (string, error) { return b.initramfs(gctx, root, parts, boot) })
	})
	g.Go(func() error {
		return b.stage("squashfs", func() (string, error) { return b.squashfs(gctx, root, parts) })
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	grubCfg := filepath.Join(parts, "grub.cfg")
	if err := b.stage("bootloader", func() (string, error) { return b.bootloader(ctx, ks, parts, grubCfg, boot) }); err != nil {
		return nil, err
	}
	isoPath := filepath.Join(b.work, l.Label+".iso")
	if err := b.stage("iso", func() (string, error) { return b.iso(ctx, isoPath, parts, grubCfg, boot) }); err != nil {
		return nil, err
	}
	if err := b.bootTests(ctx, isoPath); err != nil {
		return nil, err
	}
	if target.Dir != "" {
		if _, err := os.Stat(filepath.Join(target.Dir, b.stagedName(".iso"))); err == nil {
			// Same label in the same second: the build id keeps the names apart.
			b.stamp = b.id
		}
	}
	var arts []Artifact
	if err := b.stage("manifest", func() (string, error) {
		var err error
		arts, err = b.manifest(ctx, ks, root, target, isoPath, ksPath)
		return fmt.Sprintf("%d artifacts", len(arts)), err
	}); err != nil {
		return nil, err
	}
	if target.Dir == "" {
		return arts, nil
	}
	err = b.stage("stage", func() (string, error) {
		// All or nothing: the work dir keeps every artifact until all are
		// staged; a failure takes back what this build staged.
		staged := make([]string, 0, len(arts))
		for _, a := range arts {
			p, err := stage.Copy(a.Path, target.Dir, a.Name)
			if err != nil {
				for _, s := range staged {
					os.Remove(s)
				}
				return "", err
			}
			staged = append(staged, p)
		}
		for i := range arts {
			os.Remove(arts[i].Path)
			arts[i].Path = staged[i]
		}
		return target.Dir, nil
	})
	return arts, err
}

func (b *build) kickstart(ctx context.Context, out string) (*kickstart.Kickstart, error) {
	l := b.req.Live
	loader := b.opts.Loader
	if loader == nil {
		loader = &kickstart.FileLoader{Dir: b.req.Dir}
	}
	ref := l.Config
	if l.Kickstart != "" {
		if ref == "" {
			ref = "request.ks"
		}
		loader = kickstart.Inline{Name: ref, Text: l.Kickstart, Next: loader}
	}
	lines, err := kickstart.Flatten(ctx, loader, ref)
	if err != nil {
		var kerr *kickstart.Error
		if errors.As(err, &kerr) {
			return nil, err
		}
		return nil, &kickstart.Error{Pos: kickstart.Pos{File: ref}, Msg: err.Error()}
	}
	ks, err := kickstart.Parse(lines)
	if err != nil {
		return nil, err
	}
	if len(ks.Repos) == 0 {
		return nil, &kickstart.Error{Pos: kickstart.Pos{File: ref, Line: 1}, Msg: "no repo (or url) command: a live build installs from the kickstart's repos"}
	}
	for _, ig := range ks.Ignored {
		b.log.Printf("kickstart: ignored %s", ig)
	}
	if ks.RootSize > 0 {
		b.log.Printf("kickstart: part / --size=%d: the squashfs root takes the size of its contents", ks.RootSize)
	}
	return ks, os.WriteFile(out, []byte(kickstart.Text(lines)), 0o644)
}

var (
	dnfRepoErr = regexp.MustCompile(`Failed to download metadata for repo '([^']+)'(.*)`)
	dnfNoMatch = regexp.MustCompile(`^(?:No match for argument: (\S+)|Module or Group '([^']+)' does not exist)`)
	dnfCurl    = regexp.MustCompile(`Curl error \(\d+\): (.*)`)
)

func (b *build) install(ctx context.Context, ks *kickstart.Kickstart, root string) (string, error) {
	in := dnf.Install{
		Root: root, CacheDir: filepath.Join(b.opts.CacheDir, "dnf"), ReposDir: filepath.Join(b.work, "repos.d"),
		Releasever: b.req.Live.Releasever, Arch: b.req.Arch,
		Packages: dnf.Packages(ks.Packages), Exclude: ks.Packages.Exclude, NoDocs: ks.Packages.ExcludeDocs,
	}
	for _, g := range ks.Packages.ExcludeGroups {
		b.log.Printf("kickstart: -@%s: dnf cannot exclude a group; exclude its packages by name", g)
	}
	if err := dnf.WriteRepos(in.ReposDir, ks.Repos); err != nil {
		return "", err
	}
	for _, r := range ks.Repos {
		b.log.Printf("repo %s: %s", r.Name, kickstart.Expand(r.BaseURL+r.Mirrorlist+r.Metalink, in.Releasever, in.Arch))
	}
	run := func(in dnf.Install) error { return b.dnf(ctx, ks, in) }
	key, why := b.rootKey(ctx, in, ks.Repos)
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
	return b.countPackages(root), nil
}

// dnf runs the transaction, turning dnf's complaints about the kickstart's
// repos and packages into errors that point into the kickstart.
func (b *build) dnf(ctx context.Context, ks *kickstart.Kickstart, in dnf.Install) error {
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
	for _, r := range ks.Repos {
		if r.Name == badRepo {
			return &kickstart.Error{Pos: r.Pos, Msg: fmt.Sprintf("repo %s cannot be read: %s", r.Name, why)}
		}
	}
	if missing != "" {
		return &kickstart.Error{Pos: ks.Packages.Pos, Msg: fmt.Sprintf("%%packages: no package or group %q in the repos", missing)}
	}
	return err
}

// countPackages says how many packages the root holds.
func (b *build) countPackages(root string) string {
	out, err := exec.Command(hosttool.Path("rpm"), "--root", root, "-qa").Output()
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d packages", strings.Count(string(out), "\n"))
}

func (b *build) post(ctx context.Context, ks *kickstart.Kickstart, root string) (string, error) {
	for i, s := range ks.Posts {
		name := "ks-script-" + strconv.Itoa(i+1)
		cmd := runner.Cmd{}
		var script string
		if s.NoChroot {
			script = filepath.Join(b.work, name)
			cmd = runner.Cmd{Args: []string{s.Interpreter, script}, Sandbox: true, Dir: b.work, Env: []string{"INSTALL_ROOT=" + root}}
		} else {
			script = filepath.Join(root, "tmp", name)
			cmd = runner.Cmd{Args: []string{s.Interpreter, "/tmp/" + name}, Root: root}
		}
		if err := os.MkdirAll(filepath.Dir(script), 0o1777); err != nil {
			return "", err
		}
		if err := os.WriteFile(script, []byte(s.Body), 0o700); err != nil {
			return "", err
		}
		logf, err := b.postLog(s, root)
		if err != nil {
			return "", fmt.Errorf("%%post at %s: --log %s: %w", s.Pos, s.Log, err)
		}
		if logf != nil {
			cmd.OnLine = func(line string) bool { fmt.Fprintln(logf, line); return false }
		}
		b.log.Printf("%%post %d of %d (%s)%s", i+1, len(ks.Posts), s.Pos, map[bool]string{true: " --nochroot", false: ""}[s.NoChroot])
		err = b.run.Run(ctx, cmd)
		os.Remove(script)
		if logf != nil {
			logf.Close()
		}
		var te *runner.ToolError
		if err != nil && errors.As(err, &te) && !s.ErrorOnFail && ctx.Err() == nil {
			b.log.Printf("%%post at %s exited with status %d; going on, as it has no --erroronfail", s.Pos, te.Status)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("%%post at %s: %w", s.Pos, err)
		}
	}
	return fmt.Sprintf("%d script(s)", len(ks.Posts)), nil
}

// postLog opens a %post --log file: inside the root for a chrooted script
// (through os.Root, so a symlink in the image cannot lead outside it).
func (b *build) postLog(s kickstart.Script, root string) (*os.File, error) {
	if s.Log == "" {
		return nil, nil
	}
	if s.NoChroot {
		return os.OpenFile(s.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	rel := filepath.Clean("/" + s.Log)[1:]
	if err := r.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
		return nil, err
	}
	return r.OpenFile(rel, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}
