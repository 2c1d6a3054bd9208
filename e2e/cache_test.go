//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestWarmRebuildDownloadsNothing serves the demo repo over HTTP, as a
// mirror would, builds a JSON request twice with one cache, the second time
// with another %post, and counts the packages fetched. The second build
// takes the installed root from the root cache; the first build's %post
// must not have changed it.
func TestWarmRebuildDownloadsNothing(t *testing.T) {
	var rpms atomic.Int64
	files := http.FileServer(http.Dir(demoDir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".rpm") {
			rpms.Add(1)
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	buildCache := t.TempDir()
	dir := t.TempDir()
	for i, post := range []string{"echo first > /etc/issue", "echo second > /etc/issue"} {
		ks := fmt.Sprintf("repo --name=mirror --baseurl=%s/\n%%packages\n@core\n@live-boot\n%%end\n%%post\n%s\n%%end\n", srv.URL, post)
		req := fmt.Sprintf(`{"type": "live", "arch": "x86_64", "release": "1",
  "live": {"label": "FBS-Warm", "releasever": "1", "compression": "zstd", "kickstart": %q}}`, ks)
		path := filepath.Join(dir, fmt.Sprintf("req%d.json", i))
		write(t, path, req)
		before := rpms.Load()
		res := fbs(t, "build", path, "--cache", buildCache, "--work", t.TempDir())
		if res.code != 0 {
			t.Fatalf("build %d: exit %d", i+1, res.code)
		}
		got := rpms.Load() - before
		switch {
		case i == 0 && got != 8:
			t.Errorf("cold build fetched %d packages, want the 8 of the image", got)
		case i == 1 && got != 0:
			t.Errorf("warm build fetched %d packages, want none", got)
		}
		mustContain(t, "output", res.out, []string{"8 packages, now in the root cache", "8 packages, from the root cache"}[i])
	}
	issues, _ := filepath.Glob(filepath.Join(buildCache, "roots", "*", "etc", "issue"))
	if len(issues) != 1 {
		t.Fatalf("root cache holds %d roots, want 1", len(issues))
	}
	if b, _ := os.ReadFile(issues[0]); strings.Contains(string(b), "first") {
		t.Errorf("a build's %%post wrote into the cached root")
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), buildCache) {
		t.Error("a cached root is still mounted on the host")
	}
	if _, err := os.Stat(filepath.Join(buildCache, "dnf")); err != nil {
		t.Errorf("no package cache: %v", err)
	}
}
