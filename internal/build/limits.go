package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"fbs/internal/hosttool"
	"fbs/internal/runner"
)

// Limits bound a build; zero is none, but for Timeout, which is then the
// image type's default.
type Limits struct {
	Timeout time.Duration
	Memory  int64 // bytes, for all its processes together
	Procs   int   // processes at once
	Disk    int64 // bytes in its work dir
}

// DefaultTimeouts are the wall-clock limits by image type.
var DefaultTimeouts = map[string]time.Duration{"boot": time.Hour, "live": 2 * time.Hour, "dvd": 3 * time.Hour}

// HiddenPaths are what no build command sees of the host: secrets and
// the places a service keeps its own data.
// (/run stays: resolv.conf often lives there, and repos need DNS.)
var HiddenPaths = []string{
	"/root", "/home", "/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers", "/etc/sudoers.d",
	"/etc/ssh", "/etc/fbs", "/var/lib/fbs", "/var/lib/fbs-worker", "/var/lib/postgresql", "/etc/postgresql",
	"/run/postgresql", "/run/secrets", "/run/docker.sock", "/run/containerd", "/run/user", "/var/log",
	"/etc/ssl/private", "/etc/pki/tls/private", "/etc/letsencrypt",
	// Services' sockets outside /run: a read-only mount does not stop a
	// connect(), and each of these answers root with root on the host.
	"/var/snap/lxd", "/var/lib/lxd", "/var/lib/incus", "/var/lib/docker", "/var/lib/containerd",
	"/var/lib/kubelet", "/var/lib/libvirt",
}

// limit sets the build's limits up: the timeout on ctx, a cgroup for
// memory and processes, a filesystem of its own for the work dir, and the
// confinement of its commands. The returned ctx carries the timeout.
func (b *build) limit(ctx context.Context) (context.Context, error) {
	l := b.opts.Limits
	timeout := l.Timeout
	if timeout == 0 {
		timeout = DefaultTimeouts[b.req.Type]
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, &runner.LimitError{Limit: "time", Value: timeout.String(), Flag: "--timeout"})
		b.release = append(b.release, cancel)
	}
	if b.disk != "" {
		b.log.Printf("work dir: a filesystem of its own, %d MiB (the disk limit)", l.Disk>>20)
		b.limits = append(b.limits, func(failed bool) error {
			var st syscall.Statfs_t
			if failed && syscall.Statfs(b.work, &st) == nil && st.Bavail*uint64(st.Bsize) < uint64(l.Disk)/100+(1<<20) {
				return &runner.LimitError{Limit: "disk", Value: fmt.Sprintf("%d MiB in the work dir", l.Disk>>20), Flag: "--disk-limit"}
			}
			return nil
		})
	}
	if b.opts.Unconfined {
		b.log.Printf("confinement: off (--confine=false): commands see and may change the host as it is")
		return ctx, nil
	}
	// The shared caches are not writable: what one build wrote there would
	// reach the next build's image, past its own disk limit. fbs's dnf
	// alone writes the package cache, while it downloads (see dnf).
	// Each tmpfs is bounded by the memory limit, which counts what the
	// tmpfs hold too, or by the runner's default.
	hidden := append(slices.Clip(HiddenPaths), b.opts.Hidden...)
	if b.opts.CacheDir != "" {
		// Earlier builds' roots and root images, the packages and repo
		// metadata they downloaded (their private repos' too) and Koji's
		// RPMs: what other requests put there is theirs (the build's own
		// root is mounted already, its packages are seen through an
		// overlay, its Koji RPMs are copied). fbs's dnf sees the package
		// cache while it downloads (downloader).
		for _, d := range []string{"roots", "images", "dnf", "koji"} {
			hidden = append(hidden, filepath.Join(b.opts.CacheDir, d))
		}
	}
	conf := &runner.Confinement{Writable: []string{b.work}, Hidden: hidden, TmpSize: l.Memory}
	// A cgroup of its own holds all the build's processes (and what is
	// left of them is killed at its end), limited or not.
	cg, err := runner.NewCgroup(b.id, l.Memory, l.Procs)
	switch {
	case err != nil && (l.Memory > 0 || l.Procs > 0):
		cg.Close()
		return ctx, fmt.Errorf("memory and process limits need a writable cgroup filesystem (%w); build without them (--memory 0 --max-procs 0)", err)
	case err != nil:
		cg.Close()
		b.log.Printf("confinement: no cgroup of its own (%v)", err)
	default:
		b.release = append(b.release, func() { cg.Close() })
		conf.Cgroups = cg.Dirs
		b.limits = append(b.limits, func(bool) error { return cg.Hit() })
	}
	b.run.Confine = conf
	b.run.Limits = func(failed bool) error {
		for _, f := range b.limits {
			if err := f(failed); err != nil {
				return err
			}
		}
		return nil
	}
	network := "none but dnf's downloads"
	switch {
	case !b.opts.native():
		network = "the backend " + b.opts.Backend + " has the host's, and so its %post and scriptlets"
	case b.opts.PostNetwork:
		network = "dnf's downloads and %post (--post-network) have the host's"
	}
	b.log.Printf("confinement: host read-only but for %s; hidden: %s; network: %s; limits: %s", strings.Join(conf.Writable, ", "), strings.Join(conf.Hidden, " "), network, b.opts.Limits.describe(timeout))
	return ctx, nil
}

