package build

import (
	"testing"

	"fbs/internal/image"
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
