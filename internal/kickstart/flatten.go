// Package kickstart reads kickstart files: it flattens %include, then parses
// the commands and sections an image build uses.
package kickstart

import (
	"context"
	"fmt"
	"strings"
)

// Pos is where a line came from, after %include was flattened.
type Pos struct {
	File string
	Line int
}

// Fetched says whether the line came from a URL, rather than from the
// requester (inline text, an upload, a file of their own).
func (p Pos) Fetched() bool { return strings.Contains(p.File, "://") }

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Line is one line of the flattened kickstart.
type Line struct {
	Text string
	Pos  Pos
}

// Error is a kickstart at fault: a syntax error, a missing include, a bad option.
type Error struct {
	Pos Pos
	Msg string
	// Quoted, when set, is Msg with the text of the line at fault in it.
	// It is shown only for text the requester gave: a URL may name a
	// page that never was a kickstart (an internal one, with secrets),
	// and quoting it would hand its lines to the requester.
	Quoted string
}

func (e *Error) Error() string {
	if e.Quoted != "" && !e.Pos.Fetched() {
		return e.Pos.String() + ": " + e.Quoted
	}
	return e.Pos.String() + ": " + e.Msg
}

// quoting is an error whose message quotes the kickstart's text: msg
// says what is wrong without it, quoted with it.
func quoting(pos Pos, msg, quoted string) *Error {
	return &Error{Pos: pos, Msg: msg, Quoted: quoted}
}

// BadInput marks the error as the requester's to fix.
func (e *Error) BadInput() bool { return true }

// Loader fetches a kickstart or an included file. ref is a path or URL as
// written; base is the file or URL that named it ("" for the top file).
type Loader interface {
	Load(ctx context.Context, ref, base string) (name string, data []byte, err error)
}

// Bounds of a whole kickstart, every file it includes together (each
// time it is included). Real ones are tens of KiB in a handful of files;
// without a bound, a few includes of a large URL, or includes fanning
// out, would take the memory of the server that checks the kickstart and
// of the worker that builds it, and make them fetch without end.
const (
	maxSize         = 1 << 20
	maxIncludes     = 64
	maxIncludeDepth = 16
)

// budget is what is left of the bounds while a kickstart is flattened.
type budget struct{ size, includes int }

// Flatten reads ref and every file it includes, into one list of lines.
func Flatten(ctx context.Context, l Loader, ref string) ([]Line, error) {
	return flatten(ctx, l, ref, "", Pos{}, nil, &budget{size: maxSize, includes: maxIncludes})
}

func flatten(ctx context.Context, l Loader, ref, base string, from Pos, stack []string, b *budget) ([]Line, error) {
	if from.File != "" {
		if len(stack) >= maxIncludeDepth {
			return nil, &Error{Pos: from, Msg: fmt.Sprintf("%%include nested deeper than %d files", maxIncludeDepth)}
		}
		if b.includes--; b.includes < 0 {
			return nil, &Error{Pos: from, Msg: fmt.Sprintf("%%include: the kickstart includes more than %d files (a file included twice counts twice)", maxIncludes)}
		}
	}
	name, data, err := l.Load(ctx, ref, base)
	if err != nil {
		if from.File == "" {
			return nil, err
		}
		return nil, quoting(from, fmt.Sprintf("%%include: %v", err), fmt.Sprintf("%%include %s: %v", ref, err))
	}
	if b.size -= len(data); b.size < 0 {
		at := from
		if at.File == "" {
			at = Pos{File: name}
		}
		return nil, &Error{Pos: at, Msg: fmt.Sprintf("the kickstart with the files it includes is larger than %d KiB", maxSize>>10)}
	}
	for _, s := range stack {
		if s == name {
			chain := strings.Join(append(stack, name), " -> ")
			return nil, quoting(from, fmt.Sprintf("%%include includes itself (%s)", chain), fmt.Sprintf("%%include %s includes itself (%s)", ref, chain))
		}
	}
	stack = append(stack, name)
	var out []Line
	for i, text := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		text = strings.TrimSuffix(text, "\r")
		pos := Pos{File: name, Line: i + 1}
		f := strings.Fields(text)
		if len(f) > 0 && f[0] == "%include" {
			if len(f) != 2 {
				return nil, &Error{Pos: pos, Msg: f[0] + " takes one path or URL"}
			}
			sub, err := flatten(ctx, l, f[1], name, pos, stack, b)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		out = append(out, Line{Text: text, Pos: pos})
	}
	return out, nil
}

// Text renders flattened lines back into one kickstart.
func Text(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}
