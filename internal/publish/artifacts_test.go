package publish

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fbs/internal/fbstest"
)

// TestArtifacts: the artifacts go up in order and the log after them,
// named after the first; when one cannot be published (on FTP, a name
// taken), what was is taken back. The local files stay either way.
func TestArtifacts(t *testing.T) {
	ftp := fbstest.StartFTP(t)
	tests := map[string]struct {
		remote bool
		taken  string // a name the target has already
		want   []string
	}{
		"dir":                        {want: []string{"L-1.iso", "L-1.ks", "L-1.log"}},
		"dir, a name taken":          {taken: "L-1.ks", want: []string{"L-1.iso", "L-1.ks", "L-1.ks.1", "L-1.log"}},
		"ftp":                        {remote: true, want: []string{"L-1.iso", "L-1.ks", "L-1.log"}},
		"ftp, the kickstart's taken": {remote: true, taken: "L-1.ks", want: []string{"L-1.ks"}},
		"ftp, the log's taken":       {remote: true, taken: "L-1.log", want: []string{"L-1.log"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			work, dir := t.TempDir(), t.TempDir()
			target := Target{Dir: dir}
			if tc.remote {
				sub := strings.NewReplacer(" ", "-", ",", "", "'", "").Replace(name) // a dir of its own on the server
				dir = filepath.Join(ftp.Dir, sub)
				os.MkdirAll(dir, 0o755)
				target, _ = Parse(ftp.URL(sub), S3Config{})
			}
			for _, n := range []string{"x.iso", "x.ks", "build.log"} {
				if err := os.WriteFile(filepath.Join(work, n), []byte(n), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.taken != "" {
				os.WriteFile(filepath.Join(dir, tc.taken), []byte("before"), 0o644)
			}
			files := []File{{filepath.Join(work, "x.iso"), "L-1.iso"}, {filepath.Join(work, "x.ks"), "L-1.ks"}}
			p, err := Artifacts(context.Background(), target, files, filepath.Join(work, "build.log"), quiet)
			if failed := tc.remote && tc.taken != ""; (err != nil) != failed {
				t.Errorf("published %+v: %v", p, err)
			}
			var names []string
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("the target holds %v, want %v", names, tc.want)
			}
			if left, _ := os.ReadDir(work); len(left) != 3 {
				t.Errorf("the work dir holds %d files", len(left))
			}
		})
	}
}
