package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"fbs/internal/api"
	"fbs/internal/bootcheck"
	"fbs/internal/publish"
	"fbs/internal/queue"
	"fbs/internal/store"
)

// exitInterrupted is a command stopped by Ctrl-C (128 + SIGINT), as shells have it.
const exitInterrupted = 130

// view is the API's build with its stages, and its artifacts and boot
// tests read from their JSON.
type view struct {
	api.Build
	arts  []queue.Artifact
	boots []bootcheck.Result
}

// view reads a build, with its artifacts and boot tests.
func (c *client) view(ctx context.Context, id string) (*view, error) {
	v := &view{Build: api.Build{Build: &store.Build{}}}
	if err := c.do(ctx, "GET", "/api/v1/builds/"+id, "", nil, &v.Build); err != nil {
		return nil, err
	}
	for what, raw := range map[string]struct {
		data json.RawMessage
		dst  any
	}{"artifacts": {v.Artifacts, &v.arts}, "boot tests": {v.BootTests, &v.boots}} {
		if len(raw.data) == 0 {
			continue
		}
		if err := json.Unmarshal(raw.data, raw.dst); err != nil {
			return nil, fmt.Errorf("build %s: its %s: %w", id, what, err)
		}
	}
	return v, nil
}

// watch follows a build's log as the stage table (the log itself with
// raw), then says how the build ended: 0 succeeded, 1 not, 130 when Ctrl-C
// stopped the following (the build goes on).
func watch(cmd *cobra.Command, c *client, id string, raw bool) error {
	ctx, out := cmd.Context(), cmd.OutOrStdout()
	var sink logSink = rawView{out}
	var t *terminal
	if !raw {
		t = newTerminal(out)
		t.tick(tickEvery)
		sink = &logView{t: t}
	}
	state, err := c.follow(ctx, id, sink)
	if t != nil {
		t.Close()
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(cmd.ErrOrStderr(), "fbs: stopped following build %s; it goes on on the server (fbs cancel %s stops it)\n", id, id)
		return exitStatus(exitInterrupted)
	case err != nil:
		return err
	}
	v, err := c.view(context.WithoutCancel(ctx), id)
	if err != nil {
		return err
	}
	v.State = state
	ending(out, c, v)
	if state != store.Succeeded {
		return exitStatus(exitFailed) // said once, by ending
	}
	return nil
}

// ending says once how a build ended, what it made and where to get it.
func ending(w io.Writer, c *client, v *view) {
	switch v.State {
	case store.Succeeded:
		fmt.Fprintf(w, "fbs: build %s succeeded in %s\n", v.ID, took(v.Build.Build))
		artifacts(w, v.arts)
	case store.Failed:
		fmt.Fprintf(w, "fbs: build %s failed: %s\n", v.ID, v.Error)
	default:
		fmt.Fprintf(w, "fbs: build %s %s\n", v.ID, v.State)
	}
	fmt.Fprintf(w, "  page      %s/builds/%s\n", c.base, v.ID)
	if len(v.arts) > 0 && v.Purged == nil {
		fmt.Fprintf(w, "  download  %s\n", c.command("download", v.ID))
	}
}

func artifacts(w io.Writer, arts []queue.Artifact) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, a := range arts {
		fmt.Fprintf(tw, "  %s\t%s\tsha256 %s\n", a.Name, publish.HumanSize(a.Size), a.SHA256)
	}
	tw.Flush()
}

// took is how long a build ran (so far).
func took(b *store.Build) string {
	switch {
	case b.Started == nil:
		return "—"
	case b.Finished == nil:
		return time.Since(*b.Started).Round(time.Second).String()
	}
	return b.Finished.Sub(*b.Started).Round(100 * time.Millisecond).String()
}

// summary is fbs status: the build in a few lines a tester reads at once.
func summary(w io.Writer, c *client, v *view) {
	b := v.Build.Build
	fmt.Fprintf(w, "build %s: %s", b.ID, b.State)
	if b.Stage != "" && !b.State.Done() {
		fmt.Fprintf(w, " (stage %s)", b.Stage)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fact := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, args...)...)
	}
	image := fmt.Sprintf("%s %s, release %s", b.Type, b.Arch, b.Release)
	if v.Label != "" {
		image += fmt.Sprintf(", %q", v.Label)
	}
	fact("image", "%s", image)
	fact("submitted", "%s%s", b.Created.Local().Format(time.DateTime), prefixed(" by ", b.Requester))
	if b.Waiting != "" {
		fact("waiting", "%s", b.Waiting)
	}
	if b.Worker != "" {
		fact("worker", "%s (attempt %d)", b.Worker, b.Attempts)
	}
	if b.Started != nil {
		fact("took", "%s", took(b))
	}
	if b.Error != "" {
		fact("error", "%s", b.Error)
	}
	for _, r := range v.boots {
		fact("boot test", "%s (%s) %.1fs: %q", r.Firmware, r.Accel, r.Seconds, r.Line)
	}
	tw.Flush()
	if len(v.Stages) > 0 {
		fmt.Fprintln(w, "stages")
		for _, s := range v.Stages {
			note := s.Note
			if s.State != "done" {
				note = s.State
			}
			fmt.Fprintf(w, "  %-11s %6.1fs  %s\n", s.Name, s.Seconds, note)
		}
	}
	if len(v.arts) > 0 {
		fmt.Fprintln(w, "artifacts")
		if b.Purged != nil {
			fmt.Fprintf(w, "  removed by retention on %s\n", b.Purged.Local().Format(time.DateOnly))
		} else {
			artifacts(w, v.arts)
		}
	}
	fmt.Fprintf(w, "page  %s/builds/%s\n", c.base, b.ID)
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}
