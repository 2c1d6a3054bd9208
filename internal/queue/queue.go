// Package queue is the server's side of building: it hands queued builds
// to workers under leases, and takes their logs, artifacts and results
// into the server's data dir and store. fbs serve's own worker slots call
// it directly; remote workers reach it through the worker API.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"fbs/internal/buildlog"
	"fbs/internal/farm"
	"fbs/internal/metrics"
	"fbs/internal/store"
)

// Service is the queue over a store and a data dir.
type Service struct {
	Store store.Store
	Data  string
	// Lease is how long a worker may go silent before its build is requeued.
	Lease   time.Duration
	Metrics *metrics.Metrics // nil: none kept
	Log     *slog.Logger
	// Notifier hears of every change of a build's state (nil: nobody).
	Notifier interface {
		Changed(ctx context.Context, b *store.Build, event string)
	}

	bell bell
	mu   sync.Mutex // orders log writes: attempt headers and appends
}

// Artifact is one output file of a build as its record keeps it: as its
// worker reported it, with where the API serves it.
type Artifact struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	URL    string `json:"url,omitempty"`
}

// Dir is where a build's log and artifacts live on the server.
func Dir(data, id string) string { return farm.Dir(data, id) }

// LogPath is the build's log on the server.
func LogPath(data, id string) string { return filepath.Join(Dir(data, id), "build.log") }

// Run wakes claimers when builds are queued (on any server of the
// database) and requeues the builds of silent workers, until ctx ends.
func (s *Service) Run(ctx context.Context, maxAttempts int) {
	s.Store.Listen(ctx, s.bell.ring, func(err error) { s.Log.Warn("queue notifications: reconnecting", "err", err) })
	tick := time.NewTicker(max(s.Lease/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := s.Expire(ctx, time.Now(), maxAttempts); err != nil {
			s.Log.Error("lease expiry", "err", err)
		}
	}
}

// Expire ends the leases that lapsed before now: their builds go back to
// the queue, fail after maxAttempts, or end cancelled when a cancel was
// asked; each says so in its log and to the notifier.
func (s *Service) Expire(ctx context.Context, now time.Time, maxAttempts int) error {
	ex, err := s.Store.Expire(ctx, now, maxAttempts)
	if err != nil {
		return err
	}
	for _, id := range ex.Requeued {
		s.Log.Warn("worker went silent; build back in the queue", "build", id)
		s.note(id, "fbs: the worker went silent for %s; the build goes back to the queue", s.Lease)
		s.Changed(ctx, id, "")
	}
	for _, id := range ex.Failed {
		s.Log.Error("worker went silent too often; build failed", "build", id)
		s.note(id, "fbs: the worker went silent for %s again; the build failed after %d attempts", s.Lease, maxAttempts)
		s.Changed(ctx, id, "")
	}
	for _, id := range ex.Cancelled {
		s.Log.Warn("worker went silent; build cancelled as asked", "build", id)
		s.note(id, "fbs: the worker went silent for %s; the build is cancelled, as was asked", s.Lease)
		s.Changed(ctx, id, "")
	}
	if s.Metrics != nil {
		s.Metrics.Expired(len(ex.Requeued) + len(ex.Failed) + len(ex.Cancelled))
	}
	return nil
}

// registered is the worker as the store's registry keeps it.
func registered(w *farm.Worker, draining bool) *store.Worker {
	return &store.Worker{Name: w.Name, Arches: w.Arches, Releases: w.Releases, Types: w.Types, Slots: w.Slots, Version: w.Version, Draining: draining}
}

// Claim gives w the oldest queued build it serves, waiting up to wait
// for one; store.ErrNoJob when none came.
func (s *Service) Claim(ctx context.Context, w *farm.Worker, wait time.Duration) (*farm.Job, error) {
	if err := s.Store.SeenWorker(ctx, registered(w, false)); err != nil {
		return nil, fmt.Errorf("register worker %s: %w", w.Name, err)
	}
	c := store.Claim{Worker: w.Name, Types: w.Types, Arches: w.Arches, Releases: w.Releases, For: s.Lease}
	deadline := time.Now().Add(wait)
	for {
		rang := s.bell.wait() // before trying, so a build queued meanwhile is not missed
		b, l, err := s.Store.Claim(ctx, c)
		if err == nil {
			s.Changed(ctx, b.ID, string(store.Running))
			off, err := s.attempt(b, l)
			job := &farm.Job{Build: &farm.Build{ID: b.ID, Request: b.Request, Attempts: b.Attempts}, Lease: l, LogOffset: off, LeaseSeconds: s.Lease.Seconds()}
			return job, err
		}
		left := time.Until(deadline)
		if !errors.Is(err, store.ErrNoJob) || left <= 0 {
			return nil, err
		}
		// A notification lost while reconnecting costs at most 10 s.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-rang:
		case <-time.After(min(left, 10*time.Second)):
		}
	}
}

