package cli

import (
	"cmp"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"fbs/internal/build"
	"fbs/internal/config"
	"fbs/internal/farm"
	"fbs/internal/hostarch"
	"fbs/internal/runner"
	"fbs/internal/spec"
	"fbs/internal/worker"
)

type workerFlags struct {
	builderFlags
	servers, arches, releases, types []string
	tokenFile, name, data, caFile    string
	slots                            int
	simulate                         time.Duration
	drain                            bool
	allowNet                         netsFlag
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
		Example: `  fbs worker --server http://server:8080 --token-file builder1.token --arch x86_64 --release 40,rawhide
  fbs worker --server http://a:8080,http://b:8080 --token-file w.token --types live --slots 2 --boot-test`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := loadConfig(cmd, "worker"); err != nil {
				return err
			}
			if err := f.s3.load(); err != nil {
				return err
			}
			f.secrets = secretFiles(cmd.Flags())
			if f.drain {
				return drainWorker(cmd, f.data)
			}
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
	f.register(cmd)
	return cmd
}

func (f *workerFlags) register(cmd *cobra.Command) {
	f.builderFlags.register(cmd)
	serviceLimits(cmd)
	configFlag(cmd)
	fl := cmd.Flags()
	fl.StringSliceVar(&f.servers, "server", splitList(os.Getenv("FBS_SERVER")), "fbs server URL; repeat or comma-separate for several ($FBS_SERVER)")
	fl.StringVar(&f.tokenFile, "token-file", os.Getenv("FBS_TOKEN_FILE"), "file with this worker's token ($FBS_TOKEN_FILE)")
	caFlag(cmd, &f.caFile)
	fl.StringVar(&f.name, "name", "", "worker name, as its token was made for (default: this host's name)")
	fl.StringSliceVar(&f.arches, "arch", nil, "architectures built here (default: this host's); an x86_64 host whose binfmt_misc runs aarch64 programs (qemu-user-static) can add aarch64 (fbs doctor lists the arches this host builds)")
	fl.StringSliceVar(&f.releases, "release", nil, "releases built here, e.g. 40,rawhide (default: any)")
	fl.StringSliceVar(&f.types, "types", nil, "image types built here: boot, dvd, live (default: all)")
	fl.IntVar(&f.slots, "slots", 1, "builds at once")
	fl.StringVar(&f.data, "data", "/var/lib/fbs-worker", "where builds are made and kept until uploaded")
	fl.BoolVar(&f.drain, "drain", false, "tell the worker running with this data dir to finish its builds, take no new ones, and exit")
	fl.SetAnnotation("drain", config.NotSetting, nil)
	fl.DurationVar(&f.simulate, "simulate", 0, "build nothing: each build takes this long and leaves a small file (queue load tests)")
	fl.MarkHidden("simulate")
	allowNetFlag(cmd, &f.allowNet)
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (f *workerFlags) check() error {
	if f.name == "" {
		f.name, _ = os.Hostname()
	}
	if len(f.arches) == 0 {
		f.arches = []string{hostarch.Native()}
	}
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
		if !contains(hostarch.Media, a) {
			return usageError{fmt.Errorf("--arch %s: fbs makes media for %s only", a, strings.Join(hostarch.Media, " and "))}
		}
		// A worker announces only what it can build: a claimed build of
		// an arch whose programs cannot run here would only fail.
		if err := hostarch.Check(a); err != nil {
			return fmt.Errorf("--arch %s: this host cannot build it: %w", a, err)
		}
	}
	if err := f.checkBinfmt(); err != nil {
		return err
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

// settings are what a worker takes from its flags, and again on SIGHUP.
func (f *workerFlags) settings() (farm.Worker, build.Options) {
	opts := f.builderFlags.options()
	opts.WorkDir, opts.Hidden = filepath.Join(f.data, "work"), append(opts.Hidden, f.data)
	opts.Loader = f.allowNet.loader()
	return farm.Worker{Name: f.name, Arches: f.arches, Releases: f.releases, Types: f.types, Slots: f.slots, Version: versionString()}, opts
}

func runWorker(cmd *cobra.Command, f *workerFlags) error {
	token, err := readToken(f.tokenFile)
	if err != nil {
		return usageError{err}
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)).With("worker", f.name)
	hc, err := httpClient(f.caFile)
	if err != nil {
		return usageError{err}
	}
	os.RemoveAll(filepath.Join(f.data, "work")) // a killed worker's; its mounts died with it
	runner.SweepCgroups(log)                    // and its cgroups
	info, opts := f.settings()
	w := &worker.Worker{
		Queue: &worker.Remote{Servers: f.servers, Token: token, Client: hc, Log: log},
		Dir:   f.data, Own: true, Log: log, Options: opts, Wait: 20 * time.Second, Info: info,
	}
	onHUP(cmd.Context(), log, func() error {
		var nf workerFlags
		fl, err := reparse(nf.register, "worker")
		if err != nil {
			return err
		}
		if err := nf.check(); err != nil {
			return err
		}
		if err := nf.s3.load(); err != nil {
			return err
		}
		nf.name, nf.slots, nf.data, nf.tokenFile = f.name, f.slots, f.data, f.tokenFile
		// The files named at the start hold what this process still uses.
		nf.secrets = append(secretFiles(fl), f.secrets...)
		w.Update(nf.settings())
		return nil
	})
	if f.simulate > 0 {
		w.Build = worker.Simulate(f.simulate)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "fbs: worker %s builds %s for releases %s (%s), %d at a time, for %s\n", f.name,
		strings.Join(f.arches, ","), cmp.Or(strings.Join(f.releases, ","), "any"), cmp.Or(strings.Join(f.types, ","), "all types"), f.slots, strings.Join(f.servers, ", "))
	if err := runner.PrivateDir(f.data); err != nil {
		return err
	}
	pidFile := filepath.Join(f.data, "worker.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(pidFile)
	drain := make(chan struct{})
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	go func() {
		if _, ok := <-usr1; ok {
			close(drain)
		}
	}()
	w.Run(cmd.Context(), drain)
	log.Info("worker stopped")
	return nil
}

// drainWorker asks the worker that runs with data to drain (SIGUSR1).
func drainWorker(cmd *cobra.Command, data string) error {
	b, err := os.ReadFile(filepath.Join(data, "worker.pid"))
	if err != nil {
		return usageError{fmt.Errorf("no worker runs with --data %s: %w", data, err)}
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err == nil {
		err = syscall.Kill(pid, syscall.SIGUSR1)
	}
	if err != nil {
		return fmt.Errorf("drain the worker (pid file %s): %w", filepath.Join(data, "worker.pid"), err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "fbs: worker %d drains: its running builds finish, it takes no new ones, then it exits\n", pid)
	return nil
}
