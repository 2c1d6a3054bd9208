//go:build e2e

package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"fbs/internal/demo"
)

// TestReuseLiveISO_QEMU builds a live ISO with xz, then again after its
// %post changed: the second build's root image is made from the first's
// compressed blocks and mksquashfs's of the changed files. It must be the
// image mksquashfs makes of the same root (unsquashfs -lls, every file's
// sha256), and boot.
func TestReuseLiveISO_QEMU(t *testing.T) {
	cacheDir := t.TempDir() // no earlier image from other tests
	build := func(post string, boot ...string) (work, out string) {
		conf := request(t, "file://"+demoDir, post, "")
		text, _ := os.ReadFile(conf)
		write(t, conf, strings.Replace(string(text), "compression=zstd\n", "compression=xz\n", 1))
		work = t.TempDir()
		res := fbs(t, append([]string{"build", conf, "--cache", cacheDir, "--work", work, "--keep"}, boot...)...)
		if res.code != 0 {
			t.Fatalf("exit %d", res.code)
		}
		return work, res.out
	}
	_, out := build("echo first > /etc/issue")
	mustContain(t, "the first build's output", out, "no earlier image to reuse")
	work, out := build("echo second > /etc/issue", "--boot-test=bios", "--expect", demo.ExpectInstaller)
	mustContain(t, "the second build's output", out, "reused", "compressed")
	mustContain(t, "the second build's log", workLog(t, work), "reused from 1 earlier images")

	roots, _ := filepath.Glob(filepath.Join(work, "*", "root"))
	imgs, _ := filepath.Glob(filepath.Join(work, "*", "parts", "root.img"))
	if len(roots) != 1 || len(imgs) != 1 {
		t.Fatalf("roots %v, images %v", roots, imgs)
	}
	cold := filepath.Join(t.TempDir(), "cold.img")
	if out, err := exec.Command("mksquashfs", roots[0], cold, "-noappend", "-comp", "xz", "-Xbcj", "x86", "-quiet").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v\n%s", err, out)
	}
	if got, want := lls(t, imgs[0]), lls(t, cold); got != want {
		t.Errorf("unsquashfs -lls of the reused image differs from a cold image's:\n%s\n---\n%s", got, want)
	}
	if got, want := contents(t, imgs[0]), contents(t, cold); got != want {
		t.Errorf("the reused image's files differ from a cold image's:\n%s\n---\n%s", got, want)
	}
	if !strings.Contains(contents(t, imgs[0]), "etc/issue "+sum(strings.NewReader("second\n"))) {
		t.Error("the image lacks the new /etc/issue")
	}
}

// lls is unsquashfs -lls without its header.
func lls(t *testing.T, img string) string {
	t.Helper()
	out, err := exec.Command("unsquashfs", "-lls", "-n", img).CombinedOutput()
	if err != nil {
		t.Fatalf("unsquashfs -lls %s: %v\n%s", img, err, out)
	}
	_, list, _ := strings.Cut(string(out), "squashfs-root")
	return list
}

// contents is every regular file's path and sha256, extracted with
// unsquashfs.
func contents(t *testing.T, img string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "x")
	if out, err := exec.Command("unsquashfs", "-d", dir, "-n", img).CombinedOutput(); err != nil {
		t.Fatalf("unsquashfs %s: %v\n%s", img, err, out)
	}
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			f, _ := os.Open(p)
			defer f.Close()
			rel, _ := filepath.Rel(dir, p)
			b.WriteString(rel + " " + sum(f) + "\n")
		}
		return err
	})
	return b.String()
}

func sum(r io.Reader) string {
	h := sha256.New()
	io.Copy(h, r)
	return hex.EncodeToString(h.Sum(nil))
}

// TestReuseTakesNoOtherBuildsData: a build whose %post wrote a secret
// files its root image; a later build of the same packages, without the
// secret, reuses that image's blocks but none holding the secret (a
// fragment block holds many files' tails). Builds read and keep two
// earlier images, and an unconfined build files none.
func TestReuseTakesNoOtherBuildsData(t *testing.T) {
	cacheDir := t.TempDir()
	const secret = "TOKEN-OF-USER-A-e2e-5b1d77"
	build := func(post string, extra ...string) (log string, img string) {
		t.Helper()
		work := t.TempDir()
		res := fbs(t, append([]string{"build", request(t, "file://"+demoDir, post, ""), "--cache", cacheDir, "--work", work, "--keep"}, extra...)...)
		if res.code != 0 {
			t.Fatalf("exit %d", res.code)
		}
		imgs, _ := filepath.Glob(filepath.Join(work, "*", "parts", "root.img"))
		if len(imgs) != 1 {
			t.Fatalf("images %v", imgs)
		}
		return workLog(t, work), imgs[0]
	}
	filed := func() []string {
		t.Helper()
		entries, _ := filepath.Glob(filepath.Join(cacheDir, "images", "*", "*.complete"))
		return entries
	}
	_, a := build("echo " + secret + " > /etc/api-token\necho first > /etc/issue")
	if !bytes.Contains(zstdText(t, a), []byte(secret)) {
		t.Fatal("the scan finds no secret in the image of the build that wrote it")
	}
	log, b := build("echo second > /etc/issue")
	mustContain(t, "the second build's log", log, "reused from 1 earlier images")
	if bytes.Contains(zstdText(t, b), []byte(secret)) {
		t.Error("the second build's image holds the first build's secret")
	}
	if m := regexp.MustCompile(`(\d+) of (\d+) distinct file contents`).FindStringSubmatch(log); m == nil {
		t.Error("the log lacks the count of distinct contents reused")
	} else if n, _ := strconv.Atoi(m[1]); n == 0 || len(m[2]) < len(m[1]) || len(m[2]) == len(m[1]) && m[2] < m[1] {
		t.Errorf("%s of %s distinct contents reused", m[1], m[2])
	}
	build("echo third > /etc/issue")
	if got := filed(); len(got) != 2 {
		t.Errorf("after 3 builds the cache holds %d images, want 2: %v", len(got), got)
	}
	before := filed()
	log, _ = build("echo fourth > /etc/issue", "--confine=false")
	mustContain(t, "the unconfined build's log", log, "reused from 2 earlier images", "not kept for later builds: the build is unconfined")
	if got := filed(); strings.Join(got, " ") != strings.Join(before, " ") {
		t.Errorf("an unconfined build changed the cached images: %v, were %v", got, before)
	}
}

// zstdText is an image's bytes as stored and every zstd frame in it
// (data and fragment blocks, metadata) decompressed.
func zstdText(t *testing.T, img string) []byte {
	t.Helper()
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	all := bytes.Clone(b)
	magic := []byte{0x28, 0xb5, 0x2f, 0xfd}
	for i := 0; ; i += 4 {
		j := bytes.Index(b[i:], magic)
		if j < 0 {
			break
		}
		i += j
		if err := dec.Reset(bytes.NewReader(b[i:])); err != nil {
			continue
		}
		// A frame ends where the next block's bytes begin: its error.
		out, _ := io.ReadAll(io.LimitReader(dec, 2<<20))
		all = append(all, out...)
	}
	return all
}
