// Package build runs one image build from a request to published artifacts:
// it owns the work dir, the build log, the stages and their timings, the
// checksums and the manifest.
package build

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"fbs/internal/bootcheck"
	"fbs/internal/buildlog"
	"fbs/internal/hostarch"
	"fbs/internal/hosttool"
	"fbs/internal/image"
	"fbs/internal/kickstart"
	"fbs/internal/koji"
	"fbs/internal/publish"
	"fbs/internal/runner"
	"fbs/internal/spec"
)

// Reporter hears about stages as they run (a terminal, later the service's events).
type Reporter interface {
	StageStart(name string)
	StageProgress(name, what string, done, total int)
	StageDone(name string, took time.Duration, note string, err error)
}

// Options are the build's surroundings, not part of the request.
type Options struct {
	Version  string // fbs's, for the manifest
	WorkDir  string // parent of the per-build work dirs
	CacheDir string // shared package cache
	Keep     bool   // keep the work dir (root and all)
	// RootCache is how many installed roots to keep for later builds of
	// the same package set (0: none).
	RootCache int
	Procs     int // compression threads; 0 = all cores
	Reporter  Reporter
	// BootTests run after the ISO is made; a failing one fails the build.
	BootTests []bootcheck.Options
	// BootDefaults are the expected texts, timeout and accelerator of the
	// boot tests a request asks for (boottest=) beyond BootTests.
	BootDefaults bootcheck.Options
	// Loader fetches kickstarts; nil reads paths relative to the request and URLs.
	Loader kickstart.Loader
	// Backend is "native" (or "") for fbs's own builder, else one of
	// backend.Names: Fedora's tools, where the host has them.
	Backend string
	// KojiHub and KojiTopURL are where nvr= and bid= builds come from
	// (Fedora's Koji when empty).
	KojiHub, KojiTopURL string
	// LogFile, when set, is where the build log goes (the service's store).
	LogFile string
	// Store, when set, keeps the artifacts (the service's
	// builds/<id>/artifacts): the publish stage moves them there under
	// their published names, then publishes them on the request's target.
	// The log is not one of them: the service keeps it at LogFile.
	Store string
	// S3 are the settings for an s3:// target (the command's --s3-* flags).
	S3 publish.S3Config
	// Service builds read no file of the server's for the request: a
	// request that came over the network chooses no place on the server.
	Service bool
	// Started receives the build's id and log path as soon as they exist.
	Started func(id, logPath string)
	// Limits bound the build's time, memory, processes and disk.
	Limits Limits
	// Unconfined runs the build's commands on the host as it is (for
	// debugging, and for measuring what confinement costs).
	Unconfined bool
	// Hidden are host paths the build's commands must not see, besides
	// HiddenPaths (the service's data dir, its config).
	Hidden []string
	// PostNetwork gives confined %post scripts the host's network, as
	// livecd-creator's have; without it they have a loopback alone, as
	// every command of a build but dnf's downloads.
	PostNetwork bool
}

// native says whether fbs's own builder makes the image.
func (o Options) native() bool { return o.Backend == "" || o.Backend == "native" }

// Result is a finished build.
type Result struct {
	ID        string
	WorkDir   string
	Log       string
	Artifacts []Artifact
	Stages    []StageTime
	Boots     []*bootcheck.Result
}

// Artifact is one output file.
type Artifact struct {
	Name   string `json:"name"`
	Path   string `json:"-"`
	Remote string `json:"-"` // where it was published, on an FTP server or in S3
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
}

// StageTime is how long a stage took.
type StageTime struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

type build struct {
	req     *spec.Request
	opts    Options
	id      string
	stamp   string
	work    string
	log     *buildlog.Log
	run     *runner.Runner
	target  publish.Target
	logPath string
	// logPublished is where the publish stage put the log ("": nowhere).
	logPublished string
	started      time.Time
	mu           sync.Mutex
	stages       []StageTime
	boots        []*bootcheck.Result
	// tools holds the host tools' versions for the manifest, asked for in
	// the background (dnf --version alone takes 0.3 s, and waits while
	// another dnf runs).
	tools chan map[string]string
	side  *side // the Koji builds' repo, when the request names builds
	// What the stages hand on (see Plan): the kickstart, the repos to
	// install from, the image root, the kernel and bootloaders found in
	// it, more files for the ISO, the ISO and the artifacts.
	ks     *kickstart.Kickstart
	ksPath string
	repos  []kickstart.Repo
	root   string // "" when an external tool made the image
	boot   *image.Boot
	// platform is how the arch's media boot (BIOS and UEFI, or UEFI alone).
	platform image.Platform
	files    map[string]string // path on the ISO -> file
	isoOut   string
	arts     []Artifact
	// pkgs are the packages the root image has, for the manifest: listed
	// before the image is made, as rpm's query writes the rpmdb's
	// shared-memory file.
	pkgs []Package
	// release undoes what the build holds: the overlay on a cached root,
	// its cgroup, its work dir's filesystem (in reverse order).
	release []func()
	// limits say whether a limit was hit (see runner.Runner.Limits).
	limits []func(failed bool) error
	disk   string // the work dir's filesystem image, under a disk limit
}

