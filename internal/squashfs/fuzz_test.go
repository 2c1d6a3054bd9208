package squashfs

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
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
		for _, damage := range damaged {
			c := bytes.Clone(b)
			damage(c)
			f.Add(c)
		}
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

// damaged are superblock changes that a reader must refuse before it
// divides by the block size or allocates by a count.
var damaged = map[string]func(b []byte){
	"block size 0":     func(b []byte) { binary.LittleEndian.PutUint32(b[12:], 0) },
	"block size 3 KiB": func(b []byte) { binary.LittleEndian.PutUint32(b[12:], 3<<10) },
	"block size 2 MiB": func(b []byte) {
		binary.LittleEndian.PutUint32(b[12:], 2<<20)
		binary.LittleEndian.PutUint16(b[22:], 21)
	},
	"block log wrong":     func(b []byte) { binary.LittleEndian.PutUint16(b[22:], 12) },
	"2^32-1 fragments":    func(b []byte) { binary.LittleEndian.PutUint32(b[16:], 1<<32-1) },
	"bytes used past end": func(b []byte) { binary.LittleEndian.PutUint64(b[40:], 1<<40) },
	"inode table last":    func(b []byte) { binary.LittleEndian.PutUint64(b[64:], 1<<40) },
}

func TestOpenDamaged(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "small-zstd.img"))
	if err != nil {
		t.Fatal(err)
	}
	for name, damage := range damaged {
		t.Run(name, func(t *testing.T) {
			c := bytes.Clone(b)
			damage(c)
			p := filepath.Join(t.TempDir(), "img")
			os.WriteFile(p, c, 0o644)
			if im, err := Open(p); err == nil {
				im.Close()
				t.Fatal("opened")
			} else if !strings.Contains(err.Error(), "superblock") {
				t.Errorf("error %v, not the superblock's", err)
			}
		})
	}
}

// An index entry is taken only where a file of its image has the data it
// names.
func TestReusableChecksIndex(t *testing.T) {
	im := openImage(t, filepath.Join("testdata", "small-zstd.img"))
	files, err := im.Files()
	if err != nil || len(files) != 2 {
		t.Fatalf("files %v: %v", files, err)
	}
	a, b := files["a"], files["d/b"] // tails in one fragment block
	past := a
	past.Start, past.Blocks = 1<<40, []uint32{1}
	tests := map[string]struct {
		d     Data // "sum"'s
		other bool // whether "other", d/b's, is wanted too
		take  bool
	}{
		"a file's":               {a, true, true},
		"beside an unwanted one": {a, false, false},
		"past the image's end":   {past, true, false},
		"another size":           {Data{Size: a.Size + 1, Start: a.Start, Fragment: a.Fragment, FragOffset: a.FragOffset}, true, false},
		"the superblock":         {Data{Size: 96, Blocks: []uint32{96 | blockRaw}, Fragment: noFragment}, true, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			want := map[string]int64{"sum": int64(tt.d.Size)}
			if tt.other {
				want["other"] = int64(b.Size)
			}
			got, _, err := reusable(Cached{im, Index{"sum": tt.d, "other": b}}, want)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got["sum"]; ok != tt.take {
				t.Errorf("taken %v, want %v", ok, tt.take)
			}
		})
	}
}
