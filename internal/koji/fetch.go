package koji

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// Fetched is a build with its RPMs on disk.
type Fetched struct {
	Build Build
	RPMs  []RPM
	Files []string // the RPM files, in the cache
}

// Names are the package names the build provides.
func (f Fetched) Names() []string {
	var names []string
	for _, r := range f.RPMs {
		names = append(names, r.Name)
	}
	return names
}

// Fetch resolves every build (all of them before any download, so that a
// bad NVR fails fast), then downloads their RPMs in parallel into
// cache/<nvr>/, where a later build finds them. Each file is checked against
// Koji's size and payload hash. progress hears of each finished file.
func (c *Client) Fetch(ctx context.Context, refs []any, arch, cache string, progress func(done, total int)) ([]Fetched, error) {
	var out []Fetched
	total := 0
	for _, ref := range refs {
		b, err := c.GetBuild(ctx, ref)
		if err != nil {
			return nil, err
		}
		rpms, err := c.ListRPMs(ctx, b, arch)
		if err != nil {
			return nil, err
		}
		out = append(out, Fetched{Build: b, RPMs: rpms, Files: make([]string, len(rpms))})
		total += len(rpms)
	}
	var done atomic.Int32
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i := range out {
		f := &out[i]
		for j, r := range f.RPMs {
			dst := filepath.Join(cache, f.Build.NVR, r.File())
			f.Files[j] = dst
			g.Go(func() error {
				if err := c.download(gctx, c.URL(f.Build, r), dst, r); err != nil {
					return &Error{Build: f.Build.NVR, Msg: err.Error()}
				}
				if progress != nil {
					progress(int(done.Add(1)), total)
				}
				return nil
			})
		}
	}
	return out, g.Wait()
}

// download fetches url into dst unless a verified copy is there already.
func (c *Client) download(ctx context.Context, url, dst string, r RPM) error {
	if verify(ctx, dst, r) == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", url, resp.Status)
	}
	part, err := os.CreateTemp(filepath.Dir(dst), ".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(part.Name())
	// Reading stops a byte past Koji's size: a server that sends more
	// (without end) costs that byte, not the disk.
	n, err := io.Copy(part, io.LimitReader(resp.Body, r.Size+1))
	if cerr := part.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > r.Size {
		err = fmt.Errorf("%s is larger than the %d bytes Koji says", r.File(), r.Size)
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	if err := verify(ctx, part.Name(), r); err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	return os.Rename(part.Name(), dst)
}

// verify checks a file's size and, where Koji gave one, its payload hash
// (rpm's SIGMD5).
func verify(ctx context.Context, path string, r RPM) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Size() != r.Size {
		return fmt.Errorf("%s has %d bytes, Koji says %d", r.File(), st.Size(), r.Size)
	}
	if r.PayloadHash == "" {
		return nil
	}
	out, err := exec.CommandContext(ctx, "rpm", "-qp", "--nosignature", "--nodigest", "--qf", "%{SIGMD5}", path).Output()
	if err != nil {
		return fmt.Errorf("%s is not an RPM rpm can read: %w", r.File(), err)
	}
	if got := strings.TrimSpace(string(out)); got != r.PayloadHash {
		return fmt.Errorf("%s has payload hash %s, Koji says %s", r.File(), got, r.PayloadHash)
	}
	return nil
}
