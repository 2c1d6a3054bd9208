package build

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fbs/internal/beneath"
	"fbs/internal/dnf"
	"fbs/internal/hosttool"
	"fbs/internal/kickstart"
	"fbs/internal/koji"
	"fbs/internal/publish"
	"fbs/internal/runner"
)

// side is the request's Koji builds, made a repository of their own.
type side struct {
	repo    kickstart.Repo
	fetched []koji.Fetched
}

// kojiRefs are the builds the request names: NVRs, then build ids.
func (b *build) kojiRefs() []any {
	var refs []any
	for _, n := range b.req.NVR {
		refs = append(refs, n)
	}
	for _, id := range b.req.BuildID {
		refs = append(refs, id)
	}
	return refs
}

// sideRepo fetches the Koji builds (cached by NVR) and makes the side repo.
// It runs before any image work, so a bad NVR fails the build at once.
func (b *build) sideRepo(ctx context.Context) (string, error) {
	refs, proxy := b.kojiRefs(), b.proxy()
	hc := &http.Client{Timeout: 10 * time.Minute}
	if proxy != "" {
		u, err := url.Parse(proxy)
		if err != nil {
			return "", fmt.Errorf("proxy %q: %w", proxy, err)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = http.ProxyURL(u)
		hc.Transport = tr
	}
	c := &koji.Client{Hub: b.opts.KojiHub, TopURL: b.opts.KojiTopURL, HTTP: hc}
	b.log.Printf("koji: hub %s, topurl %s, builds %v", c.Hub, c.TopURL, refs)
	start := time.Now()
	fetched, err := c.Fetch(ctx, refs, b.req.Arch, filepath.Join(b.opts.CacheDir, "koji"), func(done, total int) {
		b.opts.Reporter.StageProgress("koji", "RPMs", done, total)
	})
	if err != nil {
		return "", err
	}
	b.side = &side{fetched: fetched, repo: kickstart.Repo{Name: "koji", BaseURL: "file://" + filepath.Join(b.work, "koji-repo"), Cost: 1}}
	var size int64
	n := 0
	for _, f := range fetched {
		b.log.Printf("koji: %s (build %d): %s", f.Build.NVR, f.Build.ID, strings.Join(f.Names(), " "))
		for i := range f.Files {
			size += f.RPMs[i].Size
			n++
		}
	}
	took := time.Since(start)
	if err := b.makeSideRepo(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d build(s), %d RPMs, %.1f MiB in %.1f s", len(fetched), n, float64(size)/(1<<20), took.Seconds()), nil
}

// makeSideRepo makes the side repo of the fetched builds in the work dir,
// anew: dnf reads it with the network while it downloads, and an earlier
// transaction's scriptlets could have changed it (to point dnf at any
// address, with what it wants sent in the URL).
func (b *build) makeSideRepo(ctx context.Context) error {
	dir := filepath.Join(b.work, "koji-repo")
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("koji: %w", err)
	}
	if err := beneath.MkdirAll(b.work, filepath.Base(dir), 0o755); err != nil {
		return fmt.Errorf("koji: %w", err)
	}
	for _, f := range b.side.fetched {
		for _, file := range f.Files {
			// A copy of its own (reflinked where the filesystem can): a hard
			// link would let the build's code change the shared Koji cache.
			if _, err := publish.Duplicate(file, dir, filepath.Base(file)); err != nil {
				return fmt.Errorf("koji: %w", err)
			}
		}
	}
	return b.run.Run(ctx, runner.Cmd{Args: []string{hosttool.Path("createrepo_c"), "--quiet", dir}})
}

// withSide adds the side repo, and keeps its packages out of every other
// repo so that the builds' packages are the ones installed.
func (b *build) withSide(repos []kickstart.Repo) []kickstart.Repo {
	if b.side == nil {
		return repos
	}
	var names []string
	for _, f := range b.side.fetched {
		names = append(names, f.Names()...)
	}
	out := make([]kickstart.Repo, 0, len(repos)+1)
	for _, r := range repos {
		r.Exclude = append(append([]string(nil), r.Exclude...), names...)
		out = append(out, r)
	}
	return append(out, b.side.repo)
}

// installBuildPackages installs, for each Koji build none of whose packages
// the image took, the package named like the build: the seed promised the
// builds would be in the image.
func (b *build) installBuildPackages(ctx context.Context, in dnf.Install, pkgs kickstart.Packages) error {
	if b.side == nil {
		return nil
	}
	var want []string
	for _, f := range b.side.fetched {
		if !b.anyInstalled(ctx, in.Root, f.Names()) {
			want = append(want, f.Build.PackageName)
		}
	}
	if len(want) == 0 {
		return nil
	}
	b.log.Printf("koji: the image took nothing of %s; installing %s", strings.Join(want, ", "), strings.Join(want, " "))
	in.Packages, in.Exclude = want, nil
	return b.dnf(ctx, pkgs, in)
}

func (b *build) anyInstalled(ctx context.Context, root string, names []string) bool {
	out, _ := b.rpmQuery(ctx, root, append([]string{"-q"}, names...)...)
	for _, line := range out {
		if !strings.Contains(line, "is not installed") {
			return true
		}
	}
	return false
}
