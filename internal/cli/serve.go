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
	"fbs/internal/farm"
	"fbs/internal/hostarch"
	"fbs/internal/metrics"
	"fbs/internal/queue"
	"fbs/internal/runner"
	"fbs/internal/store"
	"fbs/internal/web"
	"fbs/internal/worker"
)

// storeFlags say where the store is: SQLite in the data dir, or PostgreSQL.
type storeFlags struct{ data, db, dbFile string }

func (f *storeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.data, "data", "/var/lib/fbs", "data dir: the store (SQLite), build logs and artifacts")
	cmd.Flags().StringVar(&f.db, "db", os.Getenv("FBS_DB"), "PostgreSQL (postgres://… or key=value) instead of SQLite in the data dir ($FBS_DB)")
	cmd.Flags().StringVar(&f.dbFile, "db-file", "", "file holding the PostgreSQL URL (one with a password belongs there)")
}

func (f *storeFlags) open(ctx context.Context) (*store.DB, error) {
	if f.dbFile != "" {
		dsn, err := readToken(f.dbFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--db-file: %w", err)}
		}
		f.db = dsn
	}
	if f.db != "" {
		return store.OpenPostgres(ctx, f.db)
	}
	if err := runner.PrivateDir(f.data); err != nil {
		return nil, err
	}
	db := filepath.Join(f.data, "fbs.db")
	st, err := store.OpenSQLite(ctx, db)
	if err != nil {
		return nil, err
	}
	// Requests and kickstarts (repo --proxy passwords) are root's alone;
	// SQLite gives its WAL files the database's mode.
	if err := os.Chmod(db, 0o600); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// with runs fn on the store, closing it after.
func (f *storeFlags) with(ctx context.Context, fn func(store.Store) error) error {
	st, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

type serveFlags struct {
	builderFlags
	store        storeFlags
	listen       string
	workers      int
	lease        time.Duration
	maxAttempts  int
	open         bool
	tlsCert      string
	tlsKey       string
	stagingRoots []string
	notify       notifyFlags
	login        loginFlags
	keepBuilds   int
	keepDays     int
	allowNet     netsFlag
	allowedHosts []string
	maxConns     int
}

func serveCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the build service: REST and worker APIs, queue and store, its own build slots",
		Long: `Serves the REST API under /api/v1 (the OpenAPI document is /api/v1/openapi.json),
the worker API under /api/worker/v1 for fbs worker, and /metrics for Prometheus. Builds are kept in
a SQLite store in the data dir, or in PostgreSQL with --db (then several servers can share the
database; they must share the data dir too, where logs and artifacts are kept). --workers slots
build in this process; --workers 0 leaves the building to remote workers.

A build whose worker goes silent for --lease goes back to the queue (up to --max-attempts).
SIGTERM hands this process's running builds back to the queue. On a loopback address the user
API and the web pages are open (no login); elsewhere the API takes user tokens (fbs token create
--user NAME) unless --open. With --oidc-issuer, web users log in with OpenID Connect and the API
takes tokens on every address; each user then sees and cancels their own builds, --admin users all.`,
		Example: `  fbs serve                                   # local mode: 127.0.0.1:8080, one build slot
  fbs serve --boot-test=bios,uefi --workers 2
  fbs serve --db postgres://fbs@db/fbs --data /srv/fbs --workers 0 --listen 0.0.0.0:8080`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := loadConfig(cmd, "server"); err != nil {
				return err
			}
			if err := f.s3.load(); err != nil {
				return err
			}
			f.secrets = secretFiles(cmd.Flags())
			if f.workers > 0 {
				if err := f.checkBinfmt(); err != nil {
					return err
				}
				if done, err := privateMounts(cmd); done {
					return err
				}
			}
			return serve(cmd, &f)
		},
	}
	f.register(cmd)
	return cmd
}

