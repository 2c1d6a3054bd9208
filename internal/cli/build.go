package cli

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"fbs/internal/backend"
	"fbs/internal/bootcheck"
	"fbs/internal/build"
	"fbs/internal/hostarch"
	"fbs/internal/koji"
	"fbs/internal/notify"
	"fbs/internal/publish"
	"fbs/internal/runner"
	"fbs/internal/spec"
	"fbs/internal/store"
)

type buildFlags struct {
	builderFlags
	notify      notifyFlags
	work        string
	backend     string
	keep        bool
	compression string
}

// builderFlags are what every command that builds takes: build, demo,
// serve (its own slots) and worker.
type builderFlags struct {
	cache      string
	kojiHub    string
	kojiTopURL string
	rootCache  int
	limits     build.Limits
	confine    bool
	hide       []string
	postNet    bool
	secrets    []string // files the flags name that hold secrets (secretFiles)
	boot       bootFlags
	s3         s3Flags
}

// s3Flags are S3 settings given in the configuration rather than in the
// AWS environment variables; load reads them into config.
type s3Flags struct {
	endpoint, region, accessKeyFile, secretKeyFile string
	config                                         publish.S3Config
}

func (f *s3Flags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.endpoint, "s3-endpoint", "", "S3 endpoint URL for s3:// staging (default $AWS_ENDPOINT_URL, then AWS's)")
	fl.StringVar(&f.region, "s3-region", "", "S3 region (default $AWS_REGION)")
	fl.StringVar(&f.accessKeyFile, "s3-access-key-file", "", "file holding the S3 access key id (default $AWS_ACCESS_KEY_ID or ~/.aws/credentials)")
	fl.StringVar(&f.secretKeyFile, "s3-secret-key-file", "", "file holding the S3 secret key (default $AWS_SECRET_ACCESS_KEY)")
}

// load reads the key files into config, which builds (and a server's
// restage) publish to s3:// targets with.
func (f *s3Flags) load() error {
	f.config = publish.S3Config{Endpoint: f.endpoint, Region: f.region}
	for _, key := range []struct {
		file string
		dst  *string
	}{{f.accessKeyFile, &f.config.AccessKey}, {f.secretKeyFile, &f.config.SecretKey}} {
		if key.file == "" {
			continue
		}
		v, err := readToken(key.file)
		if err != nil {
			return usageError{err}
		}
		*key.dst = v
	}
	return nil
}

func (f *builderFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.cache, "cache", defaultCache, "package cache shared by builds")
	fl.StringVar(&f.kojiHub, "koji-hub", cmp.Or(os.Getenv("FBS_KOJI_HUB"), koji.DefaultHub), "Koji hub for nvr= and bid= ($FBS_KOJI_HUB)")
	fl.StringVar(&f.kojiTopURL, "koji-topurl", cmp.Or(os.Getenv("FBS_KOJI_TOPURL"), koji.DefaultTopURL), "where Koji's packages are downloaded from ($FBS_KOJI_TOPURL)")
	fl.IntVar(&f.rootCache, "root-cache", 3, "installed roots kept for rebuilds of the same package set, which also turns on the reuse of earlier root images' compressed blocks (0: neither)")
	fl.DurationVar(&f.limits.Timeout, "timeout", 0, "wall-clock limit of a build (0: by image type: boot 1h, live 2h, dvd 3h)")
	fl.Var(&memorySize{dst: &f.limits.Memory}, "memory", "memory limit of a build's processes together, e.g. 4G, or a share of this host's RAM, e.g. 50% (0: none; needs cgroups); it bounds each of a build's tmpfs too")
	fl.IntVar(&f.limits.Procs, "max-procs", 0, "processes a build may run at once (0: none; needs cgroups)")
	fl.Var((*byteSize)(&f.limits.Disk), "disk-limit", "disk a build may use in its work dir, e.g. 20G (0: none); the work dir gets a filesystem of its own")
	fl.BoolVar(&f.confine, "confine", true, "confine build commands: host read-only but for the work dir and cache, secrets hidden, no mounting")
	f.s3.register(cmd)
	fl.StringSliceVar(&f.hide, "hide", nil, "more host paths build commands must not see (besides /root, /home, /etc/shadow, /etc/ssh, /etc/fbs …)")
	fl.BoolVar(&f.postNet, "post-network", false, "give confined %post scripts the host's network, and so what listens on it (build commands but dnf's downloads have none)")
	fl.Var(&f.boot.firmware, "boot-test", "boot each ISO in QEMU after building it: bios, uefi or bios,uefi (a failing boot fails the build)")
	fl.Lookup("boot-test").NoOptDefVal = "bios,uefi"
	fl.StringArrayVar(&f.boot.expect, "expect", []string{bootcheck.DefaultExpect}, "console text that makes a boot test pass (repeat: any of them)")
	fl.DurationVar(&f.boot.timeout, "boot-timeout", 5*time.Minute, "how long a boot test may take")
	f.boot.accel.register(cmd)
}