func (l Limits) describe(timeout time.Duration) string {
	parts := []string{"time " + timeout.String()}
	if l.Memory > 0 {
		parts = append(parts, fmt.Sprintf("memory %d MiB", l.Memory>>20))
	}
	if l.Procs > 0 {
		parts = append(parts, fmt.Sprintf("%d processes", l.Procs))
	}
	if l.Disk > 0 {
		parts = append(parts, fmt.Sprintf("disk %d MiB", l.Disk>>20))
	}
	return strings.Join(parts, ", ")
}

// ownDisk puts the work dir on a filesystem of its own, size bytes large
// (a sparse file, loop-mounted): the kernel stops writes at the limit,
// whatever writes them. The mount lives in this process's mount
// namespace, so it goes with the process however it ends.
func (b *build) ownDisk(ctx context.Context, size int64) error {
	if !runner.HasPrivateMounts() {
		return errors.New("disk limit: it needs the build in a mount namespace of its own (run fbs as root)")
	}
	img := b.work + ".img"
	f, err := os.OpenFile(img, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("disk limit: %w", err)
	}
	err = f.Truncate(size)
	f.Close()
	b.disk = img
	if err != nil {
		return fmt.Errorf("disk limit: %w", err)
	}
	for _, args := range [][]string{
		{hosttool.Path("mkfs.ext4"), "-q", "-F", "-m", "0", "-O", "^has_journal", "-E", "lazy_itable_init=1,nodiscard", img},
		// nosuid, nodev: what the build leaves there gives nobody privilege.
		{hosttool.Path("mount"), "-o", "loop,nosuid,nodev", img, b.work},
	} {
		if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("disk limit: %s: %v: %s", filepath.Base(args[0]), err, strings.TrimSpace(string(out)))
		}
	}
	// The filesystem's root is 0755 as mkfs made it; the work dir is root's alone.
	if err := os.Chmod(b.work, 0o700); err != nil {
		return fmt.Errorf("disk limit: %w", err)
	}
	return os.Remove(filepath.Join(b.work, "lost+found"))
}

// dropDisk unmounts the work dir's own filesystem; what the build left in
// it (a kept work dir, the artifacts of a build that could not stage them)
// is copied to a plain dir of the same name first.
func (b *build) dropDisk(ctx context.Context) {
	img := b.disk
	if img == "" {
		return
	}
	b.disk = ""
	entries, _ := os.ReadDir(b.work)
	kept := b.work + ".kept"
	if len(entries) > 0 {
		// Not cancelled with the build: what a cancelled build made is kept too.
		// Without modes' setuid and setgid bits and without xattrs (file
		// capabilities): a setuid shell the build planted is kept as a
		// plain file. No link is followed.
		if out, err := exec.CommandContext(context.WithoutCancel(ctx), "cp", "-R", "-P", "--preserve=ownership,timestamps,links", b.work, kept).CombinedOutput(); err != nil {
			b.log.Printf("work dir: keeping what it holds: %v: %s (the filesystem image %s stays)", err, out, img)
			syscall.Unmount(b.work, syscall.MNT_DETACH)
			return
		}
	}
	if err := syscall.Unmount(b.work, syscall.MNT_DETACH); err != nil {
		b.log.Printf("work dir: unmount: %v", err)
	}
	os.Remove(img)
	os.Remove(b.work)
	if len(entries) > 0 {
		os.Rename(kept, b.work)
	}
}
