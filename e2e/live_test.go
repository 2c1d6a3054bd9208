//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fbs/internal/build"
	"fbs/internal/demo"
)

// TestLiveISO_QEMU builds the demo live ISO with Fedora's xz compression,
// stages it to a folder, and boots it with BIOS and UEFI.
func TestLiveISO_QEMU(t *testing.T) {
	staging := filepath.Join(t.TempDir(), "staging")
	conf := demoRequest(t, "live", "xz", "staging=file://"+staging+"\nemail=qa@example.org")
	// The installed system's commands, as Fedora's kickstarts write them.
	ksPath := filepath.Join(filepath.Dir(conf), "demo.ks")
	ks, _ := os.ReadFile(ksPath)
	write(t, ksPath, strings.NewReplacer(
		"lang en_US.UTF-8", "lang de_DE.UTF-8 # the image's language",
		"timezone UTC", "timezone Europe/Berlin --utc\nnetwork --hostname=fbs-live.example.org\nservices --enabled=sshd,chronyd",
		"rootpw --lock", "rootpw --plaintext "+rootPassword+"\nzerombr\nclearpart --all --initlabel",
	).Replace(string(ks)))
	work := t.TempDir()
	// No root cache: this build runs every tool, dnf included.
	res := fbs(t, "build", conf, "--cache", cache, "--work", work, "--root-cache=0", "--boot-test=bios,uefi", "--expect", demo.Expect)
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	for _, stage := range []string{"kickstart", "packages", "system", "post", "initramfs", "squashfs", "bootloader", "iso", "boot-bios", "boot-uefi", "manifest", "publish"} {
		if !regexp.MustCompile(`(?m)^  ` + stage + ` +\d+\.\ds  `).MatchString(res.out) {
			t.Errorf("no progress line for stage %s", stage)
		}
	}

	staged := map[string]string{}
	entries, _ := os.ReadDir(staging)
	nameRe := regexp.MustCompile(`^FBS-Demo-Live-\d{8}-\d{6}(\.iso|\.log|-CHECKSUM|\.manifest\.json|\.ks)$`)
	for _, e := range entries {
		m := nameRe.FindStringSubmatch(e.Name())
		if m == nil {
			t.Errorf("unexpected staged file %s", e.Name())
			continue
		}
		staged[m[1]] = filepath.Join(staging, e.Name())
	}
	if len(staged) != 5 {
		t.Fatalf("staged %v, want the ISO, log, CHECKSUM, manifest and kickstart", staged)
	}
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Errorf("work dir not cleaned after staging: %v", left)
	}

	iso := staged[".iso"]
	sum := sha256File(t, iso)
	checksum, _ := os.ReadFile(staged["-CHECKSUM"])
	mustContain(t, "CHECKSUM", string(checksum), fmt.Sprintf("SHA256 (%s) = %s", filepath.Base(iso), sum))

	var m build.Manifest
	data, _ := os.ReadFile(staged[".manifest.json"])
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var nevras []string
	for _, p := range m.Packages {
		nevras = append(nevras, p.NEVRA)
		if len(p.SHA256Header) != 64 {
			t.Errorf("package %s has header sha256 %q", p.NEVRA, p.SHA256Header)
		}
		if file := filepath.Join(demoDir, "Packages", p.NEVRA+".rpm"); p.SHA256 != sha256File(t, file) {
			t.Errorf("package %s: manifest sha256 %q is not that of %s", p.NEVRA, p.SHA256, file)
		}
	}
	mustContain(t, "manifest packages", strings.Join(nevras, " "), "kernel-", "busybox-", "grub2-efi-x64-cdboot-", "fbs-demo-release-")
	if len(m.BootTests) != 2 || m.BootTests[0].Line != demo.Expect || m.BootTests[1].Firmware != "uefi" {
		t.Errorf("manifest boot tests %+v", m.BootTests)
	}
	if m.Artifacts[0].SHA256 != sum || m.Tools["xorrisofs"] == "" || len(m.Stages) < 9 || m.Repos[0].BaseURL != "file://"+demoDir {
		t.Errorf("manifest %+v", m)
	}
	log, _ := os.ReadFile(staged[".log"])
	mustContain(t, "build log", string(log), "$ /usr/bin/dnf -y --installroot=", "$ /usr/bin/mksquashfs ", "$ /usr/bin/xorrisofs ",
		"kickstart: ignored", "zerombr does not apply to an image build", "fbs-initramfs: switching to the root", "build "+m.ID+" succeeded",
		"system: lang: wrote /etc/locale.conf", "system: services --enabled: not applied: the image has no systemctl",
		"system: rootpw: not applied: the image has no /etc/passwd")
	if strings.Contains(string(log), rootPassword) {
		t.Error("the build log holds the root password")
	}
	mustContain(t, "output", res.out, "email to qa@example.org not sent: no SMTP server (--smtp-host)")

	checkISOLayout(t, iso)
}

