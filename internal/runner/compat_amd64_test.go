package runner

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// i386Program is a static i386 program that makes one system call, nr,
// with ebx and ecx by int 0x80, and exits with its errno (0 on success).
func i386Program(nr, ebx, ecx uint32) []byte {
	var code bytes.Buffer
	le := func(op byte, v uint32) { code.WriteByte(op); binary.Write(&code, binary.LittleEndian, v) }
	le(0xb8, nr)                                           // mov eax, nr
	le(0xbb, ebx)                                          // mov ebx, …
	le(0xb9, ecx)                                          // mov ecx, …
	code.Write([]byte{0xcd, 0x80, 0xf7, 0xd8, 0x89, 0xc3}) // int 0x80; neg eax; mov ebx, eax
	le(0xb8, 1)                                            // mov eax, exit
	code.Write([]byte{0xcd, 0x80})                         // int 0x80
	const base, ehsize, phsize = 0x08048000, 52, 32
	size := uint32(ehsize + phsize + code.Len())
	var elf bytes.Buffer
	elf.Write([]byte{0x7f, 'E', 'L', 'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	binary.Write(&elf, binary.LittleEndian, struct {
		Type, Machine                                   uint16
		Version, Entry, Phoff, Shoff, Flags             uint32
		Ehsize, Phentsize, Phnum, Shentsize, Shnum, Shx uint16
	}{2, 3, 1, base + ehsize + phsize, ehsize, 0, 0, ehsize, phsize, 1, 0, 0, 0})
	binary.Write(&elf, binary.LittleEndian, [8]uint32{1, 0, base, base, size, size, 5, 0x1000})
	elf.Write(code.Bytes())
	return elf.Bytes()
}

// TestConfinedCompat: a 32-bit program (an i686 root's, or any that
// uses int 0x80) meets the same refusals as a 64-bit one.
func TestConfinedCompat(t *testing.T) {
	r, work, modes := confinedModes(t)
	tests := map[string]struct {
		nr, ebx, ecx uint32
		want         int // errno
	}{
		"unshare a user namespace": {310, 0x10000000, 0, 1},
		"keyctl":                   {288, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, 0, 1},
		"odd personality":          {136, 0x0040000, 0, 1},
		"clone3":                   {435, 0, 0, 38},
		"sync":                     {36, 0, 0, 0},
	}
	probe := filepath.Join(work, "root/tmp/i386-sync")
	if err := os.WriteFile(probe, i386Program(36, 0, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(probe).Run(); err != nil {
		t.Skipf("this kernel runs no i386 programs (%v): there is no compat ABI to guard", err)
	}
	for name, tc := range tests {
		prog := filepath.Join(work, "root/tmp", strconv.Itoa(int(tc.nr)))
		if err := os.WriteFile(prog, i386Program(tc.nr, tc.ebx, tc.ecx), 0o755); err != nil {
			t.Fatal(err)
		}
		for mode, m := range modes {
			t.Run(mode+"/"+name, func(t *testing.T) {
				path := prog
				if mode == "chrooted" {
					path = "/tmp/" + filepath.Base(prog)
				}
				_, err := output(r, m.cmd(path))
				got := 0
				var te *ToolError
				if errors.As(err, &te) {
					got = te.Status
				} else if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Errorf("errno %d, want %d", got, tc.want)
				}
			})
		}
	}
}
