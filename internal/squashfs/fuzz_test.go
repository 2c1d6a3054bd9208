package squashfs

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen reads damaged images: errors, never a panic or a hang.
// testdata/small-*.img are mksquashfs's images of a file, a directory
// and a symlink.
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"small-xz.img", "small-zstd.img"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "img")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		im, err := Open(p)
		if err != nil {
			return
		}
		defer im.Close()
		im.Walk(func(name string, d Data) error {
			if d.HasFragment() {
				im.Fragment(d.Fragment)
			}
			return nil
		})
	})
}
