package build

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"

	"fbs/internal/beneath"
	"fbs/internal/dnf"
	"fbs/internal/kickstart"
	"fbs/internal/rootcache"
	"fbs/internal/rpmrepo"
	"fbs/internal/runner"
)

// rootKey is the root cache key for a dnf transaction, or "" with the
// reason when the root cannot be proven the same as a cached one.
func (b *build) rootKey(ctx context.Context, in dnf.Install, repos []kickstart.Repo) (string, string) {
	if b.opts.RootCache <= 0 {
		return "", "the root cache is off"
	}
	if b.side != nil {
		// Its repo is made anew in the work dir for each build.
		return "", "the request names Koji builds"
	}
	if b.opts.Keep {
		// A mounted root would vanish with fbs's mount namespace.
		return "", "--keep wants the root itself in the work dir"
	}
	if !runner.HasPrivateMounts() {
		return "", "fbs runs without a mount namespace of its own, where it mounts cached roots"
	}
	// The paths differ from build to build; what is installed does not
	// depend on them. The command line holds the specs, excludes and
	// options; the macros (--inst-langs) change the root too.
	in.Root, in.CacheDir, in.ReposDir, in.Config, in.VarsDir = "ROOT", "CACHE", "REPOS", "CONFIG", "VARS"
	parts := []string{strings.Join(in.Args(), "\x00"), strings.Join(in.Macros, "\n"), dnf.RepoFile(repos)}
	for _, r := range repos {
		sum, err := rpmrepo.Fingerprint(ctx, r, in.Releasever, in.Arch)
		if err != nil {
			return "", fmt.Sprintf("repo %s: %v", r.Name, err)
		}
		parts = append(parts, r.Name+"="+sum)
	}
	return rootcache.Key(parts...), ""
}

// cachedRoot mounts the cached root for key at root under a writable
// overlay, installing and filing it first when the cache lacks it. It
// returns "" when the build should install into root itself, else how the
// root came. The root is installed in the work dir, where the disk limit
// counts it, and filed once dnf and its scriptlets are done: no build's
// code runs with the cache writable.
func (b *build) cachedRoot(ctx context.Context, key string, in dnf.Install, install func(dnf.Install) error) (string, error) {
	root := in.Root
	cache := &rootcache.Cache{Dir: filepath.Join(b.opts.CacheDir, "roots"), Keep: b.opts.RootCache}
	entry, err := cache.Get(key)
	if err != nil {
		return "", err
	}
	how := "from the root cache"
	if entry == nil {
		how = "now in the root cache"
		if err := install(in); err != nil {
			return "", err
		}
		var moved bool
		if entry, moved, err = cache.Put(ctx, key, root); err != nil {
			return "", err
		}
		b.log.Printf("root cache: filed the installed root as %s", key)
		for _, gone := range cache.Prune() {
			b.log.Printf("root cache: removed %s", gone)
		}
		if !moved {
			// Copied (the work dir is a filesystem of its own): the build
			// goes on with the root it installed.
			entry.Release()
			return how, nil
		}
	} else {
		b.log.Printf("root cache: %s holds this package set; no dnf transaction", key)
	}
	upper, work := filepath.Join(b.work, "upper"), filepath.Join(b.work, "overlay-work")
	for _, d := range []string{filepath.Base(root), "upper", "overlay-work"} {
		// Not followed, should a scriptlet have made one a symlink.
		if err := beneath.MkdirAll(b.work, d, 0o755); err != nil {
			entry.Release()
			return "", err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", entry.Path, upper, work)
	if err := syscall.Mount("overlay", root, "overlay", 0, opts); err != nil {
		entry.Release()
		b.log.Printf("root cache: cannot mount an overlay here (%v); installing into the build's own root", err)
		return "", nil
	}
	b.log.Printf("root cache: %s mounted read-only under an overlay at %s", entry.Path, root)
	b.release = append(b.release, func() {
		if err := syscall.Unmount(root, syscall.MNT_DETACH); err != nil {
			b.log.Printf("unmount %s: %v", root, err)
		}
		entry.Release()
	})
	return how, nil
}
