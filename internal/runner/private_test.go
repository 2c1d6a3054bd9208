package runner

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPrivateDir: new dirs and their new parents are 0700, and so is an
// existing dir made private (a data dir an older fbs made 0755).
func TestPrivateDir(t *testing.T) {
	base := t.TempDir()
	existing := filepath.Join(base, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct{ make, check string }{
		"new with parents": {filepath.Join(base, "a/b/c"), filepath.Join(base, "a")},
		"new leaf":         {filepath.Join(base, "a/b/c"), filepath.Join(base, "a/b/c")},
		"existing":         {existing, existing},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := PrivateDir(tc.make); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(tc.check)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o700 {
				t.Errorf("%s is %v, want 0700", tc.check, st.Mode().Perm())
			}
		})
	}
}
