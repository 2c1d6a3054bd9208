// Package worker runs queued builds: it claims a build from a queue,
// builds it under a lease it keeps renewing, and reports the outcome.
// fbs serve's own slots use the server's queue directly; fbs worker uses
// Remote, the worker API of one or more servers. It speaks the farm
// protocol only, and links no database.
package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"fbs/internal/build"
	"fbs/internal/farm"
	"fbs/internal/spec"
)

// Queue is where a worker gets builds and reports on them: the server's
// queue.Service for fbs serve's own slots, Remote for fbs worker; both
// pass the suite in queuetest.
type Queue interface {
	// Claim waits up to wait for a build w serves; farm.ErrNoJob if none came.
	Claim(ctx context.Context, w *farm.Worker, wait time.Duration) (*farm.Job, error)
	// Heartbeat renews the lease, saying the stage the build is at, and
	// reports whether a cancel was asked.
	Heartbeat(ctx context.Context, l *farm.Lease, stage string) (cancel bool, err error)
	// AppendLog adds data, which the worker had at offset of the server's
	// log, and returns the log's size; a part sent twice is taken once,
	// one starting past the end is a *farm.GapError.
	AppendLog(ctx context.Context, l *farm.Lease, offset int64, data []byte) (int64, error)
	// PutArtifact takes an artifact of size bytes with the sha256 sum.
	PutArtifact(ctx context.Context, l *farm.Lease, name string, size int64, sum string, r io.Reader) error
	// Finish reports the outcome; its artifacts are on the server by then.
	Finish(ctx context.Context, l *farm.Lease, o farm.Outcome) error
	// Release hands the build back to the queue (the worker shuts down).
	Release(ctx context.Context, l *farm.Lease) error
	// Drain says w takes no more builds: the server shows it draining,
	// not lost, once it stops calling.
	Drain(ctx context.Context, w *farm.Worker) error
}

// Worker builds what it claims, Info.Slots builds at a time.
type Worker struct {
	Queue Queue
	// Dir holds builds/<id>/{build.log,artifacts/}: the server's data dir
	// for fbs serve's own slots, the worker's own for a remote worker.
	Dir string
	// Own says Dir is the worker's own: the log and artifacts are sent to
	// the server through Queue, and a build's dir is removed once reported.
	Own bool
	// Info is what the worker announces: name, arches, releases, types, slots.
	Info farm.Worker
	Log  *slog.Logger
	// Options are the worker's settings for each build (work and cache
	// dirs, Koji hub, root cache …).
	Options build.Options
	// Build builds; nil is build.Run.
	Build func(context.Context, *spec.Request, build.Options) (*build.Result, error)
	// Wait is how long one claim waits for a build.
	Wait time.Duration
	// CanBuild says whether this host can build arch's images now; nil is
	// hostarch.Check. Claims leave out the arches it refuses.
	CanBuild func(arch string) error

	mu      sync.Mutex        // guards Info and Options against Update, and leftOut
	leftOut map[string]string // arches left out of claims, and why
}

// Update changes what the worker serves and how it builds, from the next
// claim and the next build on (a configuration re-read).
func (w *Worker) Update(info farm.Worker, opts build.Options) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.Info.Arches, w.Info.Releases, w.Info.Types = info.Arches, info.Releases, info.Types
	w.Options = opts
}

func (w *Worker) settings() (farm.Worker, build.Options) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.Info, w.Options
}

var (
	errCancelled = errors.New("cancelled on request")
	errShutdown  = errors.New("the worker is shutting down")
	errLeaseLost = errors.New("the lease on the build was lost")
)

