package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fbs/internal/bootcheck"
	"fbs/internal/fbstest"
	"fbs/internal/hostarch"
)

// TestBootTestArch: an aarch64 ISO (its UEFI loader says so, or --arch)
// boots with UEFI (implied) under TCG on another arch's host (a fake QEMU
// prints the banner), KVM is refused there, and so is an arch without
// boot tests.
func TestBootTestArch(t *testing.T) {
	dir, tree := t.TempDir(), t.TempDir()
	for _, f := range []string{"CODE.fd", "VARS.fd", "tree/EFI/BOOT/BOOTAA64.EFI"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	xorriso, err := exec.LookPath("xorrisofs")
	fbstest.Need(t, err == nil, "xorrisofs", "apt-get install xorriso")
	iso := filepath.Join(tree, "x.iso")
	if out, err := exec.Command(xorriso, "-quiet", "-R", "-J", "-o", iso, filepath.Join(dir, "tree")).CombinedOutput(); err != nil {
		t.Fatalf("xorrisofs: %v\n%s", err, out)
	}
	code, vars := bootcheck.AAVMFCode, bootcheck.AAVMFVars
	bootcheck.AAVMFCode, bootcheck.AAVMFVars = filepath.Join(dir, "CODE.fd"), filepath.Join(dir, "VARS.fd")
	t.Cleanup(func() { bootcheck.AAVMFCode, bootcheck.AAVMFVars = code, vars })
	qemu := filepath.Join(dir, "qemu")
	if err := os.WriteFile(qemu, []byte("#!/bin/sh\necho 'Welcome to the fbs demo'\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FBS_QEMU_SYSTEM_AARCH64", qemu)
	host := hostarch.Native()
	tests := map[string]struct {
		args    []string
		code    int
		want    string
		foreign bool // the case holds where aarch64 is not the host's arch
	}{
		"no boot test for the arch": {[]string{"--arch", "ppc64le"}, 2, "--arch ppc64le: fbs boot-tests x86_64 and aarch64 media", false},
		"aarch64":                   {[]string{"--arch", "aarch64", "--accel", "auto"}, 0, "boot test passed (uefi, tcg)", true},
		"aarch64 from the ISO":      {nil, 0, "boot test passed (uefi, tcg)", true},
		"aarch64 under kvm": {[]string{"--arch", "aarch64", "--accel", "kvm"}, 1,
			"--accel kvm: an aarch64 guest cannot run under kvm on an " + host + " host", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.foreign && host == "aarch64" {
				t.Skip("aarch64 is this host's own arch")
			}
			args := append([]string{"boot-test", iso, "--log-dir", dir}, tc.args...)
			code, out := run(t, args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want %d; output:\n%s\nwant it to hold %q", code, tc.code, out, tc.want)
			}
		})
	}
}
