//go:build e2e

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fbs/internal/demo"
)

// TestErofsLiveISO_QEMU builds the demo live ISO with rootfs=erofs, as
// Fedora 42+ live media are made: the root image is EROFS, still at
// LiveOS/squashfs.img (kiwi's name, which dracut's dmsquash-live reads
// whatever its filesystem), with the same kernel arguments. It checks
// the layout and the image's contents, and boots it with BIOS.
func TestErofsLiveISO_QEMU(t *testing.T) {
	if _, err := exec.LookPath("mkfs.erofs"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("mkfs.erofs missing (apt-get install erofs-utils; make deps installs it)")
		}
		t.Skip("mkfs.erofs missing (apt-get install erofs-utils)")
	}
	// The busybox chain's initramfs mounts the root image by its
	// filesystem, as dracut 103's dmsquash-live does; the dracut chain's
	// Debian dracut 059 mounts squashfs only.
	conf := request(t, "file://"+demoDir, "echo erofs > /etc/issue", "")
	text, _ := os.ReadFile(conf)
	write(t, conf, strings.Replace(string(text), "compression=zstd\n", "rootfs=erofs\n", 1))
	work := t.TempDir()
	res := fbs(t, "build", conf, "--cache", cache, "--work", work, "--keep", "--boot-test=bios",
		"--expect", demo.ExpectInstaller)
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	mustContain(t, "output", res.out, "  erofs ", "lz4hc level 12")
	if strings.Contains(res.out, "  squashfs ") {
		t.Error("a squashfs stage ran for rootfs=erofs")
	}

	logs, _ := filepath.Glob(filepath.Join(work, "*", "build.log"))
	if len(logs) != 1 {
		t.Fatalf("build logs %v", logs)
	}
	log, _ := os.ReadFile(logs[0])
	mustContain(t, "build log", string(log), "erofs: lz4hc level 12 compression", "fbs-initramfs: mounted LiveOS/squashfs.img (erofs)")

	isos, _ := filepath.Glob(filepath.Join(work, "*", "*.iso"))
	if len(isos) != 1 {
		t.Fatalf("ISOs %v", isos)
	}
	files, _ := exec.Command("xorriso", "-indev", isos[0], "-find", "/", "-type", "f").CombinedOutput()
	for _, want := range []string{"'/LiveOS/squashfs.img'", "'/images/pxeboot/vmlinuz'", "'/images/pxeboot/initrd.img'", "'/boot/grub2/grub.cfg'"} {
		mustContain(t, "ISO file list", string(files), want)
	}
	img := filepath.Join(t.TempDir(), "squashfs.img")
	if out, err := exec.Command("xorriso", "-osirrox", "on", "-indev", isos[0], "-extract", "/LiveOS/squashfs.img", img).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// EROFS's magic, 0xE0F5E1E2 little-endian, at 1024 bytes.
	head := make([]byte, 1028)
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(head, 0); err != nil || !bytes.Equal(head[1024:], []byte{0xe2, 0xe1, 0xf5, 0xe0}) {
		t.Errorf("LiveOS/squashfs.img is not EROFS: % x (%v)", head[1024:], err)
	}
	cfgPath := filepath.Join(t.TempDir(), "grub.cfg")
	if out, err := exec.Command("xorriso", "-osirrox", "on", "-indev", isos[0], "-extract", "/boot/grub2/grub.cfg", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cfg, _ := os.ReadFile(cfgPath)
	mustContain(t, "grub.cfg", string(cfg), "root=live:CDLABEL=FBS-Test", "rd.live.image")

	// The image holds the root as installed: compare a file with the root.
	roots, _ := filepath.Glob(filepath.Join(work, "*", "root"))
	if len(roots) != 1 {
		t.Fatalf("roots %v", roots)
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "erofs", "-o", "loop,ro", img, mnt).CombinedOutput(); err != nil {
		t.Logf("no EROFS mount here (%v: %s); the boot test read it", err, out)
		return
	}
	defer exec.Command("umount", mnt).Run()
	want, _ := os.ReadFile(filepath.Join(roots[0], "etc/os-release"))
	got, err := os.ReadFile(filepath.Join(mnt, "etc/os-release"))
	if err != nil || !bytes.Equal(got, want) || len(want) == 0 {
		t.Errorf("etc/os-release in the image %q (%v), in the root %q", got, err, want)
	}
	if _, err := os.Stat(filepath.Join(mnt, "LiveOS")); err == nil {
		t.Error("the root image has a top-level /LiveOS")
	}
}
