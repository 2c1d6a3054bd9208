//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"fbs/internal/demo"
)

// TestDVD_QEMU builds the demo DVD with a Koji build on it, boots it with
// BIOS and UEFI, and installs from the repository on it with dnf, groups
// included.
func TestDVD_QEMU(t *testing.T) {
	s := kojiServer(t)
	t.Setenv("FBS_KOJI_HUB", s.Hub())
	t.Setenv("FBS_KOJI_TOPURL", s.TopURL())
	staging := t.TempDir()
	// bid= in [DEFAULT] reaches [dvd], as ConfigParser had it.
	conf := demoRequest(t, "dvd", "zstd", "staging=file://"+staging+"\nbid=1001")
	res := fbs(t, "build", conf, "--cache", cache, "--work", t.TempDir(), "--boot-test", "--expect", demo.ExpectInstaller)
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	isos, _ := filepath.Glob(filepath.Join(staging, "fbs-demo-Everything-dvd-x86_64-1-*.iso"))
	if len(isos) != 1 {
		t.Fatalf("staged ISOs %v", isos)
	}
	out, _ := exec.Command("xorriso", "-indev", isos[0], "-pvd_info", "-find", "/", "-type", "f").CombinedOutput()
	// Every RPM of the Koji build is on the DVD, whether the kickstart asked for it or not.
	mustContain(t, "DVD", string(out), "Volume Id    : fbs-demo-Everything-dvd-x86_64-1", "'/Packages/b/busybox-", "'/Packages/k/kernel-",
		"'/Packages/f/fbs-extra-1.0-1.x86_64.rpm'",
		"'/repodata/repomd.xml'", "'/media.repo'", "'/.treeinfo'", "'/.discinfo'", "'/images/install.img'")

	dvd := t.TempDir()
	if out, err := exec.Command("mount", "-o", "loop,ro", isos[0], dvd).CombinedOutput(); err == nil {
		defer exec.Command("umount", dvd).Run()
	} else {
		t.Logf("no loop mount here (%s); reading the DVD with xorriso", out)
		if out, err := exec.Command("xorriso", "-osirrox", "on", "-indev", isos[0], "-extract", "/", dvd).CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	ti, _ := os.ReadFile(filepath.Join(dvd, ".treeinfo"))
	sum := sha256File(t, filepath.Join(dvd, "images/install.img"))
	mustContain(t, ".treeinfo", string(ti), "[variant-Everything]", "packages = Packages", "type = productmd.treeinfo",
		"images/install.img = sha256:"+sum)
	mr, _ := os.ReadFile(filepath.Join(dvd, "media.repo"))
	mustContain(t, "media.repo", string(mr), "[InstallMedia]", "metadata_expire=-1")

	root := t.TempDir()
	cmd := exec.Command("dnf", "-y", "--installroot="+root, "--releasever=1", "--forcearch=x86_64", "--noplugins",
		"--setopt=reposdir=/dev/null", "--setopt=cachedir="+t.TempDir(), "--repofrompath=dvd,file://"+dvd, "--setopt=dvd.gpgcheck=0",
		"install", "@core", "@live-boot", "fbs-extra")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dnf from the DVD: %v\n%s", err, out)
	}
	for _, f := range []string{"sbin/init", "usr/share/fbs-extra/hello"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("not installed from the DVD: %v", err)
		}
	}
	mustContain(t, "output", res.out, "  gather ", "  repo ", "comps from repo fbs-demo", "boot-uefi")
}