// checkISOLayout reads the ISO back with xorriso and unsquashfs.
func checkISOLayout(t *testing.T, iso string) {
	out, err := exec.Command("xorriso", "-indev", iso, "-pvd_info", "-find", "/", "-type", "f").CombinedOutput()
	if err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	mustContain(t, "ISO", string(out), "Volume Id    : FBS-Demo-Live",
		"'/LiveOS/squashfs.img'", "'/images/pxeboot/vmlinuz'", "'/images/pxeboot/initrd.img'", "'/images/eltorito.img'",
		"'/boot/grub2/grub.cfg'", "'/boot/grub2/i386-pc/normal.mod'", "'/EFI/BOOT/BOOTX64.EFI'", "'/EFI/BOOT/grub.cfg'", "'/LICENSE'")
	report, _ := exec.Command("xorriso", "-indev", iso, "-report_system_area", "plain").CombinedOutput()
	// Partition 2 is the EFI system partition (C12A7328-F81F-11D2-BA4B-00A0C93EC93B, as GPT stores it).
	mustContain(t, "system area", string(report), "GPT partname local :   2  Appended2", "GPT type GUID      :   2  28732ac11ff8d211ba4b00a0c93ec93b")

	dir := t.TempDir()
	if out, err := exec.Command("xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/LiveOS/squashfs.img", dir+"/squashfs.img",
		"-extract", "/boot/grub2/grub.cfg", dir+"/grub.cfg").CombinedOutput(); err != nil {
		t.Fatalf("extract: %v\n%s", err, out)
	}
	cfg, _ := os.ReadFile(dir + "/grub.cfg")
	mustContain(t, "grub.cfg", string(cfg), "search --no-floppy --set=root -l 'FBS-Demo-Live'",
		"root=live:CDLABEL=FBS-Demo-Live console=ttyS0,115200 rd.live.image")
	issue, err := exec.Command("unsquashfs", "-cat", dir+"/squashfs.img", "etc/issue").Output()
	if err != nil || !strings.Contains(string(issue), "written by the kickstart's %post") {
		t.Errorf("squashfs /etc/issue: %q %v", issue, err)
	}
	list, _ := exec.Command("unsquashfs", "-l", dir+"/squashfs.img").Output()
	if strings.Contains(string(list), "squashfs-root/LiveOS") || !strings.Contains(string(list), "squashfs-root/usr/lib/grub/i386-pc") {
		t.Error("squashfs does not hold the root directly")
	}
	if strings.Contains(string(list), "squashfs-root/tmp/ks-script") {
		t.Errorf("the %%post script was left in the image")
	}
	// The kickstart's lang, timezone and network --hostname, applied before %post.
	for file, want := range map[string]string{"etc/locale.conf": `LANG="de_DE.UTF-8"`, "etc/hostname": "fbs-live.example.org", "etc/adjtime": "UTC"} {
		if got, err := exec.Command("unsquashfs", "-cat", dir+"/squashfs.img", file).Output(); err != nil || !strings.Contains(string(got), want) {
			t.Errorf("squashfs /%s: %q %v, want %q", file, got, err, want)
		}
	}
	links, _ := exec.Command("unsquashfs", "-lls", dir+"/squashfs.img", "etc/localtime").Output()
	mustContain(t, "squashfs /etc/localtime", string(links), "etc/localtime -> ../usr/share/zoneinfo/Europe/Berlin")
}

// rootPassword is the live test's rootpw, which no log may hold.
const rootPassword = "Fbs-Root-Secret-42"

func sha256File(t *testing.T, path string) string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil))
}

// TestDemo_QEMU runs "fbs demo" as a user would.
func TestDemo_QEMU(t *testing.T) {
	res := fbs(t, "demo", "--cache", cache, "--work", t.TempDir())
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	mustContain(t, "fbs demo output", res.out, "demo repo: up to date", "demo summary", "  ISO      ", "  size     ",
		"  stages   kickstart ", "  boot     bios (", `console: "`+demo.Expect+`"`)
}

