// Package store keeps builds and their queue: what was asked, its state,
// who builds it under which lease, and what came out. One interface, with
// SQLite for local mode and PostgreSQL for the distributed mode; it also
// knows the workers, the API tokens and the logged-in web sessions.
// storetest holds the suite every implementation passes.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"fbs/internal/farm"
)

// State is where a build is in its life: the worker protocol's, which
// workers report without linking the store.
type State = farm.State

const (
	Queued    = farm.Queued
	Running   = farm.Running
	Succeeded = farm.Succeeded
	Failed    = farm.Failed
	Cancelled = farm.Cancelled
)

// Errors the implementations return, for errors.Is; those a worker hears
// are the protocol's.
var (
	ErrNotFound  = errors.New("no such build")
	ErrNoJob     = farm.ErrNoJob
	ErrLeaseLost = farm.ErrLeaseLost
	ErrFinished  = errors.New("the build has finished")
	ErrBadToken  = errors.New("unknown or revoked token")
	ErrNoSession = errors.New("no such session: it was never opened, was logged out, or expired")
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
	// BootTests are the results of the boot tests it ran (bootcheck.Result's).
	BootTests json.RawMessage `json:"boot_tests,omitempty"`
	// Waiting says why a queued build is not taken (the API fills it in).
	Waiting string `json:"waiting,omitempty"`
	// Purged is when retention removed its artifacts and log (the record stays).
	Purged *time.Time `json:"purged,omitempty"`
	// Notifications are the messages about it and their delivery (the API fills them in).
	Notifications []*Notification `json:"notifications,omitempty"`
}

// Worker is a build worker as the store last heard of it; the counts
// come from the builds it ran.
type Worker struct {
	Name      string    `json:"name"`
	Arches    []string  `json:"arches"`
	Releases  []string  `json:"releases"`
	Types     []string  `json:"types"`
	Slots     int       `json:"slots"`
	Version   string    `json:"version"`
	Draining  bool      `json:"draining,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Running   int       `json:"running"`
	Succeeded int       `json:"succeeded"`
	Failed    int       `json:"failed"`
	// State is idle, busy, draining or lost (see Status).
	State string `json:"state,omitempty"`
}

// Status is what the worker is doing: lost when it has not called for
// silent (its leases are lapsing), else draining, busy or idle.
func (w *Worker) Status(now time.Time, silent time.Duration) string {
	switch {
	case now.Sub(w.LastSeen) > silent:
		return "lost"
	case w.Draining:
		return "draining"
	case w.Running > 0:
		return "busy"
	}
	return "idle"
}

// Serves reports whether the worker takes builds of this kind (an empty
// list takes any).
func (w *Worker) Serves(typ, arch, release string) bool {
	return anyOf(w.Types, typ) && anyOf(w.Arches, arch) && anyOf(w.Releases, release)
}

func anyOf(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Token kinds: a worker token calls only the worker API, a user token
// only the user API.
const (
	WorkerToken = "worker"
	UserToken   = "user"
)

// Token is an API token; the store keeps only its secret's hash.
type Token struct {
	ID      string     `json:"id"`
	Kind    string     `json:"kind"`
	Name    string     `json:"name"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked,omitempty"`
}

// Session is a logged-in web session as the store keeps it: by its id's
// hash, so the store never holds a live cookie's id.
type Session struct {
	User    string
	Created time.Time
	Expires time.Time
}

// Count is how many builds of a kind are in a state.
type Count struct {
	Type, Arch, Release string
	State               State
	N                   int
}

// Lease is a worker's hold on a running build: the protocol's.
type Lease = farm.Lease

// Result is how a leased build ended, as Finish records it.
type Result struct {
	State     State
	Error     string
	Artifacts json.RawMessage // the artifacts' JSON
	BootTests json.RawMessage // the boot tests' JSON
}

// Expired are the builds whose lease lapsed, by what became of them.
type Expired struct {
	Requeued  []string // back in the queue
	Failed    []string // out of attempts
	Cancelled []string // a cancel was asked: it stays cancelled
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
	Finish(ctx context.Context, l *Lease, r Result) error
	// Release hands a leased build back to the queue (a worker shutting
	// down cleanly), without counting the attempt against it.
	Release(ctx context.Context, l *Lease) error
	// Cancel ends a queued build at once, or asks a running one to stop;
	// ErrFinished for one that is done.
	Cancel(ctx context.Context, id string) (*Build, error)
	// Expire puts the running builds whose lease lapsed before now back in
	// the queue, fails those that have had maxAttempts already, and ends
	// those whose cancel was asked as cancelled.
	Expire(ctx context.Context, now time.Time, maxAttempts int) (Expired, error)
	// Restaged turns a build that failed only in staging (its error starts
	// with prefix) into a success, once its artifacts are staged after all.
	Restaged(ctx context.Context, id, prefix string) error
	// Holds reports ErrLeaseLost unless the lease still holds its build.
	Holds(ctx context.Context, l *Lease) error
	// Counts counts the builds by type, arch, release and state.
	Counts(ctx context.Context) ([]Count, error)
	// Listen calls fn whenever builds may have been queued (by any
	// server on the same database), and once after each (re)connection.
	Listen(ctx context.Context, fn func(), errs func(error))

	// SeenWorker records that a worker called, with what it serves.
	SeenWorker(ctx context.Context, w *Worker) error
	Workers(ctx context.Context) ([]*Worker, error)

	// Purgeable lists the finished builds whose files retention removes:
	// all but the keep newest (keep > 0), and those finished before before
	// (if set); purged ones are left out.
	Purgeable(ctx context.Context, keep int, before time.Time) ([]string, error)
	// Purge records that a build's files were removed.
	Purge(ctx context.Context, id string) error
	// AddNotifications files messages to send (ID, State and Created set).
	AddNotifications(ctx context.Context, ns []*Notification) error
	// DueNotifications gives up to limit pending messages due by now,
	// holding them for hold so no other sender takes them meanwhile.
	DueNotifications(ctx context.Context, now time.Time, hold time.Duration, limit int) ([]*Notification, error)
	// NotificationResult records a send: done when err is nil, else tried
	// again at retryAt, or given up on when give is set.
	NotificationResult(ctx context.Context, id string, err error, retryAt time.Time, give bool) error
	Notifications(ctx context.Context, buildID string) ([]*Notification, error)

	// CreateToken makes a token and returns its secret, shown only now.
	CreateToken(ctx context.Context, kind, name string) (string, *Token, error)
	// Authenticate finds the live token with this secret, or ErrBadToken.
	Authenticate(ctx context.Context, secret string) (*Token, error)
	Tokens(ctx context.Context) ([]*Token, error)
	// RevokeToken revokes the token with this id, or every token of this
	// name, and says how many.
	RevokeToken(ctx context.Context, idOrName string) (int, error)
	// RevokeOwnToken revokes the token with this id if it is name's, of
	// kind, and says whether it was (a revoked one stays as it was).
	RevokeOwnToken(ctx context.Context, id, kind, name string) (bool, error)

	// CreateSession files user's logged-in session with this id, live
	// until expires.
	CreateSession(ctx context.Context, id, user string, expires time.Time) error
	// Session is the session with this id if it is live at now, else
	// ErrNoSession: one lookup by the primary key, made on each request.
	Session(ctx context.Context, id string, now time.Time) (*Session, error)
	// EndSession removes the session with this id (logout); an unknown id
	// is no error.
	EndSession(ctx context.Context, id string) error
	// SweepSessions removes the sessions expired by before and says how many.
	SweepSessions(ctx context.Context, before time.Time) (int, error)
	Close() error
}