// nativeTools are the host programs every native build runs.
var nativeTools = []string{"dnf", "rpm", "createrepo_c", "mksquashfs", "xorrisofs", "grub-mkimage", "mkfs.fat", "mcopy", "mmd"}

// Run builds req: it runs the stages Plan makes of it.
func Run(ctx context.Context, req *spec.Request, opts Options) (*Result, error) {
	target, err := publish.Parse(req.Staging, opts.S3)
	if err != nil {
		return nil, err
	}
	if opts.Procs == 0 {
		opts.Procs = runtime.NumCPU()
	}
	if opts.Reporter == nil {
		opts.Reporter = nopReporter{}
	}
	opts.BootTests = requestedBoots(opts, req)
	opts.KojiHub = cmp.Or(opts.KojiHub, koji.DefaultHub)
	opts.KojiTopURL = cmp.Or(opts.KojiTopURL, koji.DefaultTopURL)
	var platform image.Platform
	if opts.native() {
		if platform, err = nativePlatform(req.Arch); err != nil {
			return nil, err
		}
		if exposed := hostarch.Exposed(); len(exposed) > 0 && !opts.Unconfined {
			return nil, hostarch.ExposedError(exposed)
		}
		if err := hosttool.Missing(nativeTools...); err != nil {
			return nil, err
		}
	}
	now := time.Now().UTC()
	b := &build{req: req, opts: opts, target: target, started: now, stamp: now.Format("20060102-150405"), platform: platform}
	b.id = fmt.Sprintf("%s-%s-%s-%s", b.stamp, req.Type, req.Arch, randomSuffix())
	b.work = filepath.Join(opts.WorkDir, b.id)
	if opts.native() {
		b.root = filepath.Join(b.work, "root")
	}
	// Root's alone, as the caches: what a build's code leaves there (a
	// setuid shell; an image root's own setuid binaries) must not be
	// reachable by the host's other users.
	if err := runner.PrivateDir(b.work); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	if opts.CacheDir != "" {
		if err := runner.PrivateDir(opts.CacheDir); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	defer b.dropDisk(ctx)
	if opts.Limits.Disk > 0 {
		// Before anything is written there, the build log included.
		if err := b.ownDisk(ctx, opts.Limits.Disk); err != nil {
			return nil, err
		}
	}
	logPath := cmp.Or(opts.LogFile, filepath.Join(b.work, "build.log"))
	b.logPath = logPath
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("build log: %w", err)
	}
	if b.log, err = buildlog.Create(logPath); err != nil {
		return nil, err
	}
	defer b.log.Close()
	b.run = runner.New(b.log)
	b.tools = make(chan map[string]string, 1)
	if opts.Started != nil {
		opts.Started(b.id, logPath)
	}
	b.log.Printf("fbs build %s: type=%s arch=%s release=%s work dir %s", b.id, req.Type, req.Arch, req.Release, b.work)
	for _, ig := range req.Ignored {
		b.log.Printf("ignored: %s", ig)
	}
	res := &Result{ID: b.id, WorkDir: b.work, Log: logPath}
	defer b.releaseAll()
	if ctx, err = b.limit(ctx); err != nil {
		b.log.Printf("build failed: %v", err)
		return res, err
	}
	err = b.runPlan(ctx, Plan(req, opts))
	// The artifacts, once made, are where they are even when publishing
	// them failed: in the work dir or the service's store.
	res.Stages, res.Boots, res.Artifacts = b.stages, b.boots, b.arts
	if err != nil {
		b.log.Printf("build failed: %v", err)
		b.cleanup(ctx, false)
		return res, err
	}
	res.Log = cmp.Or(b.logPublished, logPath)
	b.log.Printf("build %s succeeded in %s", b.id, time.Since(b.started).Round(time.Millisecond))
	b.cleanup(ctx, true)
	return res, nil
}

