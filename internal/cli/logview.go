package cli

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"time"

	"fbs/internal/api"
)

// logView draws a build log's lines, as they come, as the stage table fbs
// build draws from the build itself: a remote build followed over the API.
type logView struct {
	t *terminal
}

func (v *logView) line(raw string) {
	ev := api.ParseLogLine(raw)
	switch ev.Kind {
	case "start":
		v.t.startAt(ev.Stage, ev.At)
	case "done":
		v.t.StageDone(ev.Stage, ev.Took, ev.Note, nil)
	case "failed":
		if s := v.t.runningStage(ev.Stage); s != nil {
			v.t.StageDone(ev.Stage, ev.At.Sub(s.start), "", errors.New(ev.Note))
		}
	default:
		v.t.Output(ev.Text)
	}
}

func (v *logView) status(s string) { v.t.Printf("fbs: %s", s) }

// rawView prints the log as it is (--raw).
type rawView struct{ w io.Writer }

func (v rawView) line(s string)   { io.WriteString(v.w, s+"\n") }
func (v rawView) status(s string) { io.WriteString(v.w, "fbs: "+s+"\n") }

// tailLog feeds the lines appended to the log at path to fn until ctx
// ends: a local build's %post and console output for the live area.
func tailLog(ctx context.Context, path string, fn func(string)) {
	f, err := os.Open(path)
	if err != nil {
		return // no live output; the table still comes
	}
	defer f.Close()
	rd := bufio.NewReader(f)
	var partial string
	for {
		line, err := rd.ReadString('\n')
		if err == nil {
			fn(api.ParseLogLine(partial + line[:len(line)-1]).Text)
			partial = ""
			continue
		}
		partial += line // a line still being written
		select {
		case <-ctx.Done():
			return
		case <-time.After(tickEvery):
		}
	}
}
