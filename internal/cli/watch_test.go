package cli

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"fbs/internal/api"
	"fbs/internal/fbstest"
	"fbs/internal/queue"
	"fbs/internal/store"
)

// TestFollowGolden draws a recorded build log as fbs logs -f and fbs
// submit --wait do, on a terminal (a pseudo-terminal: the live area, its
// timers and %post and console lines, redrawn in place) and on a pipe
// (the stage table only), and compares both with golden files.
func TestFollowGolden(t *testing.T) {
	tests := map[string]func(t *testing.T) (w *os.File, read func() string){
		"pty": func(t *testing.T) (*os.File, func() string) {
			master, tty, err := pty.Open()
			if err != nil {
				t.Skipf("no pseudo-terminal here: %v", err)
			}
			t.Cleanup(func() { master.Close() })
			pty.Setsize(tty, &pty.Winsize{Rows: 24, Cols: 100})
			return tty, drain(master, tty)
		},
		"pipe": func(t *testing.T) (*os.File, func() string) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			return w, drain(r, w)
		},
	}
	for name, open := range tests {
		t.Run(name, func(t *testing.T) {
			w, read := open(t)
			term := newTerminal(w)
			var at time.Time // the log's clock: each line is "now"
			term.now = func() time.Time { return at }
			v := &logView{t: term}
			f, err := os.Open("testdata/follow.log")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				at = api.ParseLogLine(sc.Text()).At.Add(500 * time.Millisecond)
				v.line(sc.Text())
				term.mu.Lock()
				term.refresh() // a tick between lines
				term.mu.Unlock()
			}
			term.Close()
			started, finished := at.Add(-48*time.Second), at
			b := &store.Build{ID: "20261130-035639-live-x86_64-cbf80e", State: store.Succeeded, Started: &started, Finished: &finished}
			ending(w, &client{base: "http://fbs.example.org"}, &view{Build: api.Build{Build: b},
				arts: []queue.Artifact{{Name: "FBS-Demo-Live.iso", Size: 28 << 20, SHA256: "9f2c…e1"}, {Name: "build.log", Size: 21 << 10, SHA256: "03ab…77"}}})
			fbstest.Golden(t, "follow-"+name, read())
		})
	}
}

// drain reads r in the background; the returned func closes w and gives
// what came, with a terminal's CR LF as LF, and CR and ESC made visible.
func drain(r io.Reader, w *os.File) func() string {
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&buf, r) // a pty's master ends with EIO once the tty closes
		close(done)
	}()
	return func() string {
		w.Close()
		<-done
		return strings.NewReplacer("\r\n", "\n", "\r", "␍", "\033", "␛").Replace(buf.String())
	}
}
