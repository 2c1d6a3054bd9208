// Package worker runs queued builds: it claims a build from the store,
// builds it under a lease it keeps renewing, and reports the outcome. The
// embedded worker of fbs serve is one; remote workers come later.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"fbs/internal/api"
	"fbs/internal/build"
	"fbs/internal/spec"
	"fbs/internal/store"
)

// Worker builds what it claims, Slots builds at a time.
type Worker struct {
	Store       store.Store
	Data        string // the service's data dir: builds/<id>/{build.log,artifacts/}
	Work, Cache string
	Name        string
	Slots       int
	Lease       time.Duration
	Log         *slog.Logger
	// Wake nudges idle slots when a build is submitted.
	Wake chan struct{}
	// Options adds the server's settings (Koji hub, root cache …) to each build.
	Options build.Options
}

var (
	errCancelled = errors.New("cancelled on request")
	errShutdown  = errors.New("the server is shutting down")
	errLeaseLost = errors.New("the lease on the build was lost")
)

// Run works until ctx ends; builds running then go back to the queue.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < w.Slots; i++ {
		name := fmt.Sprintf("%s/%d", w.Name, i+1)
		wg.Go(func() { w.slot(ctx, name) })
	}
	wg.Wait()
}

func (w *Worker) slot(ctx context.Context, name string) {
	for ctx.Err() == nil {
		b, lease, err := w.Store.Claim(ctx, store.Claim{Worker: name, For: w.Lease})
		if err != nil {
			if !errors.Is(err, store.ErrNoJob) && ctx.Err() == nil {
				w.Log.Error("claim", "worker", name, "err", err)
			}
			select {
			case <-ctx.Done():
			case <-w.Wake:
			case <-time.After(2 * time.Second):
			}
			continue
		}
		w.run(ctx, name, b, lease)
	}
}

// stageReporter remembers the current stage for the heartbeat.
type stageReporter struct {
	mu    sync.Mutex
	stage string
}

func (r *stageReporter) StageStart(name string)                         { r.mu.Lock(); r.stage = name; r.mu.Unlock() }
func (r *stageReporter) StageProgress(string, string, int, int)         {}
func (r *stageReporter) StageDone(string, time.Duration, string, error) {}
func (r *stageReporter) current() string                                { r.mu.Lock(); defer r.mu.Unlock(); return r.stage }

// artifact is what the API shows of an artifact.
type artifact struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	URL    string `json:"url"`
}

func (w *Worker) run(ctx context.Context, name string, b *store.Build, lease *store.Lease) {
	log := w.Log.With("build", b.ID, "worker", name)
	log.Info("build started", "attempt", b.Attempts)
	buildCtx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	rep := &stageReporter{}
	done := make(chan struct{})
	defer close(done)
	go w.heartbeat(ctx, lease, rep, cancel, done, log)

	dir := api.BuildDir(w.Data, b.ID)
	res, err := w.build(buildCtx, b, dir, rep)
	cause := context.Cause(buildCtx)
	state, msg := store.Succeeded, ""
	switch {
	case errors.Is(cause, errLeaseLost):
		log.Warn("build abandoned: its lease was lost")
		return
	case errors.Is(cause, errShutdown):
		if err := w.Store.Release(context.Background(), lease); err != nil {
			log.Error("release", "err", err)
		}
		log.Info("build handed back to the queue")
		return
	case errors.Is(cause, errCancelled):
		state, msg = store.Cancelled, "cancelled on request"
	case err != nil:
		state, msg = store.Failed, err.Error()
	}
	var arts []artifact
	if res != nil {
		for _, a := range res.Artifacts {
			arts = append(arts, artifact{Name: filepath.Base(a.Path), Size: a.Size, SHA256: a.SHA256,
				URL: "/api/v1/builds/" + b.ID + "/artifacts/" + filepath.Base(a.Path)})
		}
	}
	data, _ := json.Marshal(arts)
	if err := w.Store.Finish(context.Background(), lease, state, msg, data); err != nil {
		log.Error("finish", "err", err)
		return
	}
	log.Info("build finished", "state", state)
}

func (w *Worker) build(ctx context.Context, b *store.Build, dir string, rep build.Reporter) (*build.Result, error) {
	req, err := spec.ParseJSON("request", b.Request)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "artifacts"), 0o755); err != nil {
		return nil, err
	}
	req.Staging = "file://" + filepath.Join(dir, "artifacts")
	opts := w.Options
	opts.WorkDir, opts.CacheDir, opts.LogFile, opts.Service, opts.Reporter = w.Work, w.Cache, filepath.Join(dir, "build.log"), true, rep
	return build.Run(ctx, req, opts)
}

// heartbeat renews the lease until done, and stops the build when a cancel
// is asked, the lease is lost, or the worker shuts down.
func (w *Worker) heartbeat(ctx context.Context, lease *store.Lease, rep *stageReporter, cancel context.CancelCauseFunc, done <-chan struct{}, log *slog.Logger) {
	// Often enough that a cancel stops the build within seconds.
	tick := time.NewTicker(min(w.Lease/3, 2*time.Second))
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			cancel(errShutdown)
			return
		case <-tick.C:
			stop, err := w.Store.Heartbeat(ctx, lease, rep.current(), w.Lease)
			switch {
			case errors.Is(err, store.ErrLeaseLost):
				cancel(errLeaseLost)
				return
			case err != nil:
				log.Warn("heartbeat", "err", err) // the store may be back before the lease lapses
			case stop:
				cancel(errCancelled)
			}
		}
	}
}
