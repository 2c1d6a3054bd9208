package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"fbs/internal/image"
	"fbs/internal/rootcache"
	"fbs/internal/squashfs"
)

// Earlier images are reused only under the same compressor settings,
// whatever the paths and the number of processors.
func TestImageSettings(t *testing.T) {
	xz := imageSettings(image.MksquashfsArgs("/w1/root", "/w1/parts/root.img", "xz", "x86_64", 2))
	tests := map[string]struct {
		args []string
		same bool
	}{
		"other paths and processors": {image.MksquashfsArgs("/w2/root", "/w2/parts/root.img", "xz", "x86_64", 8), true},
		"without the x86 BCJ filter": {image.MksquashfsArgs("/w1/root", "/w1/parts/root.img", "xz", "aarch64", 2), false},
		"zstd":                       {image.MksquashfsArgs("/w1/root", "/w1/parts/root.img", "zstd,5", "x86_64", 2), false},
		"zstd at another level":      {image.MksquashfsArgs("/w1/root", "/w1/parts/root.img", "zstd,15", "x86_64", 2), false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := imageSettings(tt.args) == xz; got != tt.same {
				t.Errorf("same key as xz's: %v, want %v", got, tt.same)
			}
		})
	}
}

func TestNoReuse(t *testing.T) {
	tests := map[string]struct {
		fs, comp  string
		rootCache int
		reuse     bool
	}{
		"xz":             {"squashfs", "xz", 3, true},
		"zstd":           {"squashfs", "zstd,5", 3, true},
		"lz4":            {"squashfs", "lz4", 3, false},
		"root cache off": {"squashfs", "xz", 0, false},
		"erofs":          {"erofs", "lz4hc,12", 3, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			args := image.RootImageArgs(tt.fs, "/root", "/root.img", tt.comp, "x86_64", 2)
			if why := noReuse(tt.fs, args, tt.rootCache); (why == "") != tt.reuse {
				t.Errorf("noReuse %q, want reuse %v", why, tt.reuse)
			}
		})
	}
}

// A build reads Keep earlier images at most, and holds none of them
// locked while it files its own: the cache is pruned to Keep.
func TestOpenImagesLetsPrune(t *testing.T) {
	img, err := os.ReadFile(filepath.Join("..", "squashfs", "testdata", "small-zstd.img"))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		entries    int
		oldIndexes bool
		opened     int
	}{
		"none":                  {0, false, 0},
		"one":                   {1, false, 1},
		"five":                  {5, false, 2},
		"five of an old format": {5, true, 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cache := &rootcache.Cache{Dir: filepath.Join(t.TempDir(), "images"), Keep: imagesKept}
			for i := range tt.entries {
				dir := filepath.Join(t.TempDir(), "entry")
				os.Mkdir(dir, 0o700)
				os.WriteFile(filepath.Join(dir, "root.img"), img, 0o644)
				if tt.oldIndexes {
					os.WriteFile(filepath.Join(dir, "index.json"), []byte("{}"), 0o644)
				} else if err := squashfs.WriteIndex(filepath.Join(dir, "index.json"), squashfs.Index{}); err != nil {
					t.Fatal(err)
				}
				e, _, err := cache.Put(context.Background(), fmt.Sprint("build", i), dir)
				if err != nil {
					t.Fatal(err)
				}
				e.Release()
			}
			var logged []string
			cached, closeImages := openImages(cache, func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) })
			defer closeImages()
			if len(cached) != tt.opened {
				t.Errorf("opened %d images, want %d (%q)", len(cached), tt.opened, logged)
			}
			cache.Prune()
			if keys := cache.Keys(); len(keys) != min(tt.entries, cache.Keep) {
				t.Errorf("after pruning %d entries are left, want %d", len(keys), min(tt.entries, cache.Keep))
			}
			for _, c := range cached { // pruned or not, still readable
				if err := c.Image.Walk(func(string, squashfs.Data) error { return nil }); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// An unconfined build's image is not filed for others.
func TestNotFiled(t *testing.T) {
	tests := map[string]struct {
		opts  Options
		filed bool
	}{
		"confined":   {Options{}, true},
		"unconfined": {Options{Unconfined: true}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if why := notFiled(tt.opts); (why == "") != tt.filed {
				t.Errorf("notFiled %q, want filed %v", why, tt.filed)
			}
		})
	}
}
