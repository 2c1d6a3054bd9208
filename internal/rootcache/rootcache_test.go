package rootcache

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	if Key("a", "bc") == Key("ab", "c") {
		t.Error("parts run together")
	}
	if Key("x") != Key("x") || len(Key("x")) != 32 {
		t.Error("key not stable or not 32 hex digits")
	}
}

func fill(t *testing.T, c *Cache, key string) *Entry {
	t.Helper()
	tmp, err := c.Fill(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(tmp, "marker"), []byte(key), 0o644)
	e, err := c.Commit(key, tmp)
	if err != nil || e == nil {
		t.Fatalf("commit %s: %v", key, err)
	}
	return e
}

func TestGetFillCommit(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Keep: 2}
	if e, err := c.Get("k1"); e != nil || err != nil {
		t.Fatalf("empty cache: %v %v", e, err)
	}
	e := fill(t, c, "k1")
	if b, _ := os.ReadFile(filepath.Join(e.Path, "marker")); string(b) != "k1" {
		t.Errorf("root content %q", b)
	}
	if _, err := os.Stat(filepath.Join(e.Path, ".complete")); err == nil {
		t.Error("the completion marker is inside the root")
	}
	e.Release()
	// A second filler of the same key loses the race and uses the first root.
	tmp, _ := c.Fill("k1")
	e2, err := c.Commit("k1", tmp)
	if err != nil || e2.Path != e.Path {
		t.Fatalf("second commit: %v %v", e2, err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Error("the losing fill was left behind")
	}
	e2.Release()
}

func TestPruneKeepsHeldAndRecent(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Keep: 1}
	held := fill(t, c, "held")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(held.Path, old, old)
	fill(t, c, "old").Release()
	os.Chtimes(filepath.Join(c.Dir, "old"), old.Add(-time.Hour), old.Add(-time.Hour))
	fill(t, c, "new").Release()
	// A fill whose process is gone.
	dead := filepath.Join(c.Dir, "x.tmp-999999999-1")
	os.MkdirAll(dead, 0o755)

	removed := c.Prune()
	for _, k := range []string{"held", "new"} {
		if e, _ := c.Get(k); e == nil {
			t.Errorf("%s was pruned", k)
		} else {
			e.Release()
		}
	}
	if e, _ := c.Get("old"); e != nil {
		t.Errorf("old was kept; removed %v", removed)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Error("a dead fill was kept")
	}
	held.Release()
	if got := c.Prune(); len(got) != 1 || got[0] != "held" {
		t.Errorf("after release, pruned %v, want [held]", got)
	}
}

// TestPut: a root installed in a work dir is filed by a move on the
// cache's filesystem, by a copy across filesystems, and not at all when a
// build's code put a symlink in its place.
func TestPut(t *testing.T) {
	tests := map[string]struct {
		workDir   string // "" for one beside the cache
		symlink   bool
		ok, moved bool
	}{
		"same filesystem":    {ok: true, moved: true},
		"across filesystems": {workDir: "/dev/shm", ok: true},
		"a symlink":          {symlink: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := &Cache{Dir: t.TempDir(), Keep: 2}
			parent := t.TempDir()
			if tc.workDir != "" {
				var err error
				if parent, err = os.MkdirTemp(tc.workDir, "fbs-test-"); err != nil {
					t.Skip(err)
				}
				defer os.RemoveAll(parent)
			}
			root := filepath.Join(parent, "root")
			if tc.symlink {
				os.Symlink(t.TempDir(), root)
			} else {
				os.MkdirAll(filepath.Join(root, "etc"), 0o755)
				os.WriteFile(filepath.Join(root, "etc", "marker"), []byte("installed"), 0o644)
				os.Symlink("/etc/passwd", filepath.Join(root, "etc", "link"))
				os.Chmod(root, 0o555)
			}
			e, moved, err := c.Put(context.Background(), "k", root)
			if tc.ok != (err == nil) {
				t.Fatalf("put: %v, want ok %v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			defer e.Release()
			if moved != tc.moved {
				t.Errorf("moved %v, want %v", moved, tc.moved)
			}
			if b, _ := os.ReadFile(filepath.Join(e.Path, "etc", "marker")); string(b) != "installed" {
				t.Errorf("filed root holds %q", b)
			}
			if l, _ := os.Readlink(filepath.Join(e.Path, "etc", "link")); l != "/etc/passwd" {
				t.Errorf("a symlink in the root was not kept as one: %q", l)
			}
			if st, _ := os.Stat(e.Path); st.Mode().Perm() != 0o555 {
				t.Errorf("filed root's mode %v", st.Mode())
			}
		})
	}
}

func TestKeysMostRecentFirst(t *testing.T) {
	c := &Cache{Dir: t.TempDir(), Keep: 3}
	old := time.Now().Add(-time.Hour)
	for i, key := range []string{"a", "b", "c"} {
		fill(t, c, key).Release()
		when := old.Add(time.Duration(i) * time.Minute)
		os.Chtimes(filepath.Join(c.Dir, key), when, when)
	}
	if _, err := c.Fill("d"); err != nil { // half-filled: not listed
		t.Fatal(err)
	}
	e, _ := c.Get("a") // used now
	e.Release()
	if got := c.Keys(); len(got) != 3 || got[0] != "a" || got[1] != "c" || got[2] != "b" {
		t.Errorf("keys %v, want [a c b]", got)
	}
}
