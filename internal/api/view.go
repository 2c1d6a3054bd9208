package api

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"fbs/internal/queue"
	"fbs/internal/spec"
	"fbs/internal/store"
)

// Build is a build as the API shows it: the store's record, with its
// image's label (the volume id, or a live image's title) and, for a single
// build, its stages as its log tells them.
type Build struct {
	*store.Build
	Label  string  `json:"label,omitempty"`
	Stages []Stage `json:"stages,omitempty"`
}

// Label is the label of the image b's request makes: a live image's
// title, else its volume id ("" when the request does not parse).
func Label(b *store.Build) string {
	req, err := spec.ParseJSON("request", b.Request)
	switch {
	case err != nil:
		return ""
	case req.Live != nil:
		return cmp.Or(req.Live.Title, req.Live.Label)
	case req.Boot != nil:
		return req.Boot.Label
	case req.DVD != nil:
		return req.DVD.Label
	}
	return ""
}

// View is b as the API shows it, with its stages when withStages.
func (s *Server) View(b *store.Build, withStages bool) *Build {
	v := &Build{Build: b, Label: Label(b)}
	if withStages {
		now := time.Now()
		if b.Finished != nil {
			now = *b.Finished
		}
		v.Stages = LogStages(queue.LogPath(s.Data, b.ID), now)
	}
	return v
}

// States are the states a build can be in, for filters.
var States = []store.State{store.Queued, store.Running, store.Succeeded, store.Failed, store.Cancelled}

// Types are the image types.
var Types = []string{"boot", "dvd", "live"}

// CheckFilter refuses a filter naming a state or type that does not
// exist: it would match nothing, and say nothing of the typo.
func CheckFilter(f store.Filter) error {
	if f.State != "" && !slices.Contains(States, store.State(f.State)) {
		return &spec.Error{Key: "state", Msg: fmt.Sprintf("%q is no state (%s)", f.State, joinStates())}
	}
	if f.Type != "" && !slices.Contains(Types, f.Type) {
		return &spec.Error{Key: "type", Msg: fmt.Sprintf("%q is no image type (boot, dvd, live)", f.Type)}
	}
	return nil
}

func joinStates() string {
	s := ""
	for i, st := range States {
		if i > 0 {
			s += ", "
		}
		s += string(st)
	}
	return s
}
