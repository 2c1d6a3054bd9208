package kickstart

import (
	"cmp"
	"context"
	"errors"
)

// Read flattens and parses a request's kickstart: text under ref's name
// when the request carries it (request.ks when unnamed), else the file or
// URL ref; %includes come through l. fbs installs from the kickstart's
// repos, so one without any is an error.
func Read(ctx context.Context, l Loader, ref, text string) (*Kickstart, error) {
	if text != "" {
		ref = cmp.Or(ref, "request.ks")
		l = Inline{Name: ref, Text: text, Next: l}
	}
	lines, err := Flatten(ctx, l, ref)
	if err != nil {
		var kerr *Error
		if errors.As(err, &kerr) {
			return nil, err
		}
		return nil, &Error{Pos: Pos{File: ref}, Msg: err.Error()}
	}
	ks, err := Parse(lines)
	if err != nil {
		return nil, err
	}
	if len(ks.Repos) == 0 {
		return nil, &Error{Pos: Pos{File: ref, Line: 1}, Msg: "no repo (or url) command: fbs installs from the kickstart's repos"}
	}
	return ks, nil
}
