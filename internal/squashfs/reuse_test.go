package squashfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
			dir := t.TempDir()
			root := filepath.Join(dir, "root")
			makeTree(t, root, 1)
			first := filepath.Join(dir, "first.img")
			mksquashfs(t, root, first, comp...)
			im, x := indexed(t, first, hashTree(t, root))
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
			out, h, st, x2 := reuseOnce(t, root, dir, []Cached{{im, x}}, comp)
			t.Logf("%+v", st)
			// Compressed anew: the 2 changed contents, and those whose
			// tails share a fragment block with a tail of a content gone.
			now := map[string]bool{}
			for _, sum := range h.Sums {
				now[sum] = true
			}
			gone := map[uint32]bool{}
			for sum, d := range x {
				if !now[sum] && d.HasFragment() {
					gone[d.Fragment] = true
				}
			}
			want := map[string]int64{}
			for rel, sum := range h.Sums {
				if d, ok := x[sum]; !ok || d.HasFragment() && gone[d.Fragment] {
					fi, _ := os.Lstat(filepath.Join(root, rel))
					want[sum] = fi.Size()
				}
			}
			var wantBytes int64
			for _, n := range want {
				wantBytes += n
			}
			if st.BesideN != len(want)-2 {
				t.Errorf("%d contents compressed for their tails' neighbours, want %d", st.BesideN, len(want)-2)
			}
			if st.CompressedN != len(want) || st.Compressed != wantBytes || st.ReusedN != st.Files-len(want) {
				t.Errorf("compressed %d contents, %d bytes, reused %d; want %d, %d bytes, %d", st.CompressedN, st.Compressed, st.ReusedN, len(want), wantBytes, st.Files-len(want))
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

// hashTree hashes root's files as a build does.
func hashTree(t *testing.T, root string) Hashes {
	t.Helper()
	h, err := HashTree(context.Background(), root, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// openImage opens an image for a test, closed when the test ends.
func openImage(t *testing.T, img string) *Image {
	t.Helper()
	im, err := Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { im.Close() })
	return im
}

// indexed opens the image img of a tree hashed as h and indexes it.
func indexed(t *testing.T, img string, h Hashes) (*Image, Index) {
	t.Helper()
	im := openImage(t, img)
	x, err := IndexOf(im, h)
	if err != nil {
		t.Fatal(err)
	}
	return im, x
}

// reuseOnce makes an image of root from the cached images' blocks and
// mksquashfs's (comp) of the rest, in dir; it returns the image, the
// tree's hashes, the stats and the new image's index.
func reuseOnce(t *testing.T, root, dir string, cached []Cached, comp []string) (string, Hashes, ReuseStats, Index) {
	t.Helper()
	h := hashTree(t, root)
	staging, err := os.MkdirTemp(dir, "staging")
	if err != nil {
		t.Fatal(err)
	}
	out := staging + ".img"
	r := Reuse{Root: root, Hashes: h, Cached: cached, Staging: staging, MkfsTime: time.Now(),
		Compress: func(ctx context.Context, dir, out string) error {
			mksquashfs(t, dir, out, comp...)
			return nil
		}}
	st, x, err := r.Write(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	return out, h, st, x
}

// TestReuseTakesNoOtherTails: an image made from an earlier one's
// blocks holds nothing of the earlier image's files the tree lacks,
// though a fragment block held their tails beside the tree's own. Each
// fragment block of the new image is exactly the tails of its files, and
// each file's data is its content.
func TestReuseTakesNoOtherTails(t *testing.T) {
	needSquashfsTools(t)
	const secret = "fbs-test-secret-token-7f3a9c"
	tests := map[string]struct {
		comp []string
		// chained: the earlier image is itself one the writer made from
		// mksquashfs's image of the first tree.
		chained bool
	}{
		"xz":                  {comp: []string{"-comp", "xz"}},
		"zstd":                {comp: []string{"-comp", "zstd", "-Xcompression-level", "5"}},
		"zstd, written image": {comp: []string{"-comp", "zstd", "-Xcompression-level", "5"}, chained: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "root")
			makeTree(t, root, 1)
			os.MkdirAll(filepath.Join(root, "etc"), 0o755)
			if err := os.WriteFile(filepath.Join(root, "etc/api-token"), []byte(secret+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			first := filepath.Join(dir, "first.img")
			mksquashfs(t, root, first, tt.comp...)
			h := hashTree(t, root)
			im, x := indexed(t, first, h)
			if tt.chained {
				os.WriteFile(filepath.Join(root, "etc/issue"), []byte("chained\n"), 0o644)
				img, h2, _, _ := reuseOnce(t, root, dir, []Cached{{im, x}}, tt.comp)
				im, x = indexed(t, img, h2)
			}
			// The secret's fragment block holds tails both trees have.
			tok := x[h.Sums["etc/api-token"]]
			shared := 0
			for sum, d := range x {
				if d.Fragment == tok.Fragment && sum != h.Sums["etc/api-token"] {
					shared++
				}
			}
			if !tok.HasFragment() || shared == 0 {
				t.Fatalf("the secret's tail shares no fragment block (%+v, %d others)", tok, shared)
			}
			if err := os.Remove(filepath.Join(root, "etc/api-token")); err != nil {
				t.Fatal(err)
			}
			out, h2, st, _ := reuseOnce(t, root, dir, []Cached{{im, x}}, tt.comp)
			t.Logf("%+v", st)
			if st.ReusedN == 0 || st.CompressedN < shared {
				t.Errorf("reused %d contents, compressed %d; want the %d beside the secret compressed, the rest reused", st.ReusedN, st.CompressedN, shared)
			}
			made := openImage(t, out)
			files, err := made.Files()
			if err != nil {
				t.Fatal(err)
			}
			tails := map[uint32][][2]uint64{} // fragment block -> its files' tails
			frags := map[uint32][]byte{}
			for i := range made.Super.Fragments {
				if frags[i], err = made.fragmentBlock(i); err != nil {
					t.Fatalf("fragment block %d: %v", i, err)
				}
			}
			for name, d := range files {
				// Its blocks, then its tail from the fragment block.
				tail := uint64(0)
				if d.HasFragment() {
					tail = d.Size % uint64(made.Super.BlockSize)
				}
				blocks := d
				blocks.Size, blocks.Fragment = d.Size-tail, noFragment
				b, err := made.content(blocks)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if f := frags[d.Fragment]; d.HasFragment() && uint64(d.FragOffset)+tail <= uint64(len(f)) {
					b = append(b, f[d.FragOffset:uint64(d.FragOffset)+tail]...)
				}
				if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != h2.Sums[name] {
					t.Errorf("%s: the image's data is not the file's", name)
				}
				if d.HasFragment() {
					tails[d.Fragment] = append(tails[d.Fragment], [2]uint64{uint64(d.FragOffset), uint64(d.FragOffset) + tail})
				}
			}
			for i, b := range frags {
				if bytes.Contains(b, []byte(secret)) {
					t.Errorf("fragment block %d holds the secret", i)
				}
				covered := make([]bool, len(b))
				for _, r := range tails[i] {
					for j := r[0]; j < r[1] && j < uint64(len(b)); j++ {
						covered[j] = true
					}
				}
				if j := slices.Index(covered, false); j >= 0 {
					t.Errorf("fragment block %d: byte %d of %d is no file's", i, j, len(b))
				}
			}
			raw, _ := os.ReadFile(out)
			if bytes.Contains(raw, []byte(secret)) {
				t.Error("the image holds the secret as stored")
			}
		})
	}
}

// An index of the format before fragment blocks were checked is not read:
// its image may hold other images' tails.
func TestReadIndex(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		text string
		ok   bool
	}{
		"current":        {`{"version":2,"files":{"ab":{"size":1,"start":96,"fragment":4294967295}}}`, true},
		"before version": {`{"ab":{"size":1,"start":96,"fragment":4294967295}}`, false},
		"later version":  {`{"version":3,"files":{}}`, false},
		"damaged":        {`{"version":2,"files":`, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			os.WriteFile(p, []byte(tt.text), 0o644)
			x, err := ReadIndex(p)
			if (err == nil) != tt.ok {
				t.Fatalf("ReadIndex: %v, want ok %v", err, tt.ok)
			}
			if tt.ok && x["ab"].Size != 1 {
				t.Errorf("index %+v", x)
			}
		})
	}
}

// A sparse file is copied to staging with its holes, and a cancelled
// build stops hashing and copying it.
func TestSparseAndCancel(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	os.Mkdir(root, 0o755)
	name := filepath.Join(root, "huge")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	const size = 2 << 30 // apparent; a few KiB real
	f.WriteAt([]byte("data in the middle"), 1<<30)
	f.WriteAt([]byte("and at the end"), size-14)
	f.Close()
	var st unix.Stat_t
	if err := unix.Stat(name, &st); err != nil || st.Blocks*512 > 1<<20 {
		t.Skipf("the filesystem keeps no holes (%v, %d blocks)", err, st.Blocks)
	}
	ctx := context.Background()
	sum, _, err := hashFile(ctx, name, make([]byte, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := map[string]struct {
		run  func(ctx context.Context, to string) error
		ctx  context.Context
		want string // in the error; "" for none
	}{
		"hash": {func(ctx context.Context, _ string) error {
			_, _, err := hashFile(ctx, name, make([]byte, 1<<20))
			return err
		}, cancelled, context.Canceled.Error()},
		"hash the tree": {func(ctx context.Context, _ string) error {
			_, err := HashTree(ctx, root, 2, nil)
			return err
		}, cancelled, context.Canceled.Error()},
		"copy, cancelled": {func(ctx context.Context, to string) error {
			return copyChecked(ctx, name, to, sum, size)
		}, cancelled, context.Canceled.Error()},
		"copy": {func(ctx context.Context, to string) error {
			return copyChecked(ctx, name, to, sum, size)
		}, ctx, ""},
		"copy of a changed file": {func(ctx context.Context, to string) error {
			return copyChecked(ctx, name, to, strings.Repeat("0", 64), size)
		}, ctx, "changed while the image was made"},
	}
	for tn, tt := range tests {
		t.Run(tn, func(t *testing.T) {
			to := filepath.Join(t.TempDir(), "copy")
			err := tt.run(tt.ctx, to)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err %v, want %q", err, tt.want)
				}
				if tt.ctx == cancelled && !errors.Is(err, context.Canceled) {
					t.Errorf("err %v is no context.Canceled", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var cp unix.Stat_t
			if err := unix.Stat(to, &cp); err != nil {
				t.Fatal(err)
			}
			if cp.Size != size || cp.Blocks*512 > 1<<20 {
				t.Errorf("the copy: %d bytes, %d allocated; want %d, a few KiB", cp.Size, cp.Blocks*512, size)
			}
			got, _, err := hashFile(ctx, to, make([]byte, 1<<20))
			if err != nil || got != sum {
				t.Errorf("the copy's sha256 %s (%v), want %s", got, err, sum)
			}
		})
	}
}
