package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"fbs/internal/api"
	"fbs/internal/build"
	"fbs/internal/store"
	"fbs/internal/worker"
)

func serveCmd() *cobra.Command {
	var (
		listen, data, cache string
		db                  string
		workers, rootCache  int
		lease               time.Duration
		maxAttempts         int
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the build service: REST API, queue and store, embedded worker",
		Long: `Serves the REST API under /api/v1 (the OpenAPI document is /api/v1/openapi.json),
keeps builds in a SQLite store in the data dir (or PostgreSQL with --db), and builds them with --workers
slots in this process. A build whose worker goes silent for --lease goes back to
the queue (up to --max-attempts). SIGTERM hands running builds back to the queue.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if workers > 0 {
				if done, err := privateMounts(cmd); done {
					return err
				}
			}
			return serve(cmd, listen, data, cache, db, workers, rootCache, lease, maxAttempts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on (port 0 picks a free one; the address is printed)")
	fl.StringVar(&data, "data", "/var/lib/fbs", "data dir: the store, build logs and artifacts")
	fl.StringVar(&cache, "cache", defaultCache, "package cache shared by the builds")
	fl.StringVar(&db, "db", "", "PostgreSQL (postgres://… or key=value) instead of SQLite in the data dir")
	fl.IntVar(&workers, "workers", 1, "build slots in this process (0: none)")
	fl.IntVar(&rootCache, "root-cache", 3, "installed roots kept for rebuilds of the same package set")
	fl.DurationVar(&lease, "lease", 30*time.Second, "how long a build's worker may go silent before the build is requeued")
	fl.IntVar(&maxAttempts, "max-attempts", 3, "how often a build is tried before it fails for good")
	return cmd
}

func serve(cmd *cobra.Command, listen, data, cache, db string, workers, rootCache int, lease time.Duration, maxAttempts int) error {
	ctx := cmd.Context()
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	var st *store.DB
	var err error
	if db != "" {
		st, err = store.OpenPostgres(ctx, db)
	} else {
		st, err = store.OpenSQLite(ctx, filepath.Join(data, "fbs.db"))
	}
	if err != nil {
		return err
	}
	defer st.Close()
	wake := make(chan struct{}, workers)
	srv := &api.Server{Store: st, Data: data, Log: log, Submitted: func(string) {
		select {
		case wake <- struct{}{}:
		default:
		}
	}}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(cmd.OutOrStdout(), "fbs: listening on http://%s\n", ln.Addr())
	log.Info("serving", "addr", ln.Addr().String(), "data", data, "workers", workers)

	// Work dirs left by a server that was killed: nothing of this process
	// uses them, and their mounts died with their namespaces.
	work := filepath.Join(data, "work")
	if left, _ := os.ReadDir(work); len(left) > 0 {
		log.Info("removing work dirs of an earlier run", "count", len(left))
		os.RemoveAll(work)
	}
	workCtx, stopWork := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		host, _ := os.Hostname()
		w := &worker.Worker{Store: st, Data: data, Work: work, Cache: cache, Name: host,
			Slots: workers, Lease: lease, Log: log, Wake: wake, Options: build.Options{RootCache: rootCache}}
		w.Run(workCtx)
	}()
	go expire(workCtx, st, lease, maxAttempts, log)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down: running builds go back to the queue")
	}
	stopWork()
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hs.Shutdown(shutdown)
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// expire requeues the builds whose worker went silent.
func expire(ctx context.Context, st store.Store, lease time.Duration, maxAttempts int, log *slog.Logger) {
	tick := time.NewTicker(max(lease/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			requeued, failed, err := st.Expire(ctx, time.Now(), maxAttempts)
			if err != nil {
				log.Error("lease expiry", "err", err)
			}
			for _, id := range requeued {
				log.Warn("worker went silent; build back in the queue", "build", id)
			}
			for _, id := range failed {
				log.Error("worker went silent too often; build failed", "build", id)
			}
		}
	}
}