// Run works until ctx ends, when builds running go back to the queue, or
// until drain is closed and the running builds are done (nil: never).
func (w *Worker) Run(ctx context.Context, drain <-chan struct{}) {
	claims, stopClaims := context.WithCancel(ctx)
	defer stopClaims()
	go func() {
		select {
		case <-drain:
			w.Log.Info("draining: running builds finish, no new ones are taken")
			stopClaims()
		case <-claims.Done():
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < max(w.Info.Slots, 1); i++ {
		wg.Go(func() { w.slot(ctx, claims, i+1) })
	}
	wg.Wait()
	if ctx.Err() == nil {
		info, _ := w.settings()
		if err := w.Queue.Drain(ctx, &info); err != nil {
			w.Log.Warn("drained, but the server did not hear of it: it shows this worker as lost", "err", err)
		}
	}
}

// slot claims builds while claims lasts and runs them while ctx does. A
// claim under way when claims ends is let finish (within Wait): a build
// the server handed out then is built, not left to its lease.
func (w *Worker) slot(ctx, claims context.Context, n int) {
	pause := time.Second
	for claims.Err() == nil {
		info, _ := w.settings()
		info, ok := w.claimable(info)
		var job *farm.Job
		err := errNoArch
		if ok {
			job, err = w.Queue.Claim(ctx, &info, w.Wait)
		}
		switch {
		case err == nil:
			pause = time.Second
			w.run(ctx, n, job)
		case errors.Is(err, farm.ErrNoJob) || claims.Err() != nil:
		default:
			w.Log.Error("claim", "slot", n, "err", err, "retry in", pause)
			select {
			case <-claims.Done():
			case <-time.After(pause):
			}
			pause = min(2*pause, 30*time.Second)
		}
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

func (w *Worker) run(ctx context.Context, slot int, job *farm.Job) {
	b, lease := job.Build, job.Lease
	log := w.Log.With("build", b.ID, "slot", slot)
	log.Info("build started", "attempt", b.Attempts)
	dir := farm.Dir(w.Dir, b.ID)
	logPath := filepath.Join(dir, "build.log")
	follow := func() {} // the server reads the log where the build writes it
	if w.Own {
		os.RemoveAll(dir) // an earlier attempt's
		defer os.RemoveAll(dir)
		follow = w.follow(ctx, job, logPath, log)
	}
	buildCtx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	rep := &stageReporter{}
	done := make(chan struct{})
	defer close(done)
	go w.heartbeat(ctx, job, rep, cancel, done, log)

	res, err := w.build(buildCtx, b, dir, rep, follow)
	cause := context.Cause(buildCtx)
	o := farm.Outcome{State: farm.Succeeded}
	switch {
	case errors.Is(cause, errLeaseLost):
		log.Warn("build abandoned: its lease was lost")
		return
	case errors.Is(cause, errShutdown):
		rctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		if err := w.Queue.Release(rctx, lease); err != nil {
			log.Error("release", "err", err)
		}
		log.Info("build handed back to the queue")
		return
	case errors.Is(cause, errCancelled):
		o.State, o.Error = farm.Cancelled, "cancelled on request"
	case err != nil:
		o.State, o.Error = farm.Failed, err.Error()
	}
	if res != nil {
		o.Stages = map[string]float64{}
		for _, st := range res.Stages {
			o.Stages[st.Name] = st.Seconds
		}
		for _, a := range res.Artifacts {
			o.Artifacts = append(o.Artifacts, farm.Artifact{Name: a.Name, Size: a.Size, SHA256: a.SHA256, Path: a.Path})
		}
		o.Boots = res.Boots
	}
	err = w.report(lease, o, log)
	if err != nil && !errors.Is(err, farm.ErrLeaseLost) {
		// The build is over either way: say why it has no result, rather
		// than leave it to run out its lease and be built again.
		log.Error("finish", "err", err)
		o = farm.Outcome{State: farm.Failed, Error: "reporting the result: " + err.Error(), Stages: o.Stages, Boots: o.Boots}
		err = w.Queue.Finish(context.Background(), lease, o)
	}
	if err != nil {
		log.Error("finish", "err", err)
		return
	}
	log.Info("build finished", "state", o.State)
}

// build runs the build with its log and artifacts in dir; follow stops
// passing the log on once the build is over. The build itself publishes
// the artifacts where the request asks, from dir.
func (w *Worker) build(ctx context.Context, b *farm.Build, dir string, rep build.Reporter, follow func()) (*build.Result, error) {
	defer follow()
	req, err := spec.ParseJSON("request", b.Request)
	if err != nil {
		return nil, err
	}
	_, opts := w.settings()
	opts.LogFile, opts.Store, opts.Service, opts.Reporter = filepath.Join(dir, "build.log"), filepath.Join(dir, "artifacts"), true, rep
	if err := os.MkdirAll(opts.Store, 0o755); err != nil {
		return nil, err
	}
	run := w.Build
	if run == nil {
		run = build.Run
	}
	return run(ctx, req, opts)
}

// heartbeat renews the lease until done, and stops the build when a cancel
// is asked, the lease is lost, or the worker shuts down.
func (w *Worker) heartbeat(ctx context.Context, job *farm.Job, rep *stageReporter, cancel context.CancelCauseFunc, done <-chan struct{}, log *slog.Logger) {
	// Often enough that a cancel stops the build within seconds.
	tick := time.NewTicker(min(job.LeaseFor()/3, 2*time.Second))
	defer tick.Stop()
	heard := time.Now()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			cancel(errShutdown)
			return
		case <-tick.C:
			stop, err := w.Queue.Heartbeat(ctx, job.Lease, rep.current())
			switch {
			case errors.Is(err, farm.ErrLeaseLost):
				cancel(errLeaseLost)
				return
			case err != nil && time.Since(heard) > job.LeaseFor():
				// The server has requeued the build by now: another worker has it.
				log.Error("no heartbeat got through for longer than the lease; stopping the build", "err", err)
				cancel(fmt.Errorf("%w: %v", errLeaseLost, err))
				return
			case err != nil:
				log.Warn("heartbeat", "err", err) // the server may be back before the lease lapses
			case stop:
				heard = time.Now()
				cancel(errCancelled)
			default:
				heard = time.Now()
			}
		}
	}
}
