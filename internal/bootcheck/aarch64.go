package bootcheck

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"fbs/internal/hosttool"
)

// AAVMF is the UEFI firmware of aarch64 boots (Debian's qemu-efi-aarch64):
// its code, and the variable store each boot starts from.
var (
	AAVMFCode = "/usr/share/AAVMF/AAVMF_CODE.fd"
	AAVMFVars = "/usr/share/AAVMF/AAVMF_VARS.fd"
)

// QEMUAArch64 is the emulator of aarch64 boot tests. It is not among
// hosttool.Tools: a host that builds no aarch64 media does not need it.
var QEMUAArch64 = hosttool.Tool{Name: "qemu-system-aarch64", Package: "qemu-system-arm", For: "aarch64 boot tests", Version: []string{"--version"}}

// tcgCPU is the CPU aarch64 guests get under TCG: an ARMv8.0 core, the
// baseline Fedora builds for. On QEMU 7.2 on a busy 2-core host, the
// demo's busybox live ISO reached its banner in 9-12 s with it (11
// boots) and in 11-16 s with "max,pauth-impdef=on" (whose extra features
// TCG emulates at a cost), where one boot of five stalled for good in the
// firmware; its dracut and systemd ISO took 59-87 s with either (7 boots).
const tcgCPU = "cortex-a57"

// aarch64Args boots o.ISO on QEMU's virt machine as Fedora's aarch64
// media boot: UEFI (AAVMF, its code read-only) from the ISO's El Torito
// EFI image, the ISO on virtio-scsi, the console on the PL011 UART
// (ttyAMA0). The firmware's variable store is a temporary overlay of
// AAVMFVars (snapshot=on): each boot gets a fresh one and writes nothing
// to the host's, and QEMU keeps the overlay in its own temporary dir, which
// a confined command has (a copy in the host's /tmp it could not see).
func aarch64Args(o Options, accel string) []string {
	machine, cpu := "virt", tcgCPU
	if accel == "kvm" {
		// gic-version=max is the host's GIC: the default (v2) is
		// missing on hosts whose GICv3 has no v2 compatibility.
		machine, cpu = "virt,gic-version=max", "host"
	}
	return []string{hosttool.Path(QEMUAArch64.Name), "-machine", machine, "-accel", accel, "-cpu", cpu,
		"-m", memory(o), "-smp", smp(accel), "-display", "none", "-monitor", "none",
		"-serial", "stdio", "-net", "none", "-no-reboot",
		"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + qemuValue(AAVMFCode),
		"-drive", "if=pflash,format=raw,unit=1,snapshot=on,file=" + qemuValue(AAVMFVars),
		"-device", "virtio-scsi-pci,id=scsi",
		"-drive", "if=none,id=cd,media=cdrom,format=raw,readonly=on,file=" + qemuValue(o.ISO),
		"-device", "scsi-cd,drive=cd"}
}

// qemuValue escapes a value inside a QEMU option list, where a comma
// separates options and ",," is a comma.
func qemuValue(s string) string {
	return strings.ReplaceAll(s, ",", ",,")
}

// checkAArch64 refuses what an aarch64 boot cannot do.
func checkAArch64(o Options) error {
	if !o.UEFI {
		return fmt.Errorf("aarch64 media boot UEFI only: there is no BIOS boot test for aarch64 (use --uefi)")
	}
	if _, err := exec.LookPath(hosttool.Path(QEMUAArch64.Name)); err != nil {
		return fmt.Errorf("%s missing (apt-get install %s)", QEMUAArch64.Name, QEMUAArch64.Package)
	}
	return CheckAArch64Firmware()
}

// CheckAArch64Firmware says which AAVMF file is missing, and the fix.
func CheckAArch64Firmware() error {
	for _, f := range []string{AAVMFCode, AAVMFVars} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("aarch64 UEFI firmware %s missing (apt-get install qemu-efi-aarch64)", f)
		}
	}
	return nil
}
