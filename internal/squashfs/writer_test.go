package squashfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"fbs/internal/fbstest"
)

func needSquashfsTools(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("mksquashfs")
	_, err2 := exec.LookPath("unsquashfs")
	fbstest.Need(t, err == nil && err2 == nil, "mksquashfs and unsquashfs", "apt-get install squashfs-tools")
}

// makeTree writes a tree with every kind of file the writer handles:
// small files (fragments), files of one and more blocks, a sparse one,
// an empty one, hard links, symlinks, a fifo, devices and other owners
// (as root), xattrs, a directory large enough for an index, and times.
func makeTree(t *testing.T, dir string, seed uint64) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 1))
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.IntN(16)) // compressible, not trivially
		}
		return b
	}
	write("empty", nil)
	write("small", []byte("hello\n"))
	write("bin/one-block", random(128<<10))
	write("bin/blocks-and-tail", random(300<<10+17))
	write("usr/share/doc/readme", random(5000))
	write("usr/share/doc/same-as-readme", nil)
	copyFile(t, filepath.Join(dir, "usr/share/doc/readme"), filepath.Join(dir, "usr/share/doc/same-as-readme"))
	sparse := make([]byte, 400<<10)
	copy(sparse[300<<10:], random(1000))
	write("var/sparse", sparse)
	for i := range 300 { // an extended directory without an index
		write(fmt.Sprintf("many/f%03d", i), []byte{byte(i)})
	}
	for i := range 3000 {
		write(fmt.Sprintf("big/entry-with-a-longish-name-%05d", i), random(rnd.IntN(200)))
	}
	for name, target := range map[string]string{"lib": "usr/lib", "bin/dangling": "/nowhere", "usr/share/doc/up": "../../.."} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(filepath.Join(dir, "bin/one-block"), filepath.Join(dir, "bin/hardlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "small"), filepath.Join(dir, "usr/small-link")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "empty-dir"), 0o700)
	if err := os.Chmod(filepath.Join(dir, "bin/one-block"), 0o4755); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct{ name, attr, value string }{
		{"small", "user.fbs", "one"},
		{"bin", "user.fbs", "one"},
		{"lib", "trusted.fbs", "link"},
		{"usr/share/doc/readme", "security.selinux", "system_u:object_r:usr_t:s0\x00"},
	} {
		if err := unix.Lsetxattr(filepath.Join(dir, x.name), x.attr, []byte(x.value), 0); err != nil {
			t.Fatalf("xattr %s on %s: %v", x.attr, x.name, err)
		}
	}
	if os.Geteuid() == 0 {
		if err := unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mknod(filepath.Join(dir, "loop300"), unix.S_IFBLK|0o660, int(unix.Mkdev(7, 300))); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(filepath.Join(dir, "usr/share"), 1000, 100); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(filepath.Join(dir, "lib"), 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	when := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		when = when.Add(time.Minute)
		return unix.Lutimes(p, []unix.Timeval{unix.NsecToTimeval(when.UnixNano()), unix.NsecToTimeval(when.UnixNano())})
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mksquashfs(t *testing.T, dir, out string, comp ...string) {
	t.Helper()
	args := append([]string{dir, out, "-noappend", "-quiet", "-processors", "2"}, comp...)
	if out, err := exec.Command("mksquashfs", args...).CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// listing is unsquashfs -lls: names, modes, owners, sizes, times, link
// targets and device numbers.
func listing(t *testing.T, img string) string {
	t.Helper()
	out, err := exec.Command("unsquashfs", "-lls", "-n", img).CombinedOutput()
	if err != nil {
		t.Fatalf("unsquashfs -lls %s: %v\n%s", img, err, out)
	}
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "squashfs-root") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// sameTree compares two trees' file contents, symlink targets and xattrs.
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	n := 0
	err := filepath.Walk(want, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		q := filepath.Join(got, rel)
		n++
		switch {
		case fi.Mode().IsRegular():
			a, _ := os.ReadFile(p)
			b, err := os.ReadFile(q)
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%s: contents differ (%v)", rel, err)
			}
		case fi.Mode()&os.ModeSymlink != 0:
			a, _ := os.Readlink(p)
			b, _ := os.Readlink(q)
			if a != b {
				t.Errorf("%s: links to %q, want %q", rel, b, a)
			}
		}
		if a, b := xattrs(p), xattrs(q); a != b {
			t.Errorf("%s: xattrs %q, want %q", rel, b, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 3000 {
		t.Fatalf("compared only %d files", n)
	}
}

func xattrs(p string) string {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if strings.HasPrefix(name, "user.") || strings.HasPrefix(name, "trusted.") || strings.HasPrefix(name, "security.") {
			v := make([]byte, 4096)
			m, _ := unix.Lgetxattr(p, name, v)
			out = append(out, name+"="+string(v[:max(m, 0)]))
		}
	}
	return strings.Join(out, ",")
}

// fromImages says where each file's data is: in the first of the images
// that has a file of that path.
func fromImages(t *testing.T, images ...*Image) func(string) (FileData, error) {
	t.Helper()
	var files []map[string]Data
	for _, im := range images {
		f, err := im.Files()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return func(name string) (FileData, error) {
		for i, f := range files {
			if d, ok := f[name]; ok {
				return FileData{images[i], d}, nil
			}
		}
		return FileData{}, fmt.Errorf("%s: in no image", name)
	}
}

func TestWriteSameAsMksquashfs(t *testing.T) {
	needSquashfsTools(t)
	tests := map[string][]string{
		"xz with x86 BCJ": {"-comp", "xz", "-Xbcj", "x86"},
		"zstd level 5":    {"-comp", "zstd", "-Xcompression-level", "5"},
		"gzip":            {"-comp", "gzip"},
	}
	for name, comp := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "root")
			makeTree(t, root, 1)
			cold := filepath.Join(dir, "cold.img")
			mksquashfs(t, root, cold, comp...)
			im := openImage(t, cold)
			out := filepath.Join(dir, "new.img")
			st, err := Write(context.Background(), root, out, Options{Like: im, MkfsTime: time.Now(), Data: fromImages(t, im)})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := listing(t, out), listing(t, cold); got != want {
				t.Errorf("unsquashfs -lls differs:\n%s", diffLines(want, got))
			}
			t.Logf("%d inodes, %d bytes copied", st.Inodes, st.Copied)
			sameInodes(t, im, out)
			extract := filepath.Join(dir, "x")
			if out, err := exec.Command("unsquashfs", "-d", extract, "-n", out).CombinedOutput(); err != nil {
				t.Fatalf("unsquashfs: %v\n%s", err, out)
			}
			sameTree(t, root, extract)
			mountAndCompare(t, out, root)
			// The writer reads its own images.
			again := openImage(t, out)
			if _, err := again.Files(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := 0; i < max(len(w), len(g)) && len(out) < 20; i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			out = append(out, "- "+a, "+ "+b)
		}
	}
	return strings.Join(out, "\n")
}

// mountAndCompare mounts an image as the kernel does a live root's, and
// compares it with the tree it was made of.
func mountAndCompare(t *testing.T, img, root string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Log("not root: the image is not mounted")
		return
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "squashfs", "-o", "loop,ro", img, mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount %s: %v\n%s", img, err, out)
	}
	defer exec.Command("umount", mnt).Run()
	sameTree(t, root, mnt)
	// A name past the directory index's first entry is found.
	if _, err := os.Stat(filepath.Join(mnt, "big/entry-with-a-longish-name-02999")); err != nil {
		t.Error(err)
	}
}

// sameInodes compares each path's inode type and number in an image with
// mksquashfs's: the inode table's layout, and so where a directory's
// listing needs a new header, follows from them.
func sameInodes(t *testing.T, cold *Image, img string) {
	t.Helper()
	im := openImage(t, img)
	want, err := cold.inodeList()
	if err != nil {
		t.Fatal(err)
	}
	got, err := im.inodeList()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("inode types or numbers differ from mksquashfs's:\n%s", diffLines(want, got))
	}
}

// An image holds 65535 distinct uids and gids; a tree of more is an
// error, not an image whose id count wrapped round (mksquashfs: "Out of
// uids!").
func TestWriteTooManyIDs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	like := openImage(t, filepath.Join("testdata", "small-zstd.img"))
	empty := func(string) (FileData, error) { return FileData{like, Data{Fragment: noFragment}}, nil }
	tests := map[string]struct {
		ids  int // the root dir's 0 and the files' uids and gids
		fail bool
	}{
		"65535": {65535, false},
		"65537": {65537, true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "root")
			os.Mkdir(root, 0o755)
			for i := 1; i < tt.ids; i += 2 {
				p := filepath.Join(root, fmt.Sprint(i))
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Lchown(p, i, min(i+1, tt.ids-1)); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(dir, "out.img")
			_, err := Write(context.Background(), root, out, Options{Like: like, MkfsTime: time.Now(), Data: empty})
			if tt.fail {
				if !errors.Is(err, ErrTooManyIDs) {
					t.Fatalf("Write: %v, want ErrTooManyIDs", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			im := openImage(t, out)
			if im.Super.IDs != uint16(tt.ids) {
				t.Errorf("%d ids, want %d", im.Super.IDs, tt.ids)
			}
		})
	}
}

// The kernel reads the writer's full metadata blocks where one ends just
// past a page. Its zstd_wrapper stops with EIO ("zstd decompression
// failed, data probably corrupt") where a block's output is full and the
// frame's end is still on the next page: the writer's zstd frames carry
// no content checksum, as mksquashfs's (libzstd's default) do not.
func TestMetadataAcrossPages(t *testing.T) {
	needSquashfsTools(t)
	// A file of random bytes is stored as it is: each byte more of it
	// moves the tables one byte on.
	pad := make([]byte, 8192)
	rand.NewChaCha8([32]byte{}).Read(pad)
	for _, comp := range []string{"zstd", "xz", "gzip"} {
		t.Run(comp, func(t *testing.T) {
			for n, tries := 0, 0; tries < 50; tries++ {
				dir := t.TempDir()
				root := filepath.Join(dir, "root")
				makeTree(t, root, 1)
				if err := os.WriteFile(filepath.Join(root, "pad"), pad[:n], 0o644); err != nil {
					t.Fatal(err)
				}
				cold := filepath.Join(dir, "cold.img")
				mksquashfs(t, root, cold, "-comp", comp, "-no-fragments")
				like := openImage(t, cold)
				out := filepath.Join(dir, "new.img")
				if _, err := Write(context.Background(), root, out, Options{Like: like, MkfsTime: time.Now(), Data: fromImages(t, like)}); err != nil {
					t.Fatal(err)
				}
				past := fullBlockPast(t, openImage(t, out), comp)
				if past >= 1 && past <= 16 {
					t.Logf("a %d-byte pad puts a full block's last %d bytes on the next page", n, past)
					mountAndCompare(t, out, root)
					return
				}
				// The first full block's end moves on with the pad, give or
				// take what its own compression changes.
				n += max(1, (4096+4-past)%4096-4)
			}
			t.Fatal("no pad put a full metadata block's end just past a page")
		})
	}
}

// fullBlockPast is how far past a page the image's first full compressed
// metadata block ends, and checks that no zstd frame has a checksum.
func fullBlockPast(t *testing.T, im *Image, comp string) int {
	t.Helper()
	past := -1
	for pos := im.Super.InodeTable; pos < im.Super.FragmentTable; {
		raw, data, next, err := im.readBlockRaw(pos)
		if err != nil {
			t.Fatal(err)
		}
		if raw[1]&0x80 == 0 {
			// A zstd frame header's descriptor follows the 4-byte magic.
			if comp == "zstd" && raw[2+4]&0x04 != 0 {
				t.Fatalf("the metadata block at %d has a content checksum", pos)
			}
			if len(data) == metaSize && past < 0 {
				past = int(next % 4096)
			}
		}
		pos = next
	}
	if past < 0 {
		t.Fatal("no full compressed metadata block; the tree is too small to tell")
	}
	return past
}
