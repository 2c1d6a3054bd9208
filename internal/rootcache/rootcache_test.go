package rootcache

import (
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
