package bootcheck

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fbs/internal/buildlog"
	"fbs/internal/fbstest"
	"fbs/internal/hostarch"
	"fbs/internal/runner"
)

func TestQEMUArgs(t *testing.T) {
	t.Setenv("FBS_QEMU_SYSTEM_X86_64", "qemu-system-x86_64")
	fbstest.Golden(t, "qemu-bios", fbstest.Lines(Args(Options{ISO: "/work/Live.iso"}, "tcg")))
	fbstest.Golden(t, "qemu-uefi", fbstest.Lines(Args(Options{ISO: "/work/Live.iso", UEFI: true, MemoryMB: 2048}, "kvm")))
	fbstest.Golden(t, "qemu-probe", fbstest.Lines(probeArgs("kvm", "/tmp/probe.img")))
	t.Setenv("FBS_QEMU_SYSTEM_AARCH64", "qemu-system-aarch64")
	fbstest.Golden(t, "qemu-aarch64-tcg", fbstest.Lines(Args(Options{ISO: "/work/Live,1.iso", Arch: "aarch64", UEFI: true}, "tcg")))
	fbstest.Golden(t, "qemu-aarch64-kvm", fbstest.Lines(Args(Options{ISO: "/work/Live.iso", Arch: "aarch64", UEFI: true, MemoryMB: 2048}, "kvm")))
	if x86 := Args(Options{ISO: "/work/Live.iso", Arch: "x86_64", UEFI: true}, "tcg"); !slices.Equal(x86, Args(Options{ISO: "/work/Live.iso", UEFI: true}, "tcg")) {
		t.Errorf("arch x86_64 boots otherwise than no arch: %q", x86)
	}
}

