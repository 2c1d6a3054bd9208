//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
