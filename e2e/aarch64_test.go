//go:build e2e

package e2e

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fbs/internal/demo"
	"fbs/internal/hostarch"
)

// The aarch64 demo repos are made once each, by the first test that needs
// one: everything in their roots runs through qemu-user-static.
var (
	armMu    sync.Mutex
	armRepos = map[demo.Chain]string{}
)

// armRepo returns a chain's aarch64 demo repo, skipping (failing in CI)
// where this host cannot run aarch64 programs or boot them.
func armRepo(t *testing.T, chain demo.Chain) string {
	t.Helper()
	missing := ""
	if err := hostarch.Check("aarch64"); err != nil {
		missing = err.Error()
	} else if _, err := exec.LookPath("qemu-system-aarch64"); err != nil {
		missing = "no qemu-system-aarch64 (apt-get install qemu-system-arm qemu-efi-aarch64)"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(missing)
		}
		t.Skip(missing)
	}
	armMu.Lock()
	defer armMu.Unlock()
	if dir, ok := armRepos[chain]; ok {
		return dir
	}
	dir := filepath.Join(cache, chain.ArchRepoDir("aarch64"))
	if err := makeDemoRepo(dir, chain, "aarch64"); err != nil {
		t.Fatal(err)
	}
	armRepos[chain] = dir
	return dir
}

// armRequest writes the aarch64 demo's request of a type with the given
// lines in place of its "staging=" line.
func armRequest(t *testing.T, typ, lines string) string {
	t.Helper()
	conf, err := demo.WriteArchRequest(t.TempDir(), demo.Busybox, "aarch64", armRepo(t, demo.Busybox), typ, "zstd")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(conf)
	write(t, conf, strings.Replace(string(text), "staging=\n", lines+"\n", 1))
	return conf
}

// stagedISO is the one ISO of a name pattern a build staged into dir.
func stagedISO(t *testing.T, dir, pattern string) string {
	t.Helper()
	isos, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(isos) != 1 {
		t.Fatalf("staged ISOs %v", isos)
	}
	return isos[0]
}

// extract copies files out of an ISO into a new dir, each under its base
// name, and returns the dir.
func extract(t *testing.T, iso string, paths ...string) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-osirrox", "on", "-indev", iso}
	for _, p := range paths {
		args = append(args, "-extract", p, filepath.Join(dir, filepath.Base(p)))
	}
	if out, err := exec.Command("xorriso", args...).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	return dir
}

// isoFiles lists an ISO's files and its El Torito boot catalogue.
func isoFiles(t *testing.T, iso string) string {
	t.Helper()
	out, err := exec.Command("xorriso", "-indev", iso, "-pvd_info", "-report_el_torito", "plain", "-find", "/", "-type", "f").CombinedOutput()
	if err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	return string(out)
}

// checkArmLayout checks lorax's aarch64 layout: UEFI alone, from
// images/efiboot.img, with nothing of BIOS GRUB.
func checkArmLayout(t *testing.T, listing, volid string) {
	t.Helper()
	mustContain(t, "ISO", listing, "Volume Id    : "+volid, "'/EFI/BOOT/BOOTAA64.EFI'", "'/EFI/BOOT/grub.cfg'",
		"'/images/efiboot.img'", "'/images/pxeboot/vmlinuz'", "'/images/pxeboot/initrd.img'")
	for _, bios := range []string{"eltorito.img", "i386-pc", "BOOTX64.EFI", "El Torito boot img :   1  BIOS"} {
		if strings.Contains(listing, bios) {
			t.Errorf("an aarch64 ISO has %s", bios)
		}
	}
	mustContain(t, "El Torito catalogue", listing, "El Torito boot img :   1  UEFI")
}