// TestBootTestFailure_QEMU: a boot that never shows the text fails the
// build with the console's last lines, the ISO it kept and the command that
// retries only the boot; that command, with the right text, passes.
func TestBootTestFailure_QEMU(t *testing.T) {
	work := t.TempDir()
	res := fbs(t, "build", request(t, "file://"+demoDir, "true", ""), "--cache", cache, "--work", work, "--keep",
		"--boot-test=bios", "--expect", "text no image prints")
	if res.code != 1 {
		t.Fatalf("build exit %d, want 1", res.code)
	}
	isos, _ := filepath.Glob(filepath.Join(work, "*", "FBS-Test.iso"))
	if len(isos) != 1 {
		t.Fatalf("ISO not kept in the work dir: %v", isos)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(isos[0]), "root", "etc")); err != nil {
		t.Errorf("--keep did not keep the root: %v", err)
	}
	mustContain(t, "build output", res.out, "boot test failed: bios boot: QEMU exited before", "last console lines",
		"fbs-demo: powering off", "the ISO is kept: "+isos[0],
		"to retry only the boot: fbs boot-test "+isos[0]+" --accel ")
	retry := regexp.MustCompile(`to retry only the boot: fbs boot-test (\S+) --accel (\w+) --expect 'text no image prints'`).FindStringSubmatch(res.out)
	if retry == nil {
		t.Fatalf("no retry command in the output")
	}
	res = fbs(t, "boot-test", retry[1], "--accel", retry[2], "--expect", "fbs-demo: init reached", "--log-dir", work)
	if res.code != 0 {
		t.Errorf("retried boot exit %d", res.code)
	}
	mustContain(t, "boot-test output", res.out, "fbs: boot test passed (bios, "+retry[2]+")", "  accelerator ")
}

// TestBootUnderKVM_QEMU boots under KVM where this host's probe shows KVM
// works, and says why it skips elsewhere.
func TestBootUnderKVM_QEMU(t *testing.T) {
	res := fbs(t, "doctor")
	why := regexp.MustCompile(`boot tests' accelerator: (.*)`).FindStringSubmatch(res.out)
	if why == nil {
		t.Fatalf("fbs doctor does not say which accelerator")
	}
	if strings.HasSuffix(why[1], "using tcg") {
		t.Skipf("needs a KVM that works on this host: %s", why[1])
	}
	conf := demoRequest(t, "live", "zstd", "")
	res = fbs(t, "build", conf, "--cache", cache, "--work", t.TempDir(), "--boot-test=bios,uefi", "--accel", "kvm", "--expect", demo.Expect)
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	mustContain(t, "output", res.out, "(kvm)")
}

// TestBootISO_QEMU builds the demo distro's boot (installer) ISO from its
// seed-format request and boots it with BIOS and UEFI to its stage2 init.
func TestBootISO_QEMU(t *testing.T) {
	staging := t.TempDir()
	conf := demoRequest(t, "boot", "zstd", "staging=file://"+staging)
	res := fbs(t, "build", conf, "--cache", cache, "--work", t.TempDir(), "--boot-test", "--expect", demo.ExpectInstaller)
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	isos, _ := filepath.Glob(filepath.Join(staging, "fbs-demo-1-x86_64-*.iso"))
	if len(isos) != 1 {
		t.Fatalf("staged ISOs %v", isos)
	}
	out, err := exec.Command("xorriso", "-indev", isos[0], "-pvd_info", "-find", "/", "-type", "f").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "ISO", string(out), "Volume Id    : fbs-demo-1-x86_64", "'/images/install.img'", "'/.discinfo'", "'/.treeinfo'",
		"'/images/pxeboot/vmlinuz'", "'/EFI/BOOT/BOOTX64.EFI'")
	dir := t.TempDir()
	exec.Command("xorriso", "-osirrox", "on", "-indev", isos[0], "-extract", "/boot/grub2/grub.cfg", dir+"/grub.cfg",
		"-extract", "/.treeinfo", dir+"/treeinfo", "-extract", "/images/install.img", dir+"/install.img").Run()
	cfg, _ := os.ReadFile(dir + "/grub.cfg")
	mustContain(t, "grub.cfg", string(cfg), "menuentry 'Install fbs-demo 1'", "inst.stage2=hd:LABEL=fbs-demo-1-x86_64 console=ttyS0,115200 quiet", "inst.rescue")
	ti, _ := os.ReadFile(dir + "/treeinfo")
	mustContain(t, ".treeinfo", string(ti), "[stage2]\nmainimage = images/install.img", "family = fbs-demo", "version = 1")
	stamp, _ := exec.Command("unsquashfs", "-cat", dir+"/install.img", ".buildstamp").Output()
	mustContain(t, ".buildstamp", string(stamp), "Product=fbs-demo", "Version=1")
	mustContain(t, "output", res.out, "boot-bios", "boot-uefi", `"`+demo.ExpectInstaller)
}
