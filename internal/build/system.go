package build

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fbs/internal/beneath"
	"fbs/internal/runner"
	"fbs/internal/sysconfig"
)

// system applies what the kickstart says of the installed system
// (language, time zone, services, users, hostname …) to the root before
// %post, as anaconda does: files are written beneath the root, commands
// run chrooted in it.
func (b *build) system(ctx context.Context) (string, error) {
	steps, err := sysconfig.Steps(b.ks.System)
	if err != nil {
		return "", err
	}
	var done, skipped int
	for _, s := range steps {
		if !s.IsCommand() {
			if err := sysconfig.Write(b.root, s); err != nil {
				return "", err
			}
			b.log.Printf("system: %s: wrote %s", s.Why, s.Path)
			done++
			continue
		}
		// A root without the tool (the demo distro has no systemctl nor
		// chpasswd) or without what the step is for gets a note, not a failure.
		missing := s.Requires
		if missing == "" || inRoot(b.root, missing) {
			missing = ""
			if !strings.Contains(s.Args[0], "/") && lookRoot(b.root, s.Args[0]) == "" {
				missing = s.Args[0]
			}
		}
		if missing != "" {
			b.log.Printf("system: %s: not applied: the image has no %s", s.Why, missing)
			skipped++
			continue
		}
		cmd := runner.Cmd{Args: s.Args, Root: b.root}
		if s.Stdin != "" {
			cmd.Stdin = strings.NewReader(s.Stdin)
		}
		err := b.run.Run(ctx, cmd)
		var te *runner.ToolError
		if err != nil && s.MayFail && errors.As(err, &te) && ctx.Err() == nil {
			b.log.Printf("system: %s: %s exited with status %d; going on, as anaconda does", s.Why, s.Args[0], te.Status)
			skipped++
			continue
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", s.Why, err)
		}
		done++
	}
	if skipped > 0 {
		return fmt.Sprintf("%d step(s), %d not applied", done, skipped), nil
	}
	return fmt.Sprintf("%d step(s)", done), nil
}

// rootPath is the PATH commands have in the root (runner's fixed one).
var rootPath = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// lookRoot finds a program on the root's PATH, as the image resolves it.
func lookRoot(root, name string) string {
	for _, dir := range rootPath {
		if p := dir + "/" + name; inRoot(root, p) {
			return p
		}
	}
	return ""
}

// inRoot says the root has a regular file at path, its symlinks resolved
// within the root.
func inRoot(root, path string) bool {
	f, err := beneath.OpenInRoot(root, strings.TrimPrefix(path, "/"))
	if err != nil {
		return false
	}
	f.Close()
	return true
}
