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