// TestCheckFirmware: an aarch64 boot is UEFI's, and an arch without boot
// tests is named.
func TestCheckFirmware(t *testing.T) {
	tests := map[string]struct {
		o    Options
		want string // "" when the firmware is installed
	}{
		"aarch64 bios": {Options{Arch: "aarch64"}, "aarch64 media boot UEFI only"},
		"aarch64 uefi": {Options{Arch: "aarch64", UEFI: true}, ""},
		"x86_64 bios":  {Options{Arch: "x86_64"}, ""},
		"ppc64le":      {Options{Arch: "ppc64le", UEFI: true}, "no boot test for ppc64le media"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := checkFirmware(tc.o)
			if tc.want == "" {
				fbstest.Need(t, err == nil || !strings.Contains(err.Error(), "missing"),
					"qemu-system-aarch64 or AAVMF", "apt-get install qemu-system-arm qemu-efi-aarch64")
				if err != nil {
					t.Errorf("%v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestChooseGuestArch: KVM runs only the host's own arch, and auto says
// why a guest runs under TCG.
func TestChooseGuestArch(t *testing.T) {
	verdictFile = filepath.Join(t.TempDir(), "accel.json")
	host, other := hostarch.Native(), "aarch64"
	if host == "aarch64" {
		other = "x86_64"
	}
	tests := map[string]struct {
		arch, mode string
		accel, why string // why: a part of Choice.Why, or of the error when accel is ""
	}{
		"foreign auto": {other, "auto", "tcg", other + " guest on an " + host + " host: tcg"},
		"foreign none": {other, "", "tcg", other + " guest on an " + host + " host: tcg"},
		"foreign tcg":  {other, "tcg", "tcg", "asked for"},
		"foreign kvm":  {other, "kvm", "", "--accel kvm: an " + other + " guest cannot run under kvm on an " + host + " host"},
	}
	if host == "aarch64" {
		tests["native auto"] = struct{ arch, mode, accel, why string }{"aarch64", "auto", "tcg", "auto has no probe guest for aarch64 (--accel kvm to use kvm); using tcg"}
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := Choose(context.Background(), tc.arch, tc.mode)
			if tc.accel == "" {
				if err == nil || !strings.Contains(err.Error(), tc.why) {
					t.Errorf("Choose = %+v, %v; want an error with %q", c, err, tc.why)
				}
				return
			}
			if err != nil || c.Accel != tc.accel || !strings.Contains(c.Why, tc.why) {
				t.Errorf("Choose = %+v, %v; want %s because %q", c, err, tc.accel, tc.why)
			}
		})
	}
}

// TestProbeMatchesSource: the probe's bytes are what probe.asm assembles to.
func TestProbeMatchesSource(t *testing.T) {
	nasm, err := exec.LookPath("nasm")
	fbstest.Need(t, err == nil, "nasm", "apt-get install nasm")
	out := filepath.Join(t.TempDir(), "probe.img")
	if msg, err := exec.Command(nasm, "-f", "bin", "-o", out, "probe.asm").CombinedOutput(); err != nil {
		t.Fatalf("nasm: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bootSector(), want) {
		t.Errorf("probeCode is not probe.asm assembled: update it from %x", bytes.TrimRight(want[:510], "\x00"))
	}
}

func TestCheckMode(t *testing.T) {
	for _, m := range Modes {
		if err := CheckMode(m); err != nil {
			t.Errorf("%s: %v", m, err)
		}
	}
	if err := CheckMode("hvf"); err == nil || !strings.Contains(err.Error(), "auto, kvm, tcg") {
		t.Errorf("hvf: %v", err)
	}
}

// TestProbeUnderTCG boots the probe guest for real.
func TestProbeUnderTCG(t *testing.T) {
	_, lookErr := exec.LookPath("qemu-system-x86_64")
	fbstest.Need(t, lookErr == nil, "qemu-system-x86_64", "apt-get install qemu-system-x86")
	took, err := probe(context.Background(), "tcg", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("probe under tcg: %s", took)
}

// TestChooseKeepsItsVerdict: auto's verdict is read back within the same
// boot and ignored after a reboot; forced modes never probe.
func TestChooseKeepsItsVerdict(t *testing.T) {
	verdictFile = filepath.Join(t.TempDir(), "accel.json")
	if c, err := Choose(context.Background(), "", "tcg"); err != nil || c.Accel != "tcg" || !strings.Contains(c.Why, "asked for") {
		t.Errorf("tcg: %+v %v", c, err)
	}
	if _, err := Choose(context.Background(), "", "hvf"); err == nil {
		t.Error("hvf chosen")
	}
	if openKVM() != nil {
		c, err := Choose(context.Background(), "", "auto")
		if err != nil || c.Accel != "tcg" || !strings.HasSuffix(c.Why, "; using tcg") {
			t.Errorf("auto without /dev/kvm: %+v %v", c, err)
		}
		if _, err := Choose(context.Background(), "", "kvm"); err == nil || !strings.Contains(err.Error(), "--accel kvm: ") {
			t.Errorf("kvm without /dev/kvm: %v", err)
		}
		return
	}
	if err := writeVerdict(Choice{Accel: "kvm", Why: "kept", Boot: bootID()}); err != nil {
		t.Fatal(err)
	}
	if c, err := Choose(context.Background(), "", "auto"); err != nil || c.Why != "kept" {
		t.Errorf("the verdict of this boot was not kept: %+v %v", c, err)
	}
	if err := distrustKVM("went silent"); err != nil {
		t.Fatal(err)
	}
	if c, _ := Choose(context.Background(), "", "auto"); c.Accel != "tcg" || c.Why != "went silent" {
		t.Errorf("after a silent boot: %+v", c)
	}
	writeVerdict(Choice{Accel: "kvm", Why: "kept", Boot: "another boot"})
	if c, ok := readVerdict(bootID()); ok {
		t.Errorf("another boot's verdict read: %+v", c)
	}
}

// fakeQEMU stands in for qemu-system-x86_64: silent under KVM (as a nested
// KVM that never leaves the firmware), the demo's banner under TCG, or
// nothing but an exit.
func fakeQEMU(t *testing.T, script string) {
	path := filepath.Join(t.TempDir(), "qemu")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FBS_QEMU_SYSTEM_X86_64", path)
}

func TestSilentKVMRestartsUnderTCG(t *testing.T) {
	verdictFile = filepath.Join(t.TempDir(), "accel.json")
	fakeQEMU(t, `case "$*" in *"-accel kvm"*) echo "qemu-system-x86_64: warning: host doesn't support requested feature" >&2; exec sleep 60;; esac
echo "SeaBIOS"; echo "Welcome to fbs-demo 1"; exec sleep 60`)
	iso := filepath.Join(t.TempDir(), "x.iso")
	os.WriteFile(iso, nil, 0o644)
	var log bytes.Buffer
	res, err := runUnder(context.Background(), runner.New(buildlog.New(&log)),
		Options{ISO: iso, Expect: []string{"Welcome to"}, Timeout: time.Minute, Silence: time.Second, Accel: "auto"},
		Choice{Accel: "kvm", Why: "kvm: probed"})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if res.Accel != "tcg" || !strings.Contains(res.Why, "printed nothing for 1s under kvm; using tcg") {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(log.String(), "the console stayed silent for 1s under kvm; restarting the boot once under tcg") {
		t.Errorf("the log does not say why:\n%s", log.String())
	}
	if c, ok := readVerdict(bootID()); !ok || c.Accel != "tcg" {
		t.Errorf("later boots would still use kvm: %+v", c)
	}
}

func TestFailureNamesISOAndRetry(t *testing.T) {
	fakeQEMU(t, `echo "fbs-demo: powering off"`)
	iso := filepath.Join(t.TempDir(), "x.iso")
	os.WriteFile(iso, nil, 0o644)
	var log bytes.Buffer
	_, err := runUnder(context.Background(), runner.New(buildlog.New(&log)),
		Options{ISO: iso, UEFI: true, Expect: []string{"Welcome to", "login:"}, Timeout: 90 * time.Second, Silence: time.Minute},
		Choice{Accel: "tcg", Why: "tcg: asked for"})
	var f *Failure
	if !errors.As(err, &f) {
		t.Fatalf("%v", err)
	}
	for _, want := range []string{"uefi boot: QEMU exited before \"Welcome to\" or \"login:\" appeared", "fbs-demo: powering off",
		"the ISO is kept: " + iso,
		"to retry only the boot: fbs boot-test " + iso + " --accel tcg --uefi --expect 'Welcome to' --expect login: --timeout 1m30s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
}

func TestRetryNamesArch(t *testing.T) {
	o := Options{ISO: "/work/x.iso", Arch: "aarch64", UEFI: true, Expect: []string{"Welcome to"}, Timeout: defaultTimeout}
	want := "fbs boot-test /work/x.iso --arch aarch64 --accel tcg --uefi --expect 'Welcome to'"
	if got := runner.Quote(retry(o, "tcg")); got != want {
		t.Errorf("retry = %s, want %s", got, want)
	}
	o.Arch = "x86_64"
	if got := runner.Quote(retry(o, "tcg")); strings.Contains(got, "--arch") {
		t.Errorf("an x86_64 retry names its arch: %s", got)
	}
}
