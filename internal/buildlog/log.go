// Package buildlog writes a build's log: one file per build, every line
// timestamped, tool output included, so the staged log tells the whole story.
package buildlog

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Log is a build log. It is safe for concurrent use.
type Log struct {
	mu   sync.Mutex
	w    io.Writer
	f    *os.File
	Path string
}

// Create opens a new log file at path.
func Create(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("build log: %w", err)
	}
	return &Log{w: f, f: f, Path: path}, nil
}

// New writes the log to w (tests, or a log kept elsewhere).
func New(w io.Writer) *Log { return &Log{w: w} }

// Printf writes one timestamped line (or several, each stamped).
func (l *Log) Printf(format string, args ...any) {
	l.lines("", fmt.Sprintf(format, args...))
}

func (l *Log) lines(prefix, text string) {
	ts := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(ts)
		b.WriteByte(' ')
		b.WriteString(prefix)
		b.WriteString(line)
		b.WriteByte('\n')
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.w, b.String())
}

// Close closes the log file.
func (l *Log) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// Output returns a writer for a tool's output: each line is offered to
// onLine (progress parsing; it returns true for a line not worth logging,
// such as a redrawn progress bar), logged with prefix, and the last lines
// are kept for the error message should the tool fail.
func (l *Log) Output(prefix string, onLine func(string) bool) *Output {
	return &Output{log: l, prefix: prefix, onLine: onLine}
}

// Output is a line-splitting writer for a tool's combined stdout and stderr.
type Output struct {
	log    *Log
	prefix string
	onLine func(string) bool
	mu     sync.Mutex
	buf    []byte
	tail   []string
}

const tailLines = 15

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf = append(o.buf, p...)
	for {
		i := bytes.IndexAny(o.buf, "\n\r")
		if i < 0 {
			break
		}
		o.line(string(o.buf[:i]))
		o.buf = o.buf[i+1:]
	}
	return len(p), nil
}

func (o *Output) line(s string) {
	if strings.TrimSpace(s) == "" {
		return
	}
	if o.onLine != nil && o.onLine(s) {
		return
	}
	o.log.lines(o.prefix, s)
	o.tail = append(o.tail, s)
	if len(o.tail) > tailLines {
		o.tail = o.tail[1:]
	}
}

// Flush logs a last line that had no newline.
func (o *Output) Flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.buf) > 0 {
		o.line(string(o.buf))
		o.buf = nil
	}
}

// Tail returns the last lines the tool printed.
func (o *Output) Tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.tail, "\n")
}
