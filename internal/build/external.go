package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"fbs/internal/backend"
	"fbs/internal/kickstart"
	"fbs/internal/runner"
	"fbs/internal/stage"
)

// external builds the request with one of Fedora's own tools (lorax,
// livemedia-creator, pungi) instead of the native builder; fbs still
// fetches Koji builds, boot-tests, checksums and stages the result.
func (b *build) external(ctx context.Context, target stage.Target) ([]Artifact, error) {
	program, _ := backend.Tool(b.opts.Backend)
	m := medium{}
	var ksPath string
	if b.req.Type != "boot" {
		ks, err := b.kickstart(ctx)
		if err != nil {
			return nil, err
		}
		m.repos, m.pkgsPos = ks.Repos, ks.Packages.Pos
		ksPath = filepath.Join(b.work, b.label+".ks")
		m.ksPath = ksPath
		if err := b.writeKickstart(ctx, ks, ksPath); err != nil {
			return nil, err
		}
	} else {
		m.repos = bootRepos(b.req, kickstart.Pos{File: b.req.Source})
		if err := b.kojiStage(ctx, b.req.Boot.Proxy); err != nil {
			return nil, err
		}
	}
	var extra []string
	if b.side != nil {
		extra = append(extra, b.side.repo.BaseURL)
	}
	plan, err := backend.Plan(b.opts.Backend, b.req, ksPath, extra, filepath.Join(b.work, "out"), filepath.Join(b.work, "tmp"))
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath(program); err != nil {
		return nil, fmt.Errorf("backend %s: %s is not installed here (Fedora's %s package); fbs doctor lists the backends this host can run",
			b.opts.Backend, program, backend.Package(b.opts.Backend))
	}
	if err := os.MkdirAll(filepath.Join(b.work, "tmp"), 0o755); err != nil {
		return nil, err
	}
	if err := b.stage(b.opts.Backend, func() (string, error) {
		return "", b.run.Run(ctx, runner.Cmd{Args: plan.Args, Dir: b.work})
	}); err != nil {
		return nil, err
	}
	isos, _ := filepath.Glob(plan.ISO)
	if len(isos) != 1 {
		return nil, fmt.Errorf("backend %s: expected one ISO at %s, found %d", b.opts.Backend, plan.ISO, len(isos))
	}
	b.askToolVersions(ctx)
	return b.finish(ctx, target, "", m, isos[0])
}