// askToolVersions starts asking the host tools' versions for the manifest,
// once dnf is done (see tools).
func (b *build) askToolVersions(ctx context.Context) {
	go func() {
		b.tools <- hosttool.CachedVersions(ctx, filepath.Join(b.opts.CacheDir, "tool-versions.json"), "dnf", "rpm", "mksquashfs", "xorrisofs", "grub-mkimage", "mkfs.fat", "mcopy", "implantisomd5", "qemu-system-x86_64")
	}()
}

// publishedName is an artifact's name where it is published: the label,
// the build's timestamp, and the suffix.
func (b *build) publishedName(suffix string) string {
	return b.req.Label() + "-" + b.stamp + suffix
}

// cleanup removes what a build leaves behind: the image root always (it is
// large and its mounts died with their namespaces), the rest once the
// artifacts are published. --keep keeps everything.
func (b *build) cleanup(ctx context.Context, published bool) {
	b.releaseAll()
	if b.opts.Keep {
		b.log.Printf("work dir kept: %s", b.work)
		return
	}
	for _, d := range []string{"root", "upper", "overlay-work", "parts", dnfConfDir, "dnf-cache", "dnf-upper", "dnf-work"} {
		if err := removeTree(filepath.Join(b.work, d)); err != nil {
			b.log.Printf("cleanup: %v", err)
		}
	}
	if published {
		b.removeLeftovers()
	}
	if published && b.publishedAway() {
		b.dropDisk(ctx)
		os.RemoveAll(b.work)
	}
}

// releaseAll undoes what the build holds, newest first, once.
func (b *build) releaseAll() {
	for i := len(b.release) - 1; i >= 0; i-- {
		b.release[i]()
	}
	b.release = nil
}

// removeLeftovers removes from a published build's work dir all but the
// artifacts and the log still there (a local build's, unpublished): what
// else the build's code left (a setuid shell) is nobody's to keep.
func (b *build) removeLeftovers() {
	keep := map[string]bool{}
	for _, p := range append([]string{b.logPath}, b.artifactPaths()...) {
		if rel, err := filepath.Rel(b.work, p); err == nil && filepath.IsLocal(rel) {
			keep[strings.Split(rel, string(filepath.Separator))[0]] = true
		}
	}
	entries, _ := os.ReadDir(b.work)
	for _, e := range entries {
		if !keep[e.Name()] {
			if err := removeTree(filepath.Join(b.work, e.Name())); err != nil {
				b.log.Printf("cleanup: %v", err)
			}
		}
	}
}

func (b *build) artifactPaths() []string {
	paths := make([]string, len(b.arts))
	for i, a := range b.arts {
		paths[i] = a.Path
	}
	return paths
}

// publishedAway reports whether the work dir holds nothing but emptied parts.
func (b *build) publishedAway() bool {
	entries, err := os.ReadDir(b.work)
	return err == nil && len(entries) == 0
}

// removeTree deletes an image root, refusing if anything is still mounted
// below it (RemoveAll would then reach into the host's /dev or /proc).
func removeTree(dir string) error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			return fmt.Errorf("not removing %s: %s is still mounted", dir, f[4])
		}
	}
	return os.RemoveAll(dir)
}

func randomSuffix() string {
	b := make([]byte, 3)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// requestedBoots adds the boot tests the request asks for (boottest=) to
// the server's, each with the server's expected texts, for the request's
// arch. Media that boot UEFI alone (aarch64) have no BIOS test: the
// request cannot ask for one (spec.Validate), and a server's is left out.
func requestedBoots(opts Options, req *spec.Request) []bootcheck.Options {
	out := slices.Clone(opts.BootTests)
	for _, fw := range req.BootTest {
		if !slices.ContainsFunc(out, func(o bootcheck.Options) bool { return o.UEFI == (fw == "uefi") }) {
			o := opts.BootDefaults
			o.UEFI = fw == "uefi"
			if len(o.Expect) == 0 {
				o.Expect = []string{bootcheck.DefaultExpect}
			}
			out = append(out, o)
		}
	}
	bios := biosMedia(req)
	out = slices.DeleteFunc(out, func(o bootcheck.Options) bool { return !o.UEFI && !bios })
	for i := range out {
		out[i].Arch = req.Arch
	}
	return out
}

type nopReporter struct{}

func (nopReporter) StageStart(string)                              {}
func (nopReporter) StageProgress(string, string, int, int)         {}
func (nopReporter) StageDone(string, time.Duration, string, error) {}
