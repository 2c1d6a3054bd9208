// Package store keeps builds and their queue: what was asked, its state,
// who builds it under which lease, and what came out. One interface, with
// SQLite for local mode (and PostgreSQL to come for the distributed mode);
// storetest holds the suite every implementation passes.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// State is where a build is in its life.
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

// Errors the implementations return, for errors.Is.
var (
	ErrNotFound  = errors.New("no such build")
	ErrNoJob     = errors.New("no queued build matches")
	ErrLeaseLost = errors.New("the lease is no longer held")
	ErrFinished  = errors.New("the build has finished")
)

// Build is one build request and its fate.
type Build struct {
	ID        string          `json:"id"`
	Request   json.RawMessage `json:"request"`
	Type      string          `json:"type"`
	Arch      string          `json:"arch"`
	Release   string          `json:"release"`
	Requester string          `json:"requester,omitempty"`
	State     State           `json:"state"`
	Stage     string          `json:"stage,omitempty"`
	Worker    string          `json:"worker,omitempty"`
	Error     string          `json:"error,omitempty"`
	Attempts  int             `json:"attempts"`
	Cancel    bool            `json:"cancel_requested,omitempty"`
	Created   time.Time       `json:"created"`
	Started   *time.Time      `json:"started,omitempty"`
	Finished  *time.Time      `json:"finished,omitempty"`
	Artifacts json.RawMessage `json:"artifacts,omitempty"`
}

// Lease is a worker's hold on a running build; it lapses at Expires
// unless renewed by Heartbeat.
type Lease struct {
	BuildID string
	Worker  string
	Token   string
	Expires time.Time
}

// Claim is what a worker can build.
type Claim struct {
	Worker                  string
	Types, Arches, Releases []string // empty: any
	For                     time.Duration
}

// Filter narrows List; empty fields match all. Results come newest first.
type Filter struct {
	State, Type, Arch, Release, Requester string
	Limit, Offset                         int
}

// Store is the builds and their queue.
type Store interface {
	// Create files a new queued build; it sets ID (when empty), State and Created.
	Create(ctx context.Context, b *Build) error
	Get(ctx context.Context, id string) (*Build, error)
	List(ctx context.Context, f Filter) ([]*Build, error)
	// Claim gives the oldest queued build that matches c, running under a
	// new lease, or ErrNoJob. No build is ever given to two claimers.
	Claim(ctx context.Context, c Claim) (*Build, *Lease, error)
	// Heartbeat renews the lease and reports whether a cancel was asked.
	Heartbeat(ctx context.Context, l *Lease, stage string, d time.Duration) (cancel bool, err error)
	// Finish ends a leased build in a final state.
	Finish(ctx context.Context, l *Lease, state State, errMsg string, artifacts json.RawMessage) error
	// Release hands a leased build back to the queue (a worker shutting
	// down cleanly), without counting the attempt against it.
	Release(ctx context.Context, l *Lease) error
	// Cancel ends a queued build at once, or asks a running one to stop;
	// ErrFinished for one that is done.
	Cancel(ctx context.Context, id string) (*Build, error)
	// Expire puts the running builds whose lease lapsed before now back in
	// the queue, or fails those that have had maxAttempts already.
	Expire(ctx context.Context, now time.Time, maxAttempts int) (requeued, failed []string, err error)
	Close() error
}