func (f *serveFlags) register(cmd *cobra.Command) {
	f.builderFlags.register(cmd)
	serviceLimits(cmd)
	f.store.register(cmd)
	configFlag(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on (port 0 picks a free one; the address is printed)")
	fl.IntVar(&f.workers, "workers", 1, "build slots in this process (0: none, remote workers build)")
	fl.DurationVar(&f.lease, "lease", 30*time.Second, "how long a build's worker may go silent before the build is requeued")
	fl.IntVar(&f.maxAttempts, "max-attempts", 3, "how often a build is tried before it fails for good")
	fl.BoolVar(&f.open, "open", false, "take user API calls without a token on a non-loopback address too")
	f.notify.register(cmd)
	f.login.register(cmd)
	fl.IntVar(&f.keepBuilds, "keep-builds", 0, "keep the artifacts and logs of this many newest finished builds in the store (0: all); records stay, staged copies are never touched")
	fl.IntVar(&f.keepDays, "keep-days", 0, "remove the artifacts and logs of builds finished more than this many days ago from the store (0: never)")
	fl.StringSliceVar(&f.stagingRoots, "staging-root", nil, "local dirs requests may stage into (staging=file:///DIR/…); FTP and S3 targets are always taken")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the certificate's private key (PEM file)")
	allowNetFlag(cmd, &f.allowNet)
	fl.StringSliceVar(&f.allowedHosts, "allowed-host", nil, `more host names (name, or name:port) the server answers besides loopback's, --public-url's and --listen's (on 0.0.0.0: this machine's addresses and host name); "*" any. Clients and workers that call it by another name need it`)
	fl.IntVar(&f.maxConns, "max-connections", api.DefaultLimits.Conns, "connections served at once (more wait to be accepted)")
}

func serve(cmd *cobra.Command, f *serveFlags) error {
	ctx := cmd.Context()
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	runner.SweepCgroups(log) // a killed fbs's
	// Logs, artifacts and work dirs are root's alone, with PostgreSQL too.
	if err := runner.PrivateDir(f.store.data); err != nil {
		return err
	}
	st, err := f.store.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	m := metrics.New(st, f.lease, log)
	q := &queue.Service{Store: st, Data: f.store.data, Lease: f.lease, Metrics: m, Log: log}
	sessions, oidc, err := f.login.build(f.store.data, f.notify.publicURL, st)
	if err != nil {
		return err
	}
	userAuth := oidc != nil || !f.open && !loopback(ln.Addr())
	hosts, err := api.DefaultHosts(ln.Addr(), f.notify.publicURL)
	if err != nil {
		return usageError{err}
	}
	limits := api.DefaultLimits
	limits.Conns = f.maxConns
	srv := &api.Server{Store: st, Queue: q, Data: f.store.data, Log: log, Metrics: m, UserAuth: userAuth, StagingRoots: f.stagingRoots, S3: f.s3.config,
		Admins: f.login.adminList(), Sessions: sessions, Hosts: append(hosts, f.allowedHosts...), Limits: limits}
	if userAuth && oidc == nil {
		log.Info("web pages: not served beyond loopback without a login (--oidc-issuer); the API takes user tokens")
		srv.UI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "This fbs server's web pages need a login, and it has none: its operator sets --oidc-issuer (see the README's \"Web pages and login\"). The API is at /api/v1 (with a user token).", http.StatusNotFound)
		})
	} else {
		srv.UI = (&web.Server{Store: st, Queue: q, Data: f.store.data, Log: log, API: srv, Sessions: sessions, OIDC: oidc, Egress: &f.allowNet.policy}).Handler()
	}
	hs := srv.HTTPServer()
	notifier, dispatcher, err := f.notify.build(st, f.store.data, log, &f.allowNet.policy)
	if err != nil {
		return err
	}
	q.Notifier = notifier
	scheme := "http"
	if f.tlsCert != "" || f.tlsKey != "" {
		if f.tlsCert == "" || f.tlsKey == "" {
			return usageError{fmt.Errorf("--tls-cert and --tls-key go together")}
		}
		scheme = "https"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "fbs: listening on %s://%s\n", scheme, ln.Addr())
	if dispatcher.PublicURL == "" {
		dispatcher.PublicURL = fmt.Sprintf("%s://%s", scheme, ln.Addr())
	}
	log.Info("serving", "addr", ln.Addr().String(), "data", f.store.data, "postgres", f.store.db != "", "workers", f.workers, "user_tokens", srv.UserAuth)

	workCtx, stopWork := context.WithCancel(context.Background())
	go q.Run(workCtx, f.maxAttempts)
	go dispatcher.Run(workCtx)
	go q.RetainEvery(workCtx, time.Hour, f.keepBuilds, time.Duration(f.keepDays)*24*time.Hour)
	done := make(chan struct{})
	if f.workers > 0 {
		w := ownWorker(f, q, log)
		onHUP(workCtx, log, func() error {
			var nf serveFlags
			fl, err := reparse(nf.register, "server")
			if err != nil {
				return err
			}
			if err := nf.s3.load(); err != nil {
				return err
			}
			// The files named at the start hold what this process still uses.
			nf.secrets = append(secretFiles(fl), f.secrets...)
			nf.store.data, nf.workers = f.store.data, f.workers
			w.Update(nf.slotSettings())
			return nil
		})
		go func() {
			defer close(done)
			w.Run(workCtx, nil)
		}()
	} else {
		onHUP(workCtx, log, func() error {
			var nf serveFlags
			if _, err := reparse(nf.register, "server"); err != nil {
				return err
			}
			log.Info("SIGHUP: a server without build slots has nothing to change while it runs; restart it for other settings")
			return nil
		})
		close(done)
	}

	errc := make(chan error, 1)
	go func() {
		if scheme == "https" {
			errc <- hs.ServeTLS(srv.Listener(ln), f.tlsCert, f.tlsKey)
			return
		}
		errc <- hs.Serve(srv.Listener(ln))
	}()
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

// ownWorker is the server's own build slots, on the server's queue.
func ownWorker(f *serveFlags, q *queue.Service, log *slog.Logger) *worker.Worker {
	// Work dirs left by a server that was killed: nothing of this process
	// uses them, and their mounts died with their namespaces.
	work := filepath.Join(f.store.data, "work")
	if left, _ := os.ReadDir(work); len(left) > 0 {
		log.Info("removing work dirs of an earlier run", "count", len(left))
		os.RemoveAll(work)
	}
	// A claim says the slot is alive when it starts: one that waited longer
	// than a lease would show the idle slot as lost (the API answers remote
	// workers' claims within half a lease too).
	w := &worker.Worker{Queue: q, Dir: f.store.data, Log: log, Wait: q.Lease / 2}
	w.Info, w.Options = f.slotSettings()
	return w
}

// slotSettings are what the server's own slots take from its flags, and
// again on SIGHUP. They build every arch this host can (fbs doctor's
// list): local mode needs no worker for aarch64 where qemu-user-static
// runs its programs.
func (f *serveFlags) slotSettings() (farm.Worker, build.Options) {
	host, _ := os.Hostname()
	opts := f.builderFlags.options()
	opts.WorkDir, opts.Hidden = filepath.Join(f.store.data, "work"), append(opts.Hidden, f.store.data)
	opts.Loader = f.allowNet.loader()
	return farm.Worker{Name: host + "-serve", Arches: hostarch.Buildable(), Slots: f.workers, Version: versionString()}, opts
}

func loopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}