// checkBinfmt refuses to take builds (a server's slots, a worker) on a
// host where every confined build would be refused: binfmt_misc holds an
// interpreter a build could change (hostarch.Exposed).
func (f *builderFlags) checkBinfmt() error {
	if exposed := hostarch.Exposed(); f.confine && len(exposed) > 0 {
		return fmt.Errorf("this host's confined builds would all be refused: %w", hostarch.ExposedError(exposed))
	}
	return nil
}

func (f *builderFlags) options() build.Options {
	return build.Options{Version: versionString(), CacheDir: f.cache, RootCache: f.rootCache, KojiHub: f.kojiHub, KojiTopURL: f.kojiTopURL,
		Limits: f.limits, Unconfined: !f.confine, Hidden: append(slices.Clone(f.hide), f.secrets...), PostNetwork: f.postNet, BootTests: f.boot.options(), S3: f.s3.config,
		BootDefaults: bootcheck.Options{Expect: f.boot.expect, Timeout: f.boot.timeout, Accel: string(f.boot.accel)}}
}

// byteSize is a size flag: 512M, 4G, 4GiB or bytes.
type byteSize int64

func (b *byteSize) String() string {
	if *b == 0 {
		return "0"
	}
	return humanize.IBytes(uint64(*b))
}
func (b *byteSize) Type() string { return "size" }
func (b *byteSize) Set(s string) error {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

// bootFlags are the boot test options of every command that builds.
type bootFlags struct {
	firmware firmwares
	expect   []string
	timeout  time.Duration
	accel    accelMode
}

// accelMode is the --accel flag; FBS_ACCEL sets its default.
type accelMode string

func (a *accelMode) String() string { return string(*a) }
func (a *accelMode) Type() string   { return "accel" }
func (a *accelMode) Set(v string) error {
	if err := bootcheck.CheckMode(v); err != nil {
		return err
	}
	*a = accelMode(v)
	return nil
}

func (a *accelMode) register(cmd *cobra.Command) {
	*a = accelMode(cmp.Or(os.Getenv("FBS_ACCEL"), "auto"))
	cmd.Flags().Var(a, "accel", "boot tests' accelerator: auto (kvm where a probe guest shows it is faster than tcg), kvm or tcg ($FBS_ACCEL)")
}

// firmwares is the --boot-test flag: "bios", "uefi" or both,
// comma-separated; "" for none. A wrong one is refused as the flag is read.
type firmwares string

func (f *firmwares) String() string { return string(*f) }
func (f *firmwares) Type() string   { return "firmware" }
func (f *firmwares) Set(v string) error {
	for _, fw := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if fw != "bios" && fw != "uefi" {
			return fmt.Errorf("unknown firmware %q (bios, uefi)", fw)
		}
	}
	*f = firmwares(v)
	return nil
}

func (f *bootFlags) options() []bootcheck.Options {
	var out []bootcheck.Options
	for _, fw := range strings.FieldsFunc(string(f.firmware), func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, bootcheck.Options{UEFI: fw == "uefi", Expect: f.expect, Timeout: f.timeout, Accel: string(f.accel)})
	}
	return out
}

func (f *buildFlags) register(cmd *cobra.Command) {
	f.builderFlags.register(cmd)
	f.notify.registerSend(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.work, "work", defaultWork, "where each build gets its work dir (the request's tmpdir= wins)")
	fl.BoolVar(&f.keep, "keep", false, "keep the work dir, image root included")
	fl.StringVar(&f.backend, "backend", "native", "builder: native, or Fedora's own where the host has it (fbs doctor says): lorax (boot), livemedia-creator (live), pungi (dvd)")
	fl.StringVar(&f.compression, "compression", "", "squashfs compressor, overriding the request's (xz, zstd, gzip, lz4, lzo)")
}

func buildCmd() *cobra.Command {
	var f buildFlags
	cmd := &cobra.Command{
		Use:   "build SPEC",
		Short: "Build an image from a request (the seed's INI format or JSON)",
		Long: `Builds the image a request describes, here and now: the seed's INI format
([DEFAULT] plus [boot], [dvd] or [live]) or the JSON request the API takes.
Exit status: 0 built, 1 the build failed, 2 the request is at fault, 130
Ctrl-C. On a terminal the running stages tick, with the last lines of %post
and of the serial console under them; the build log has everything.`,
		Example: `  fbs demo request /tmp/req --type live        # a request to start from
  sudo fbs build /tmp/req/live.conf --boot-test
  sudo fbs build req.conf --compression zstd --keep --work /srv/fbs-work
  sudo fbs build req.json --timeout 30m --memory 4G --disk-limit 20G`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The request is checked before fbs re-executes itself, so
			// that bad input is told at once, by this process.
			req, err := loadRequest(args[0])
			if err != nil {
				return err
			}
			if err := f.s3.load(); err != nil {
				return err
			}
			f.secrets = secretFiles(cmd.Flags())
			if done, err := privateMounts(cmd); done {
				return err
			}
			_, err = runBuild(cmd.Context(), cmd, req, f)
			return err
		},
	}
	f.register(cmd)
	return cmd
}

