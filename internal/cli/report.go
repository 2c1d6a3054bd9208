package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// terminal draws a build as a table of stages, a line per finished stage.
// On a terminal a live area under the table is redrawn as the build goes:
// each running stage with its elapsed time (and its progress, where it
// reports some), and under them the last lines of %post and of the serial
// console, which can be quiet for minutes otherwise. Off a terminal (a
// pipe, a CI log) there are no redraws: a stage that runs long prints a
// plain line with its time and latest output every plainEvery.
type terminal struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	width   int
	now     func() time.Time
	running []*runningStage // in the order they started
	tail    []string        // the last lines of a talkative stage's tools
	drawn   int             // lines of the live area on screen
	stop    chan struct{}   // ends the ticker
	// cancelled tells a stage stopped by Ctrl-C from one that failed.
	cancelled func() bool
}

type runningStage struct {
	name      string
	start     time.Time
	progress  string
	lastPlain time.Time // when off a terminal it last said it runs
}

const (
	tailLines  = 3                // output lines under the live stages
	plainEvery = 30 * time.Second // off a terminal, how often a long stage says it runs
	tickEvery  = 200 * time.Millisecond
)

func newTerminal(w io.Writer) *terminal {
	t := &terminal{w: w, now: time.Now, width: 80, cancelled: func() bool { return false }}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		t.tty = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			t.width = cols
		}
	}
	return t
}

// tick redraws the live area every interval (on a terminal), or says
// off it which long stages still run, until Close.
func (t *terminal) tick(interval time.Duration) {
	t.stop = make(chan struct{})
	go func() {
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for {
			select {
			case <-t.stop:
				return
			case <-tk.C:
				t.mu.Lock()
				t.refresh()
				t.mu.Unlock()
			}
		}
	}()
}

// Close stops the ticker and leaves the screen with the table only.
func (t *terminal) Close() {
	if t.stop != nil {
		close(t.stop)
		t.stop = nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clear()
}

func (t *terminal) StageStart(name string) { t.startAt(name, t.now()) }

func (t *terminal) startAt(name string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running = append(t.running, &runningStage{name: name, start: at, lastPlain: at})
	if talkative(name) {
		t.tail = nil
	}
	t.redraw()
}

func (t *terminal) StageProgress(name, what string, done, total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.find(name); s != nil {
		s.progress = fmt.Sprintf("%s %d/%d %s", what, done, total, bar(done, total, 20))
	}
}

func (t *terminal) StageDone(name string, took time.Duration, note string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, s := range t.running {
		if s.name == name {
			t.running = append(t.running[:i], t.running[i+1:]...)
			break
		}
	}
	status := note
	switch {
	case err != nil && t.cancelled():
		status = "cancelled"
	case err != nil:
		status = "FAILED"
	}
	if !t.talking() {
		t.tail = nil
	}
	t.clear()
	fmt.Fprintf(t.w, "  %-11s %6.1fs  %s\n", name, took.Seconds(), status)
	t.redraw()
}

// Output is a line of the build log (without its time stamp). Tool output
// ("  sh: …", "  console: …") is kept while %post or a boot test runs.
func (t *terminal) Output(line string) {
	text, ok := strings.CutPrefix(line, "  ")
	if !ok || !strings.Contains(text, ": ") {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.talking() {
		return
	}
	t.tail = append(t.tail, strings.TrimRight(text, " \t"))
	if len(t.tail) > tailLines {
		t.tail = t.tail[len(t.tail)-tailLines:]
	}
	t.redraw()
}

// Printf prints a line of its own, above the live area.
func (t *terminal) Printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clear()
	fmt.Fprintf(t.w, format+"\n", args...)
	t.redraw()
}

// talkative stages are those whose tools' output a tester wants to watch.
func talkative(stage string) bool { return stage == "post" || strings.HasPrefix(stage, "boot-") }

func (t *terminal) talking() bool {
	for _, s := range t.running {
		if talkative(s.name) {
			return true
		}
	}
	return false
}

func (t *terminal) find(name string) *runningStage {
	for _, s := range t.running {
		if s.name == name {
			return s
		}
	}
	return nil
}

// runningStage is the stage name while it runs, else nil.
func (t *terminal) runningStage(name string) *runningStage {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.find(name)
}

// refresh is the ticker's turn: a redraw, or off a terminal a plain line
// for each stage that has been quiet in the table for plainEvery.
func (t *terminal) refresh() {
	if t.tty {
		t.redraw()
		return
	}
	now := t.now()
	for _, s := range t.running {
		if now.Sub(s.lastPlain) < plainEvery {
			continue
		}
		s.lastPlain = now
		line := fmt.Sprintf("  %-11s %6.0fs  running", s.name, now.Sub(s.start).Seconds())
		if len(t.tail) > 0 && talkative(s.name) {
			line += "; " + t.tail[len(t.tail)-1]
		}
		fmt.Fprintln(t.w, line)
	}
}

// clear removes the live area (cursor to its first line, erase below).
func (t *terminal) clear() {
	if t.drawn == 0 {
		return
	}
	fmt.Fprint(t.w, "\r")
	if t.drawn > 1 {
		fmt.Fprintf(t.w, "\033[%dA", t.drawn-1)
	}
	fmt.Fprint(t.w, "\033[J")
	t.drawn = 0
}

// redraw draws the live area again, each line cut to the terminal's width
// so that none wraps (the cursor arithmetic counts lines).
func (t *terminal) redraw() {
	if !t.tty {
		return
	}
	t.clear()
	var lines []string
	now := t.now()
	for _, s := range t.running {
		lines = append(lines, strings.TrimRight(fmt.Sprintf("  %-11s %6.1fs  %s", s.name, now.Sub(s.start).Seconds(), s.progress), " "))
	}
	if len(lines) > 0 {
		for _, l := range t.tail {
			lines = append(lines, "    │ "+l)
		}
	}
	for i, l := range lines {
		lines[i] = cut(l, t.width-1)
	}
	fmt.Fprint(t.w, strings.Join(lines, "\n"))
	t.drawn = len(lines)
}

// cut shortens s to n runes, ending it with … when cut; control
// characters (a console's escape sequences) become spaces.
func cut(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func bar(done, total, width int) string {
	if total <= 0 {
		return ""
	}
	n := done * width / total
	b := make([]rune, width)
	for i := range b {
		b[i] = '·'
		if i < n {
			b[i] = '#'
		}
	}
	return "[" + string(b) + "]"
}
