package build

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"fbs/internal/beneath"
	"fbs/internal/runner"
)

// post runs the kickstart's %post scripts, each written where it runs (the
// image root's /tmp, or the work dir for --nochroot).
func (b *build) post(ctx context.Context) (string, error) {
	ks, root := b.ks, b.root
	for i, s := range ks.Posts {
		name := "ks-script-" + strconv.Itoa(i+1)
		dir, rel := b.work, name
		// A --nochroot script writes into the image root alone, as
		// livemedia-creator's do: the rest of the work dir is where fbs
		// writes the images other builds may reuse.
		cmd := runner.Cmd{Args: []string{s.Interpreter, filepath.Join(b.work, name)}, Sandbox: true, Dir: b.work,
			Env: []string{"INSTALL_ROOT=" + root}, Writable: []string{root}, Network: b.opts.PostNetwork}
		if !s.NoChroot {
			dir, rel = root, "tmp/"+name
			cmd = runner.Cmd{Args: []string{s.Interpreter, "/" + rel}, Root: root, Network: b.opts.PostNetwork}
		}
		// An earlier script (or a scriptlet) may have made /tmp, or the
		// script's name, a symlink to a host file: neither is followed.
		if err := beneath.MkdirAll(dir, filepath.Dir(rel), 0o1777); err != nil {
			return "", fmt.Errorf("%%post at %s: %w", s.Pos, err)
		}
		if err := beneath.WriteFile(dir, rel, []byte(s.Body), 0o700); err != nil {
			return "", fmt.Errorf("%%post at %s: %w", s.Pos, err)
		}
		if s.Log != "" {
			cmd.Args = append([]string{"/bin/sh", "-c", postLog, "fbs-post-log", s.Log}, cmd.Args...)
		}
		b.log.Printf("%%post %d of %d (%s)%s", i+1, len(ks.Posts), s.Pos, map[bool]string{true: " --nochroot", false: ""}[s.NoChroot])
		err := b.run.Run(ctx, cmd)
		beneath.Remove(dir, rel)
		var te *runner.ToolError
		if err != nil && errors.As(err, &te) && !s.ErrorOnFail && ctx.Err() == nil {
			b.log.Printf("%%post at %s exited with status %d; going on, as it has no --erroronfail%s", s.Pos, te.Status, b.offlineHint())
			continue
		}
		if err != nil && te != nil {
			return "", fmt.Errorf("%%post at %s: %w%s", s.Pos, err, b.offlineHint())
		}
		if err != nil {
			return "", fmt.Errorf("%%post at %s: %w", s.Pos, err)
		}
	}
	return fmt.Sprintf("%d script(s)", len(ks.Posts)), nil
}

// offlineHint says, after a failed %post, that it ran without the
// network, where it did.
func (b *build) offlineHint() string {
	if b.run.Confine == nil || b.opts.PostNetwork {
		return ""
	}
	return " (%post runs without the network; --post-network, or post-network = true in fbs.toml, gives it the host's)"
}

// postLog runs a %post script ("$@") with its output also appended to its
// --log file ($1). It runs inside the script's sandbox, so the file is
// opened as the script would open it: in the image root for a chrooted
// script (as anaconda has it), on the sandbox's view of the host for a
// --nochroot one, never by fbs on the host. The output still reaches the
// build log, and the script's exit status is the command's. A log that
// cannot be opened is said, and the script runs all the same. Plain POSIX
// sh, no tee: an image root need not have coreutils.
const postLog = `log=$1; shift
if ! command exec 3>>"$log"; then
	echo "fbs: %post --log=$log cannot be written; the output goes to the build log only" >&2
	exec 3>/dev/null
fi
exec 4>&1
status=$( { { "$@" 2>&1 3>&- 4>&- 5>&-; echo $? >&5; } |
	while IFS= read -r line || [ -n "$line" ]; do printf '%s\n' "$line"; printf '%s\n' "$line" >&3; done >&4; } 5>&1 )
exit "$status"
`
