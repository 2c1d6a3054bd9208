package squashfs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReuse makes an image of a tree, changes the tree as a changed
// package or %post would, and makes the next image from the first's
// blocks and the changed files': it must be the image mksquashfs makes of
// the changed tree.
func TestReuse(t *testing.T) {
	needSquashfsTools(t)
	tests := map[string][]string{
		"xz with x86 BCJ": {"-comp", "xz", "-Xbcj", "x86"},
		"zstd level 5":    {"-comp", "zstd", "-Xcompression-level", "5"},
	}
	for name, comp := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			root := filepath.Join(dir, "root")
			makeTree(t, root, 1)
			first := filepath.Join(dir, "first.img")
			mksquashfs(t, root, first, comp...)
			h, err := HashTree(ctx, root, 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			im, err := Open(first)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			x, err := IndexOf(im, h)
			if err != nil {
				t.Fatal(err)
			}
			// A package's files change, come and go; %post writes one.
			for _, c := range []struct{ name, data string }{
				{"bin/blocks-and-tail", "a new version\n"},
				{"etc/issue", "second\n"},
				{"usr/share/doc/moved-readme", ""},
			} {
				p := filepath.Join(root, c.name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if c.data == "" {
					copyFile(t, filepath.Join(root, "usr/share/doc/readme"), p)
				} else if err := os.WriteFile(p, []byte(c.data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Remove(filepath.Join(root, "big/entry-with-a-longish-name-00007")); err != nil {
				t.Fatal(err)
			}
			if err := unix.Lsetxattr(filepath.Join(root, "small"), "user.fbs", []byte("two"), 0); err != nil {
				t.Fatal(err)
			}
			if h, err = HashTree(ctx, root, 2, nil); err != nil {
				t.Fatal(err)
			}
			staging := filepath.Join(dir, "staging")
			os.Mkdir(staging, 0o700)
			out := filepath.Join(dir, "second.img")
			r := Reuse{Root: root, Hashes: h, Cached: []Cached{{im, x}}, Staging: staging, MkfsTime: time.Now(),
				Compress: func(ctx context.Context, dir, out string) error {
					mksquashfs(t, dir, out, comp...)
					return nil
				}}
			st, x2, err := r.Write(ctx, out)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", st)
			if st.CompressedN != 2 || st.Compressed != int64(len("a new version\nsecond\n")) {
				t.Errorf("compressed %d files, %d bytes; want the 2 changed ones", st.CompressedN, st.Compressed)
			}
			if err := h.Unchanged(root); err != nil {
				t.Error(err)
			}
			if len(x2) != st.Files {
				t.Errorf("the new index has %d contents, the tree %d", len(x2), st.Files)
			}
			cold := filepath.Join(dir, "cold.img")
			mksquashfs(t, root, cold, comp...)
			if got, want := listing(t, out), listing(t, cold); got != want {
				t.Errorf("unsquashfs -lls differs:\n%s", diffLines(want, got))
			}
			extract := filepath.Join(dir, "x")
			if out, err := exec.Command("unsquashfs", "-d", extract, "-n", out).CombinedOutput(); err != nil {
				t.Fatalf("unsquashfs: %v\n%s", err, out)
			}
			sameTree(t, root, extract)
			mountAndCompare(t, out, root)
			if err := os.WriteFile(filepath.Join(root, "etc/issue"), []byte("third\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := h.Unchanged(root); err == nil || !strings.Contains(err.Error(), "etc/issue") {
				t.Errorf("a file written after hashing: %v", err)
			}
		})
	}
}
