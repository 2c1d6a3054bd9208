package bootcheck

import (
	"testing"

	"fbs/internal/fbstest"
)

func TestQEMUArgs(t *testing.T) {
	t.Setenv("FBS_QEMU_SYSTEM_X86_64", "qemu-system-x86_64")
	fbstest.Golden(t, "qemu-bios", fbstest.Lines(Args(Options{ISO: "/work/Live.iso"}, "tcg")))
	fbstest.Golden(t, "qemu-uefi", fbstest.Lines(Args(Options{ISO: "/work/Live.iso", UEFI: true, MemoryMB: 2048}, "kvm")))
}
