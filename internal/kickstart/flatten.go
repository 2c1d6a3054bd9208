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
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// BadInput marks the error as the requester's to fix.
func (e *Error) BadInput() bool { return true }

// Loader fetches a kickstart or an included file. ref is a path or URL as
// written; base is the file or URL that named it ("" for the top file).
type Loader interface {
	Load(ctx context.Context, ref, base string) (name string, data []byte, err error)
}

const maxIncludeDepth = 16

// Flatten reads ref and every file it includes, into one list of lines.
func Flatten(ctx context.Context, l Loader, ref string) ([]Line, error) {
	return flatten(ctx, l, ref, "", Pos{}, nil)
}

func flatten(ctx context.Context, l Loader, ref, base string, from Pos, stack []string) ([]Line, error) {
	name, data, err := l.Load(ctx, ref, base)
	if err != nil {
		if from.File == "" {
			return nil, err
		}
		return nil, &Error{Pos: from, Msg: fmt.Sprintf("%%include %s: %v", ref, err)}
	}
	for _, s := range stack {
		if s == name {
			return nil, &Error{Pos: from, Msg: fmt.Sprintf("%%include %s includes itself (%s)", ref, strings.Join(append(stack, name), " -> "))}
		}
	}
	if len(stack) >= maxIncludeDepth {
		return nil, &Error{Pos: from, Msg: fmt.Sprintf("%%include nested deeper than %d files", maxIncludeDepth)}
	}
	stack = append(stack, name)
	var out []Line
	for i, text := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		text = strings.TrimSuffix(text, "\r")
		pos := Pos{File: name, Line: i + 1}
		f := strings.Fields(text)
		if len(f) > 0 && (f[0] == "%include" || f[0] == "%ksappend") {
			if len(f) != 2 {
				return nil, &Error{Pos: pos, Msg: f[0] + " takes one path or URL"}
			}
			sub, err := flatten(ctx, l, f[1], name, pos, stack)
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