// attempt starts the attempt's part of the log and says where it ends.
func (s *Service) attempt(b *store.Build, l *store.Lease) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := LogPath(s.Data, b.ID)
	if err := os.MkdirAll(filepath.Join(filepath.Dir(path), "artifacts"), 0o755); err != nil {
		return 0, err
	}
	log, err := buildlog.Create(path)
	if err != nil {
		return 0, err
	}
	log.Printf("fbs: attempt %d: worker %s took the build", b.Attempts, l.Worker)
	log.Close()
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// note adds a line of the server's to a build's log.
func (s *Service) note(id, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if log, err := buildlog.Create(LogPath(s.Data, id)); err == nil {
		log.Printf(format, args...)
		log.Close()
	}
}

// Heartbeat renews the lease and says whether a cancel was asked.
func (s *Service) Heartbeat(ctx context.Context, l *store.Lease, stage string) (bool, error) {
	return s.Store.Heartbeat(ctx, l, stage, s.Lease)
}

// Drain records that w takes no more builds: the registry shows it
// draining, not lost, once it stops calling.
func (s *Service) Drain(ctx context.Context, w *farm.Worker) error {
	if err := s.Store.SeenWorker(ctx, registered(w, true)); err != nil {
		return fmt.Errorf("register worker %s: %w", w.Name, err)
	}
	return nil
}

// Release hands the build back to the queue.
func (s *Service) Release(ctx context.Context, l *store.Lease) error {
	if err := s.Store.Release(ctx, l); err != nil {
		return err
	}
	s.note(l.BuildID, "fbs: worker %s stopped; the build goes back to the queue", l.Worker)
	s.Changed(ctx, l.BuildID, "")
	return nil
}

// Finish records the outcome; the artifacts must be in the build's
// artifacts dir with the sizes the worker reports.
func (s *Service) Finish(ctx context.Context, l *store.Lease, o farm.Outcome) error {
	b, err := s.Store.Get(ctx, l.BuildID)
	if err != nil {
		return err
	}
	arts := make([]Artifact, 0, len(o.Artifacts))
	for _, a := range o.Artifacts {
		if err := checkName(a.Name); err != nil {
			return err
		}
		st, err := os.Stat(filepath.Join(Dir(s.Data, b.ID), "artifacts", a.Name))
		if err != nil || st.Size() != a.Size {
			return fmt.Errorf("artifact %s: %w", a.Name, ErrMissing)
		}
		arts = append(arts, Artifact{Name: a.Name, Size: a.Size, SHA256: a.SHA256, URL: "/api/v1/builds/" + b.ID + "/artifacts/" + a.Name})
	}
	r := store.Result{State: o.State, Error: o.Error, Artifacts: marshal(arts)}
	if len(o.Boots) > 0 {
		r.BootTests = marshal(o.Boots)
	}
	if err := s.Store.Finish(ctx, l, r); err != nil {
		return err
	}
	if s.Metrics != nil && b.Started != nil {
		s.Metrics.Finished(b.Type, o.State, time.Since(*b.Started), o.Stages)
	}
	s.Changed(ctx, b.ID, "")
	return nil
}

// Changed tells the notifier of build id's new state (or an event such
// as "accepted"), reading the build as it now is.
func (s *Service) Changed(ctx context.Context, id, event string) {
	if s.Notifier == nil {
		return
	}
	b, err := s.Store.Get(context.WithoutCancel(ctx), id)
	if err != nil {
		s.Log.Warn("notify", "build", id, "err", err)
		return
	}
	if event == "" {
		event = string(b.State)
	}
	s.Notifier.Changed(context.WithoutCancel(ctx), b, event)
}
