package build

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fbs/internal/beneath"
	"fbs/internal/bootcheck"
	"fbs/internal/kickstart"
	"fbs/internal/publish"
	"fbs/internal/rpmrepo"
	"fbs/internal/spec"
)

// Manifest records what went into a build and what came out.
type Manifest struct {
	ID        string              `json:"id"`
	FBS       string              `json:"fbs_version"`
	Started   time.Time           `json:"started"`
	Finished  time.Time           `json:"finished"`
	Request   *spec.Request       `json:"request"`
	Kickstart string              `json:"kickstart"`
	Repos     []kickstart.Repo    `json:"repos"`
	Packages  []Package           `json:"packages"`
	Tools     map[string]string   `json:"tools"`
	Stages    []StageTime         `json:"stages"`
	Artifacts []Artifact          `json:"artifacts"`
	BootTests []*bootcheck.Result `json:"boot_tests,omitempty"`
}

// Package is one installed package: SHA256 is its package file's checksum
// from the repo's metadata; SHA256Header is rpm's digest of the package
// header, which identifies the exact package build even where the repo's
// metadata is not at hand.
type Package struct {
	NEVRA        string `json:"nevra"`
	SHA256       string `json:"sha256,omitempty"`
	SHA256Header string `json:"sha256_header"`
}

// manifest checksums the ISO and writes CHECKSUM and manifest.json; the
// artifacts to publish are these, named as they will be published.
func (b *build) manifest(ctx context.Context) (string, error) {
	arts, err := b.writeManifest(ctx)
	b.arts = arts
	return fmt.Sprintf("%d artifacts", len(arts)), err
}

func (b *build) writeManifest(ctx context.Context) ([]Artifact, error) {
	if b.nameTaken(ctx) {
		// Same label in the same second: the build id keeps the names apart.
		b.stamp = b.id
	}
	isoPath := b.isoOut
	// Artifacts that go nowhere keep their work dir names.
	name := func(plain, suffix string) string {
		if !b.target.Staged() && b.opts.Store == "" {
			return plain
		}
		return b.publishedName(suffix)
	}
	arts := []Artifact{{Name: name(filepath.Base(isoPath), ".iso"), Path: isoPath}}
	if b.ksPath != "" {
		arts = append(arts, Artifact{Name: name(filepath.Base(b.ksPath), ".ks"), Path: b.ksPath})
	}
	for i := range arts {
		if err := hashFile(&arts[i]); err != nil {
			return nil, err
		}
	}
	sumPath := filepath.Join(b.work, "CHECKSUM")
	sums := fmt.Sprintf("# fbs build %s\nSHA256 (%s) = %s\n", b.id, arts[0].Name, arts[0].SHA256)
	if err := beneath.WriteFile(b.work, "CHECKSUM", []byte(sums), 0o644); err != nil {
		return nil, err
	}
	repos := make([]kickstart.Repo, len(b.repos))
	for i, r := range b.repos {
		for _, s := range []*string{&r.BaseURL, &r.Mirrorlist, &r.Metalink} {
			*s = kickstart.Expand(*s, b.req.Releasever(), b.req.Arch)
		}
		repos[i] = r
	}
	var tools map[string]string
	select {
	case tools = <-b.tools:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	man := Manifest{
		ID: b.id, FBS: cmp.Or(b.opts.Version, "dev"), Started: b.started, Finished: time.Now().UTC(), Request: b.req,
		Repos: repos, Packages: b.pkgs, Tools: tools, Stages: b.stages, Artifacts: arts, BootTests: b.boots,
	}
	if b.ksPath != "" {
		man.Kickstart = arts[1].Name
	}
	data, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	manPath := filepath.Join(b.work, "manifest.json")
	if err := beneath.WriteFile(b.work, "manifest.json", append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	return append(arts,
		Artifact{Name: name("CHECKSUM", "-CHECKSUM"), Path: sumPath, Size: int64(len(sums)), SHA256: sha256Hex([]byte(sums))},
		Artifact{Name: name("manifest.json", ".manifest.json"), Path: manPath, Size: int64(len(data) + 1), SHA256: sha256Hex(append(data, '\n'))},
	), nil
}

// sha256Hex is the sha256 of what was just written, without reading it back.
func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// packages lists the root's packages, with their checksums.
func (b *build) packages(ctx context.Context) ([]Package, error) {
	root := b.root
	sums := b.repoSums(b.withSide(b.repos))
	out, err := b.rpmQuery(ctx, root, "-qa", "--qf", `%{NEVRA}\t%{SHA256HEADER}\n`)
	if err != nil {
		return nil, fmt.Errorf("list installed packages: %w", err)
	}
	var pkgs []Package
	for _, line := range out {
		nevra, sum, _ := strings.Cut(line, "\t")
		pkgs = append(pkgs, Package{NEVRA: nevra, SHA256: sums[nevra], SHA256Header: sum})
	}
	return pkgs, nil
}

// repoSums reads the package checksums of the repos from the primary.xml
// files dnf keeps in the shared cache (<repo id>-<hash>/repodata/), the
// newest copy for each repo.
func (b *build) repoSums(repos []kickstart.Repo) map[string]string {
	sums := map[string]string{}
	for _, r := range repos {
		files, _ := filepath.Glob(filepath.Join(b.opts.CacheDir, "dnf", r.Name+"-*", "repodata", "*primary.xml*"))
		var newest string
		var when time.Time
		for _, f := range files {
			if st, err := os.Stat(f); err == nil && st.ModTime().After(when) {
				newest, when = f, st.ModTime()
			}
		}
		if newest == "" {
			continue
		}
		got, err := rpmrepo.PrimarySums(newest)
		if err != nil {
			b.log.Printf("manifest: repo %s: %v", r.Name, err)
			continue
		}
		maps.Copy(sums, got)
	}
	return sums
}

// hashFile sums an artifact a build made in its work dir. Its code may
// have planted a symlink, a fifo or a hard link to a host file under the
// name: such a file is refused (and so never published).
func hashFile(a *Artifact) error {
	f, err := beneath.OpenSole(filepath.Dir(a.Path), filepath.Base(a.Path))
	if err != nil {
		return err
	}
	defer f.Close()
	a.Size, a.SHA256, err = publish.Sum(f)
	return err
}

// bootTest boots the ISO in QEMU; a failing boot fails the build.
func (b *build) bootTest(ctx context.Context, o bootcheck.Options) (string, error) {
	o.ISO = b.isoOut
	res, err := bootcheck.Run(ctx, b.run, o)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	b.boots = append(b.boots, res)
	b.mu.Unlock()
	return fmt.Sprintf("%q after %.1f s (%s)", res.Line, res.Seconds, res.Accel), nil
}