// runBuild builds req, printing progress and the artifacts.
func runBuild(ctx context.Context, cmd *cobra.Command, req *spec.Request, f buildFlags) (*build.Result, error) {
	if f.compression != "" {
		req.SetCompression(f.compression)
		if err := req.Validate(); err != nil {
			return nil, usageError{fmt.Errorf("--compression: %w", err)}
		}
	}
	if f.backend != "native" {
		if _, typ := backend.Tool(f.backend); typ != req.Type {
			return nil, usageError{fmt.Errorf("--backend %s: builds %s images; the request is for a %s image (backends: %s)",
				f.backend, cmp.Or(typ, "no"), req.Type, strings.Join(backend.Names, ", "))}
		}
	}
	out := newTerminal(cmd.OutOrStdout())
	out.cancelled = func() bool { return ctx.Err() != nil }
	out.tick(tickEvery)
	defer out.Close()
	start := time.Now()
	opts := f.builderFlags.options()
	opts.WorkDir, opts.Keep, opts.Reporter, opts.Backend = f.work, f.keep, out, f.backend
	tell, err := f.notify.local(out.Printf)
	if err != nil {
		return nil, err
	}
	defer tell.Wait()
	// The log's tool output feeds the live area (%post, the console).
	tailCtx, stopTail := context.WithCancel(ctx)
	defer stopTail()
	lb := notify.LocalBuild{Req: req, State: store.Running, Started: start}
	opts.Started = func(id, log string) {
		out.Printf("fbs: build %s (%s %s, release %s)", id, req.Type, req.Arch, req.Release)
		out.Printf("fbs: log %s", log)
		go tailLog(tailCtx, log, out.Output)
		lb.ID, lb.Log = id, log
		tell.Send(ctx, lb, notify.Accepted)
		tell.Send(ctx, lb, string(store.Running))
	}
	res, err := build.Run(ctx, req, opts)
	stopTail()
	took := time.Since(start).Round(100 * time.Millisecond)
	if res != nil {
		lb.State, lb.Finished, lb.Log = store.Succeeded, time.Now(), res.Log
		if err != nil {
			lb.State, lb.Error, lb.Tail = store.Failed, err.Error(), notify.Tail(res.Log, 30)
		}
		for _, a := range res.Artifacts {
			lb.Artifacts = append(lb.Artifacts, notify.LocalArtifact{Where: cmp.Or(a.Remote, a.Path), Size: a.Size, SHA256: a.SHA256})
		}
		tell.Send(ctx, lb, string(lb.State))
	}
	switch {
	case err != nil && ctx.Err() != nil:
		// Ctrl-C (or SIGTERM): not a failure of the build.
		if res != nil {
			out.Printf("fbs: build cancelled after %s; log %s", took, res.Log)
		} else {
			out.Printf("fbs: build cancelled after %s", took)
		}
		return res, exitStatus(exitInterrupted)
	case err != nil:
		if res != nil {
			out.Printf("fbs: build failed after %s; log %s", took, res.Log)
		}
		return res, err
	}
	out.Printf("fbs: build succeeded in %s", took)
	for _, a := range res.Artifacts {
		out.Printf("  %s (%s)", cmp.Or(a.Remote, a.Path), publish.HumanSize(a.Size))
	}
	out.Printf("  %s (build log)", res.Log)
	return res, nil
}

// privateMounts re-runs this command in a mount namespace of its own (see
// runner.PrivateMounts). done is true in the parent, which has nothing left
// to do but pass on the child's exit status.
func privateMounts(cmd *cobra.Command) (done bool, err error) {
	if os.Geteuid() != 0 {
		// dnf --installroot, chroot and mounts all need it.
		return true, fmt.Errorf("%s needs root (dnf installs into image roots, scripts run chrooted); run it with sudo", cmd.CommandPath())
	}
	reexeced, status, err := runner.PrivateMounts(cmd.Context())
	switch {
	case reexeced && status == 0:
		return true, nil
	case reexeced:
		return true, exitStatus(status)
	case err != nil:
		fmt.Fprintf(cmd.ErrOrStderr(), "fbs: no private mounts (%v): cached roots are not used\n", err)
	}
	return false, nil
}
