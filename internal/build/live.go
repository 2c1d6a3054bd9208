package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"fbs/internal/beneath"
	"fbs/internal/image"
	"fbs/internal/kickstart"
	"fbs/internal/runner"
	"fbs/internal/stage"
)

// live builds a live ISO: the kickstart's packages into a root, its %post
// scripts, then the medium with the root as LiveOS/squashfs.img.
func (b *build) live(ctx context.Context, target stage.Target) ([]Artifact, error) {
	l := b.req.Live
	root := filepath.Join(b.work, "root")
	var ks *kickstart.Kickstart
	ksPath := filepath.Join(b.work, l.Label+".ks")
	err := b.stage("kickstart", func() (string, error) {
		var err error
		ks, err = b.kickstart(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d lines, %d repo(s), %d package item(s), %d %%post", len(ks.Lines), len(ks.Repos),
			len(ks.Packages.Include)+len(ks.Packages.Groups), len(ks.Posts)), nil
	})
	if err != nil {
		return nil, err
	}
	if err := b.writeKickstart(ctx, ks, ksPath); err != nil {
		return nil, err
	}
	if err := b.stage("packages", func() (string, error) {
		return b.install(ctx, ks.Repos, ks.Packages, l.Releasever, "", root)
	}); err != nil {
		return nil, err
	}
	if err := b.stage("post", func() (string, error) { return b.post(ctx, ks, root) }); err != nil {
		return nil, err
	}
	return b.media(ctx, target, root, medium{
		rootImage: "LiveOS/squashfs.img",
		dracut:    image.DracutArgs,
		menu:      image.LiveMenu(l.Label, l.Title, ks.Bootloader.Append, menuTimeout(ks)),
		repos:     ks.Repos,
		pkgsPos:   ks.Packages.Pos,
		ksPath:    ksPath,
	})
}

// writeKickstart fetches the request's Koji builds, if any, into the side
// repo, and writes the flattened kickstart with a repo line for it, as the
// 2012 service added one.
func (b *build) writeKickstart(ctx context.Context, ks *kickstart.Kickstart, path string) error {
	lines := ks.Lines
	if err := b.kojiStage(ctx, ""); err != nil {
		return err
	}
	if b.side != nil {
		r := b.side.repo
		lines = append(lines, kickstart.Line{Text: fmt.Sprintf("repo --name=%s --baseurl=%s --cost=%d", r.Name, r.BaseURL, r.Cost)})
	}
	return os.WriteFile(path, []byte(kickstart.Text(lines)), 0o644)
}

// kickstart reads the request's kickstart (live and DVD requests have one),
// %include flattened.
func (b *build) kickstart(ctx context.Context) (*kickstart.Kickstart, error) {
	var ref, text string
	switch {
	case b.req.Live != nil:
		ref, text = b.req.Live.Config, b.req.Live.Kickstart
	case b.req.DVD != nil:
		ref, text = b.req.DVD.Config, b.req.DVD.Kickstart
	}
	loader := b.opts.Loader
	if loader == nil {
		// A service build reads no file of the server's: a %include of a
		// path would put the server's files into the staged kickstart.
		loader = &kickstart.FileLoader{Dir: b.req.Dir, NoLocal: b.opts.Service}
	}
	ks, err := kickstart.Read(ctx, loader, ref, text)
	if err != nil {
		return nil, err
	}
	b.ksLines = ks.Lines
	for _, ig := range ks.Ignored {
		b.log.Printf("kickstart: ignored %s", ig)
	}
	if ks.RootSize > 0 {
		b.log.Printf("kickstart: part / --size=%d: the squashfs root takes the size of its contents", ks.RootSize)
	}
	return ks, nil
}

// post runs the kickstart's %post scripts, each written where it runs (the
// image root's /tmp, or the work dir for --nochroot).
func (b *build) post(ctx context.Context, ks *kickstart.Kickstart, root string) (string, error) {
	for i, s := range ks.Posts {
		name := "ks-script-" + strconv.Itoa(i+1)
		dir, rel := b.work, name
		cmd := runner.Cmd{Args: []string{s.Interpreter, filepath.Join(b.work, name)}, Sandbox: true, Dir: b.work, Env: []string{"INSTALL_ROOT=" + root}}
		if !s.NoChroot {
			dir, rel = root, "tmp/"+name
			cmd = runner.Cmd{Args: []string{s.Interpreter, "/" + rel}, Root: root}
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
			b.log.Printf("%%post at %s exited with status %d; going on, as it has no --erroronfail", s.Pos, te.Status)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("%%post at %s: %w", s.Pos, err)
		}
	}
	return fmt.Sprintf("%d script(s)", len(ks.Posts)), nil
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
