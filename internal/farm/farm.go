// Package farm is the protocol between an fbs server and the workers that
// build for it: what a worker announces and claims, the lease it builds
// under, and the outcome it reports. fbs serve's own slots speak it as
// calls into the server's queue, remote workers as the worker API over
// HTTP; it holds no database, so a worker links none.
package farm

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"fbs/internal/bootcheck"
)

// State is where a build is in its life; a worker reports a final one.
type State string

const (
	Queued    State = "queued"
	Running   State = "running"
	Succeeded State = "succeeded"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// Done reports whether the state is final.
func (s State) Done() bool { return s == Succeeded || s == Failed || s == Cancelled }

// Errors of the protocol, for errors.Is; a remote worker gets them back
// from the server's answers.
var (
	ErrNoJob     = errors.New("no queued build matches")
	ErrLeaseLost = errors.New("the lease is no longer held")
)

// GapError says a log append starts past the end of the server's log:
// the worker resends from Size.
type GapError struct{ Size int64 }

func (e *GapError) Error() string {
	return fmt.Sprintf("the log has %d bytes; send from there", e.Size)
}

// Worker is what a worker announces with each claim: its name (its
// token's), the builds it takes (an empty list takes any) and its slots.
type Worker struct {
	Name     string   `json:"name"`
	Arches   []string `json:"arches"`
	Releases []string `json:"releases"`
	Types    []string `json:"types"`
	Slots    int      `json:"slots"`
	Version  string   `json:"version"`
}

// Lease is a worker's hold on a running build; it lapses at Expires
// unless renewed by a heartbeat.
type Lease struct {
	BuildID string    `json:"build_id"`
	Worker  string    `json:"worker"`
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// Build is what a worker is told of the build it claimed.
type Build struct {
	ID       string          `json:"id"`
	Request  json.RawMessage `json:"request"`
	Attempts int             `json:"attempts"` // this one included
}

// Job is a claimed build: its lease, and where the worker's log lines
// begin in the server's log (after the lines of earlier attempts).
type Job struct {
	Build     *Build `json:"build"`
	Lease     *Lease `json:"lease"`
	LogOffset int64  `json:"log_offset"`
	// LeaseSeconds is the server's lease: the worker heartbeats well within it.
	LeaseSeconds float64 `json:"lease_seconds"`
}

// LeaseFor is the lease as a duration.
func (j *Job) LeaseFor() time.Duration { return time.Duration(j.LeaseSeconds * float64(time.Second)) }

// Outcome is how a build ended, as its worker reports it; its artifacts
// are on the server by then.
type Outcome struct {
	State     State              `json:"state"`
	Error     string             `json:"error,omitempty"`
	Artifacts []Artifact         `json:"artifacts,omitempty"`
	Stages    map[string]float64 `json:"stages,omitempty"` // seconds
	// Boots are the boot tests the build ran, passed or not.
	Boots []*bootcheck.Result `json:"boot_tests,omitempty"`
}

// Artifact is one output file of a build, as its worker reports it.
type Artifact struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	Path   string `json:"-"` // where the worker has it
}

// Dir is where a build's log (build.log) and artifacts (artifacts/) live
// under a data dir: the server's, where its own slots build, and a remote
// worker's alike.
func Dir(data, id string) string { return filepath.Join(data, "builds", id) }
