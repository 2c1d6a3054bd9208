//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fbs/internal/buildlog"
	"fbs/internal/demo"
	"fbs/internal/kojitest"
	"fbs/internal/runner"
)

// kojiServer serves two Koji builds made with rpmbuild: fbs-extra (a
// package the demo image would not install) and fbs-demo-release 2 (a
// newer build of a package the image installs anyway).
func kojiServer(t *testing.T) *kojitest.Server {
	t.Helper()
	var log bytes.Buffer
	out := t.TempDir()
	files, err := demo.BuildRPMs(context.Background(), runner.New(buildlog.New(&log)), t.TempDir(), out, []demo.RPM{
		{Name: "fbs-extra", Version: "1.0", Release: "1", Files: map[string]string{"/usr/share/fbs-extra/hello": "hello from Koji\n"}},
		{Name: "fbs-extra-debuginfo", Version: "1.0", Release: "1", Files: map[string]string{"/usr/lib/debug/fbs-extra": "debug\n"}},
		{Name: "fbs-demo-release", Version: "2", Release: "1", Requires: []string{"filesystem"},
			Files: map[string]string{"/etc/os-release": "NAME=\"fbs demo\"\nVERSION=\"2 (from Koji)\"\nID=fbs-demo\n", "/etc/issue": "fbs demo 2\n"}},
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	s := kojitest.New()
	t.Cleanup(s.Close)
	s.Add(kojitest.Build{ID: 1001, Name: "fbs-extra", Version: "1.0", Release: "1", State: 1, RPMs: files[:2]})
	s.Add(kojitest.Build{ID: 1002, Name: "fbs-demo-release", Version: "2", Release: "1", State: 1, RPMs: files[2:]})
	s.Add(kojitest.Build{ID: 1003, Name: "fbs-broken", Version: "1", Release: "1", State: 3})
	return s
}

// TestKojiPackagesInLiveAndBootImages: nvr= and bid= builds end up in the
// image, from the side repo, and a rebuild downloads nothing from Koji.
func TestKojiPackagesInLiveAndBootImages(t *testing.T) {
	s := kojiServer(t)
	t.Setenv("FBS_KOJI_HUB", s.Hub())
	t.Setenv("FBS_KOJI_TOPURL", s.TopURL())
	kojiCache := t.TempDir()
	work := t.TempDir()

	conf := request(t, "file://"+demoDir, "true", "")
	text, _ := os.ReadFile(conf)
	write(t, conf, strings.Replace(string(text), "[live]\n", "[live]\nnvr=fbs-extra-1.0-1;\nbid=1002\n", 1))
	res := fbs(t, "build", conf, "--cache", kojiCache, "--work", work, "--keep")
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	mustContain(t, "output", res.out, "  koji ", "2 build(s), 2 RPMs")
	roots, _ := filepath.Glob(filepath.Join(work, "*", "root"))
	if len(roots) != 1 {
		t.Fatalf("roots %v", roots)
	}
	if b, err := os.ReadFile(filepath.Join(roots[0], "usr/share/fbs-extra/hello")); err != nil || string(b) != "hello from Koji\n" {
		t.Errorf("fbs-extra not installed: %q %v", b, err)
	}
	if b, _ := os.ReadFile(filepath.Join(roots[0], "etc/os-release")); !strings.Contains(string(b), "from Koji") {
		t.Errorf("fbs-demo-release came from the demo repo, not Koji: %s", b)
	}
	if _, err := os.Stat(filepath.Join(roots[0], "usr/lib/debug/fbs-extra")); err == nil {
		t.Error("debuginfo was installed")
	}
	ks, _ := filepath.Glob(filepath.Join(work, "*", "FBS-Test.ks"))
	if b, _ := os.ReadFile(ks[0]); !strings.Contains(string(b), "repo --name=koji --baseurl=file://") {
		t.Errorf("the staged kickstart lacks the side repo:\n%s", b)
	}

	// The boot ISO takes the builds too; Koji's files come from the cache.
	downloads := s.Requests
	boot := demoRequest(t, "boot", "zstd", "nvr=fbs-extra-1.0-1 fbs-demo-release-2-1")
	bootWork := t.TempDir()
	res = fbs(t, "build", boot, "--cache", kojiCache, "--work", bootWork)
	if res.code != 0 {
		t.Fatalf("boot exit %d", res.code)
	}
	if s.Requests != downloads {
		t.Errorf("the second build downloaded %d files from Koji", s.Requests-downloads)
	}
	mustContain(t, "boot output", res.out, "  koji ", "9 packages")
	isos, _ := filepath.Glob(filepath.Join(bootWork, "*", "fbs-demo-1-x86_64.iso"))
	if len(isos) != 1 {
		t.Fatalf("boot ISO %v", isos)
	}
	img := filepath.Join(t.TempDir(), "install.img")
	if out, err := exec.Command("xorriso", "-osirrox", "on", "-indev", isos[0], "-extract", "/images/install.img", img).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	hello, _ := exec.Command("unsquashfs", "-cat", img, "usr/share/fbs-extra/hello").Output()
	osr, _ := exec.Command("unsquashfs", "-cat", img, "etc/os-release").Output()
	if string(hello) != "hello from Koji\n" || !strings.Contains(string(osr), "from Koji") {
		t.Errorf("install.img: fbs-extra %q, os-release %q", hello, osr)
	}
}

// TestKojiBadBuilds: a bad NVR or build id fails before any image work,
// naming the build and Koji's answer.
func TestKojiBadBuilds(t *testing.T) {
	s := kojiServer(t)
	s.FaultOn = "bad format"
	tests := map[string]struct {
		keys, hub, want string
		code            int
	}{
		"unknown nvr":  {"nvr=nope-1-1", s.Hub(), "koji build nope-1-1: Koji knows no such build", 2},
		"failed build": {"bid=1003", s.Hub(), "koji build 1003: fbs-broken-1-1 is FAILED, not COMPLETE", 2},
		"no rpms":      {"bid=1001;99", s.Hub(), "koji build 99: Koji knows no such build", 2},
		"hub down":     {"nvr=fbs-extra-1.0-1", "http://127.0.0.1:1/kojihub", "connection refused", 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			conf := request(t, "file://"+demoDir, "true", "")
			text, _ := os.ReadFile(conf)
			write(t, conf, strings.Replace(string(text), "[live]\n", "[live]\n"+tc.keys+"\n", 1))
			res := fbs(t, "build", conf, "--cache", t.TempDir(), "--work", t.TempDir(), "--koji-hub", tc.hub, "--koji-topurl", s.TopURL())
			if res.code != tc.code {
				t.Errorf("exit %d, want %d", res.code, tc.code)
			}
			mustContain(t, "output", res.out, tc.want)
			if strings.Contains(res.out, "  packages ") {
				t.Error("image work started")
			}
		})
	}
}
