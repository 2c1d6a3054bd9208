package cli

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"fbs/internal/spec"
	"fbs/internal/store"
	"fbs/internal/worker"
)

type workerFlags struct {
	builderFlags
	servers, arches, releases, types []string
	tokenFile, name, data            string
	slots                            int
	simulate                         time.Duration
}

func workerCmd() *cobra.Command {
	var f workerFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Build for one or more fbs servers: claim builds of your arch and releases, report back",
		Long: `Claims builds from the servers' worker API (outbound HTTP only; no database access),
builds them here, sends their logs as they grow, uploads their artifacts and reports the result.
Several --server URLs (servers on one database) are tried in turn when one cannot be reached.
The token comes from fbs token create --worker NAME on the server; NAME must be --name, which
defaults to this host's name. SIGTERM hands running builds back to the queue.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if f.simulate == 0 {
				if done, err := privateMounts(cmd); done {
					return err
				}
			}
			return runWorker(cmd, &f)
		},
	}
	f.builderFlags.register(cmd)
	host, _ := os.Hostname()
	fl := cmd.Flags()
	fl.StringSliceVar(&f.servers, "server", splitList(os.Getenv("FBS_SERVER")), "fbs server URL; repeat or comma-separate for several ($FBS_SERVER)")
	fl.StringVar(&f.tokenFile, "token-file", os.Getenv("FBS_TOKEN_FILE"), "file with this worker's token ($FBS_TOKEN_FILE)")
	fl.StringVar(&f.name, "name", host, "worker name, as its token was made for")
	fl.StringSliceVar(&f.arches, "arch", []string{hostArch()}, "architectures built here")
	fl.StringSliceVar(&f.releases, "release", nil, "releases built here, e.g. 40,rawhide (default: any)")
	fl.StringSliceVar(&f.types, "types", nil, "image types built here: boot, dvd, live (default: all)")
	fl.IntVar(&f.slots, "slots", 1, "builds at once")
	fl.StringVar(&f.data, "data", "/var/lib/fbs-worker", "where builds are made and kept until uploaded")
	fl.DurationVar(&f.simulate, "simulate", 0, "build nothing: each build takes this long and leaves a small file (queue load tests)")
	fl.MarkHidden("simulate")
	return cmd
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (f *workerFlags) check() error {
	if len(f.servers) == 0 {
		return usageError{fmt.Errorf("--server: which fbs server to build for")}
	}
	if f.tokenFile == "" {
		return usageError{fmt.Errorf("--token-file: the worker's token (fbs token create --worker %s on the server)", f.name)}
	}
	if f.slots < 1 {
		return usageError{fmt.Errorf("--slots %d: at least 1", f.slots)}
	}
	for _, a := range f.arches {
		if !contains(spec.Arches, a) {
			return usageError{fmt.Errorf("--arch %s: not one of %s", a, strings.Join(spec.Arches, ", "))}
		}
	}
	for _, t := range f.types {
		if !contains([]string{"boot", "dvd", "live"}, t) {
			return usageError{fmt.Errorf("--types %s: not one of boot, dvd, live", t)}
		}
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func runWorker(cmd *cobra.Command, f *workerFlags) error {
	token, err := readToken(f.tokenFile)
	if err != nil {
		return usageError{err}
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)).With("worker", f.name)
	work := filepath.Join(f.data, "work")
	os.RemoveAll(work) // a killed worker's; its mounts died with it
	opts := f.builderFlags.options()
	opts.WorkDir, opts.Hidden = work, append(opts.Hidden, f.data, f.tokenFile)
	w := &worker.Worker{
		Queue: &worker.Remote{Servers: f.servers, Token: token, Client: &http.Client{}, Log: log},
		Dir:   f.data, Clean: true, Log: log, Options: opts, Wait: 20 * time.Second,
		Info: store.Worker{Name: f.name, Arches: f.arches, Releases: f.releases, Types: f.types, Slots: f.slots, Version: versionString()},
	}
	if f.simulate > 0 {
		w.Build = worker.Simulate(f.simulate)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "fbs: worker %s builds %s for releases %s (%s), %d at a time, for %s\n", f.name,
		strings.Join(f.arches, ","), cmp.Or(strings.Join(f.releases, ","), "any"), cmp.Or(strings.Join(f.types, ","), "all types"), f.slots, strings.Join(f.servers, ", "))
	w.Run(cmd.Context())
	log.Info("worker stopped")
	return nil
}
