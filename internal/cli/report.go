package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// terminal prints a line per finished stage; on a terminal it also redraws
// a progress line for downloads, installs and compression as they go.
type terminal struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	pending bool // a progress line is on screen
	last    time.Time
}

func newTerminal(w io.Writer) *terminal {
	f, ok := w.(*os.File)
	return &terminal{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (t *terminal) clear() {
	if t.pending {
		fmt.Fprint(t.w, "\r\033[K")
		t.pending = false
	}
}

func (t *terminal) StageStart(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tty {
		t.clear()
		fmt.Fprintf(t.w, "  %-11s …", name)
		t.pending = true
	}
}

func (t *terminal) StageProgress(name, what string, done, total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.tty || time.Since(t.last) < 100*time.Millisecond && done < total {
		return
	}
	t.last = time.Now()
	t.clear()
	fmt.Fprintf(t.w, "  %-11s %s %d/%d %s", name, what, done, total, bar(done, total, 20))
	t.pending = true
}

func (t *terminal) StageDone(name string, took time.Duration, note string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clear()
	status := note
	if err != nil {
		status = "FAILED"
	}
	fmt.Fprintf(t.w, "  %-11s %6.1fs  %s\n", name, took.Seconds(), status)
}

// Printf prints a line of its own, below any progress line.
func (t *terminal) Printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clear()
	fmt.Fprintf(t.w, format+"\n", args...)
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
