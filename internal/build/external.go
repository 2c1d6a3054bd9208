package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"fbs/internal/backend"
	"fbs/internal/runner"
)

// external builds the request with one of Fedora's own tools (lorax,
// livemedia-creator, pungi) instead of the native builder; fbs still
// fetches Koji builds, boot-tests, checksums and stages the result.
func (b *build) external(ctx context.Context) (string, error) {
	program, _ := backend.Tool(b.opts.Backend)
	var extra []string
	if b.side != nil {
		extra = append(extra, b.side.repo.BaseURL)
	}
	plan, err := backend.Plan(b.opts.Backend, b.req, b.ksPath, extra, filepath.Join(b.work, "out"), filepath.Join(b.work, "tmp"))
	if err != nil {
		return "", err
	}
	if _, err := exec.LookPath(program); err != nil {
		return "", fmt.Errorf("backend %s: %s is not installed here (Fedora's %s package); fbs doctor lists the backends this host can run",
			b.opts.Backend, program, backend.Package(b.opts.Backend))
	}
	if err := os.MkdirAll(filepath.Join(b.work, "tmp"), 0o755); err != nil {
		return "", err
	}
	if err := b.run.Run(ctx, runner.Cmd{Args: plan.Args, Dir: b.work, Network: true}); err != nil {
		return "", err
	}
	isos, _ := filepath.Glob(plan.ISO)
	if len(isos) != 1 {
		return "", fmt.Errorf("backend %s: expected one ISO at %s, found %d", b.opts.Backend, plan.ISO, len(isos))
	}
	b.isoOut = isos[0]
	b.askToolVersions(ctx)
	return "", nil
}