// elfMachine reads the machine of an ELF file extracted from a squashfs.
func elfMachine(t *testing.T, img, path string) elf.Machine {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("unsquashfs", "-no-xattrs", "-d", dir+"/x", img, path).CombinedOutput(); err != nil {
		t.Fatalf("unsquashfs %s: %v\n%s", path, err, out)
	}
	f, err := elf.Open(filepath.Join(dir, "x", path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return f.Machine
}

// TestAarch64LiveISO_QEMU builds the aarch64 demo's live ISO on this host
// (its root's scriptlets and the initramfs script run through binfmt_misc)
// and boots it with AAVMF on qemu-system-aarch64 -M virt. The server's
// BIOS test is left out: aarch64 media boot UEFI alone.
func TestAarch64LiveISO_QEMU(t *testing.T) {
	staging := t.TempDir()
	conf := armRequest(t, "live", "staging=file://"+staging)
	start := time.Now()
	res := fbs(t, "build", conf, "--cache", cache, "--work", t.TempDir(), "--boot-test", "--expect", demo.Expect)
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	t.Logf("aarch64 live ISO built and booted in %s", time.Since(start).Round(time.Second))
	iso := stagedISO(t, staging, "FBS-Demo-Live-*.iso")
	listing := isoFiles(t, iso)
	checkArmLayout(t, listing, "FBS-Demo-Live")
	mustContain(t, "ISO", listing, "'/LiveOS/squashfs.img'")
	mustContain(t, "output", res.out, "boot-uefi", `"`+demo.Expect)
	if strings.Contains(res.out, "boot-bios") {
		t.Error("an aarch64 build ran a BIOS boot test")
	}
	dir := extract(t, iso, "/LiveOS/squashfs.img")
	if m := elfMachine(t, dir+"/squashfs.img", "bin/busybox"); m != elf.EM_AARCH64 {
		t.Errorf("the root's busybox is for %s", m)
	}
}

// TestAarch64DracutLiveISO_QEMU builds the dracut chain's aarch64 live ISO:
// rpm's scriptlets (ldconfig, systemd-sysusers, systemctl preset-all),
// the system stage's tools and Debian's dracut all run as aarch64
// programs through binfmt_misc, and the ISO boots with AAVMF into systemd,
// whose unit reports from inside the booted system.
func TestAarch64DracutLiveISO_QEMU(t *testing.T) {
	repo := armRepo(t, demo.Dracut)
	conf, err := demo.WriteArchRequest(t.TempDir(), demo.Dracut, "aarch64", repo, "live", "zstd")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	start := time.Now()
	res := fbs(t, "build", conf, "--cache", cache, "--work", work, "--boot-test", "--expect", demo.ExpectFacts)
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	t.Logf("aarch64 dracut live ISO built and booted in %s", time.Since(start).Round(time.Second))
	log := workLog(t, work)
	mustContain(t, "build log", log, "$ dracut --nomdadmconf --nolvmconf --xz --add 'livenet dmsquash-live",
		"Including module: dmsquash-live", "Including module: systemd", "system: lang: wrote /etc/locale.conf",
		"root=live:CDLABEL=FBS-Demo-Live console=ttyAMA0,115200 rd.live.image",
		"fbs-facts: rootfsbase squashfs /dev/loop",
		"fbs-facts: pid 1 /usr/lib/systemd/systemd, multi-user.target active",
		"console: "+demo.ExpectFacts)
	mustNotContain(t, "build log", log, "Ordering cycle", "boot-bios")
}

// TestAarch64BootISO_QEMU builds the aarch64 demo's boot ISO and boots it
// to its stage2's init.
func TestAarch64BootISO_QEMU(t *testing.T) {
	staging := t.TempDir()
	conf := armRequest(t, "boot", "staging=file://"+staging+"\nboottest=uefi")
	res := fbs(t, "build", conf, "--cache", cache, "--work", t.TempDir(), "--expect", demo.ExpectInstaller)
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	iso := stagedISO(t, staging, "fbs-demo-1-aarch64-*.iso")
	listing := isoFiles(t, iso)
	checkArmLayout(t, listing, "fbs-demo-1-aarch64")
	mustContain(t, "ISO", listing, "'/images/install.img'", "'/.treeinfo'")
	ti, _ := os.ReadFile(extract(t, iso, "/.treeinfo") + "/.treeinfo")
	mustContain(t, ".treeinfo", string(ti), "arch = aarch64", "[images-aarch64]", "efiboot.img = images/efiboot.img")
	mustContain(t, "output", res.out, "boot-uefi", `"`+demo.ExpectInstaller)
}

// TestAarch64DVD builds the aarch64 demo's DVD and checks its layout:
// aarch64 packages, productmd's [images-aarch64] with the EFI image's
// checksum. (Its installer boots as the boot ISO's does.)
func TestAarch64DVD(t *testing.T) {
	staging := t.TempDir()
	conf := armRequest(t, "dvd", "staging=file://"+staging)
	res := fbs(t, "build", conf, "--cache", cache, "--work", t.TempDir())
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	iso := stagedISO(t, staging, "fbs-demo-Everything-aarch64-1-*.iso")
	listing := isoFiles(t, iso)
	checkArmLayout(t, listing, "fbs-demo-Everything-aarch64-1") // pungi's shorter form: the long one has 33 characters
	mustContain(t, "DVD", listing, "'/repodata/repomd.xml'", "'/media.repo'", "'/images/install.img'", ".aarch64.rpm'")
	if strings.Contains(listing, ".x86_64.rpm") {
		t.Error("the aarch64 DVD holds x86_64 packages")
	}
	dir := extract(t, iso, "/.treeinfo", "/images/efiboot.img")
	ti, _ := os.ReadFile(dir + "/.treeinfo")
	mustContain(t, ".treeinfo", string(ti), "[images-aarch64]", "efiboot.img = images/efiboot.img",
		"images/efiboot.img = sha256:"+sha256File(t, dir+"/efiboot.img"), "arch = aarch64")
}

// TestForeignArchRefused: arches fbs makes no media for are refused
// before any work, naming what such media need.
func TestForeignArchRefused(t *testing.T) {
	for arch, want := range map[string]string{
		"ppc64le": "ppc64le media need GRUB for Open Firmware",
		"s390x":   "s390x media need an s390 boot image",
	} {
		conf := demoRequest(t, "live", "zstd", "")
		text, _ := os.ReadFile(conf)
		write(t, conf, strings.Replace(string(text), "arch=x86_64", "arch="+arch, 1))
		res := fbs(t, "build", conf, "--cache", cache, "--work", t.TempDir())
		if res.code == 0 {
			t.Fatalf("%s: built", arch)
		}
		mustContain(t, "output", res.out, "fbs makes x86_64 and aarch64 media, not "+arch, want)
	}
}

// TestFarmAarch64: a worker told --arch x86_64,aarch64 on this x86_64 host
// advertises both and builds an aarch64 live ISO for the server.
func TestFarmAarch64(t *testing.T) {
	conf := armRequest(t, "live", "")
	f := newFarm(t)
	s := f.server()
	f.worker("both", []*server{s}, "--release", "1", "--arch", "x86_64,aarch64")
	res := fbs(t, "submit", conf, "--server", s.url, "--wait", "--raw")
	if res.code != 0 {
		t.Fatalf("submit --wait: exit %d\n%s", res.code, f.workerLog("both"))
	}
	mustContain(t, "submit output", res.out, "attempt 1: worker both took the build", "=== stage squashfs", "succeeded")
	res = fbs(t, "workers", "--server", s.url)
	mustContain(t, "fbs workers", res.out, "both", "x86_64,aarch64")
}

// TestAarch64WithoutBinfmt: on a host that cannot run aarch64 programs an
// aarch64 build is refused before any work, with the fix.
func TestAarch64WithoutBinfmt(t *testing.T) {
	conf := armRequest(t, "live", "")
	t.Setenv("FBS_BINFMT_MISC", t.TempDir()) // binfmt_misc not mounted there
	work := t.TempDir()
	res := fbs(t, "build", conf, "--cache", cache, "--work", work)
	if res.code != 2 {
		t.Fatalf("exit %d, want 2", res.code)
	}
	mustContain(t, "output", res.out, "this host cannot build aarch64 media", "apt-get install qemu-user-static binfmt-support")
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("the refused build left %d entries in its work dir", len(entries))
	}
}

// TestHostileInterpreter: /proc/PID/exe of an aarch64 program leads to the
// host's qemu-aarch64-static (binfmt_misc opened it at registration, flag
// F), past the confinement's read-only view. A build's code, root, tries
// to make it setuid through that link: the file is immutable (make deps),
// and a build on a host where it is not is refused (hostarch.Exposed).
func TestHostileInterpreter(t *testing.T) {
	conf := armRequest(t, "live", "")
	ks := filepath.Join(filepath.Dir(conf), "demo.ks")
	text, _ := os.ReadFile(ks)
	write(t, ks, string(text)+`%post --nochroot
mkdir -p "$INSTALL_ROOT/x86" && cp /bin/busybox "$INSTALL_ROOT/x86/busybox" && ln -s busybox "$INSTALL_ROOT/x86/sh"
%end
%post --interpreter=/x86/sh
B=/x86/busybox
/bin/sleep 5 & P=$!
$B sleep 1
echo "the emulated program's exe: $($B readlink /proc/$P/exe)"
exec 3< /proc/$P/exe
kill $P
$B chmod 4755 /proc/self/fd/3 && echo HOST-INTERPRETER-SETUID || echo chmod-refused
$B touch -c /proc/self/fd/3 && echo HOST-INTERPRETER-TOUCHED || echo touch-refused
%end
`)
	interp, _ := filepath.EvalSymlinks("/usr/bin/qemu-aarch64-static")
	before, err := os.Stat(interp)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	res := fbs(t, "build", conf, "--cache", cache, "--work", work)
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	log := workLog(t, work)
	mustContain(t, "build log", log, "the emulated program's exe: "+interp, "chmod-refused", "touch-refused")
	mustNotContain(t, "build log", log, "HOST-INTERPRETER")
	if after, _ := os.Stat(interp); after.Mode() != before.Mode() || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("%s changed: %v %v, was %v %v", interp, after.Mode(), after.ModTime(), before.Mode(), before.ModTime())
	}
}
