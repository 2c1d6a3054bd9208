package api

import (
	"bufio"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// LogEvent is what one line of a build log says: a stage started or
// ended, the build failed, or anything else (Text).
type LogEvent struct {
	Kind  string // "start", "done", "failed" or "" for other lines
	At    time.Time
	Stage string
	Took  time.Duration // of a "done" stage
	Note  string        // a done stage's note; the failed build's error
	Text  string        // the line without its time stamp
}

// stampLen is the length of a log line's time stamp and the space after it.
const stampLen = len("2006-01-02T15:04:05.000Z ")

// ParseLogLine reads a line of the build log (buildlog's format), so that
// the CLI and the pages draw the same stage table from it as fbs build
// does from the build itself.
func ParseLogLine(line string) LogEvent {
	ev := LogEvent{Text: line}
	if len(line) >= stampLen && line[stampLen-1] == ' ' {
		if at, err := time.Parse("2006-01-02T15:04:05.000Z", line[:stampLen-1]); err == nil {
			ev.At, ev.Text = at, line[stampLen:]
		}
	}
	rest, isStage := strings.CutPrefix(ev.Text, "=== stage ")
	switch {
	case isStage:
		name, done, ok := strings.Cut(rest, " done in ")
		if !ok {
			ev.Kind, ev.Stage = "start", rest
			return ev
		}
		took, note, _ := strings.Cut(done, ": ")
		d, err := time.ParseDuration(took)
		if err != nil {
			return ev
		}
		ev.Kind, ev.Stage, ev.Took, ev.Note = "done", name, d, note
	case strings.HasPrefix(ev.Text, "build failed: "):
		ev.Kind, ev.Note = "failed", strings.TrimPrefix(ev.Text, "build failed: ")
		if s, ok := strings.CutPrefix(ev.Note, "stage "); ok {
			ev.Stage, _, _ = strings.Cut(s, ":")
		}
	}
	return ev
}

// errorLine matches a log line that tells of a failure.
var errorLine = regexp.MustCompile(`(?i)\b(error|errors|failed|fatal|cannot|no match for argument)\b|^build failed|FAILED`)

// IsErrorLine says a log line tells of a failure (the pages mark it).
func IsErrorLine(line string) bool {
	ev := ParseLogLine(line)
	return ev.Kind == "failed" || errorLine.MatchString(ev.Text) && !strings.HasPrefix(ev.Text, "$ ")
}

// Stage is one stage of a build as its log tells it.
type Stage struct {
	Name string `json:"name"`
	// State is running, done, failed, or stopped (another stage failed).
	State   string    `json:"state"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	Note    string    `json:"note,omitempty"`
}

// Stages reads a build's stages from its log, in the order they started;
// a stage still running counts its seconds to now. A later attempt's
// stages replace an earlier one's.
func Stages(r io.Reader, now time.Time) []Stage {
	var out []Stage
	index := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		ev := ParseLogLine(sc.Text())
		i, seen := index[ev.Stage]
		switch ev.Kind {
		case "start":
			if seen && out[i].State != "running" { // a new attempt
				out, index = nil, map[string]int{}
			}
			index[ev.Stage] = len(out)
			out = append(out, Stage{Name: ev.Stage, State: "running", Started: ev.At})
		case "done":
			if seen {
				out[i].State, out[i].Seconds, out[i].Note = "done", ev.Took.Seconds(), ev.Note
			}
		case "failed":
			for j := range out {
				if out[j].State != "running" {
					continue
				}
				out[j].State, out[j].Seconds = "stopped", ev.At.Sub(out[j].Started).Seconds()
				if out[j].Name == ev.Stage {
					out[j].State = "failed"
				}
			}
		}
	}
	for j := range out {
		if out[j].State == "running" {
			out[j].Seconds = max(now.Sub(out[j].Started).Seconds(), 0)
		}
	}
	return out
}

// LogStages reads the stages of the log at path (none when it is missing).
func LogStages(path string, now time.Time) []Stage {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	return Stages(f, now)
}
