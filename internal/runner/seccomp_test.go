package runner

import (
	"encoding/binary"
	"testing"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// TestSeccompPolicy: the filter assembles here, each refused name is a
// system call of x86_64, arm64 or their 32-bit ABIs (a misspelt one would
// be left out silently), each architecture's filter keeps what it has,
// and the 32-bit ABIs' programs assemble.
func TestSeccompPolicy(t *testing.T) {
	known := map[string]bool{}
	for _, a := range []string{"amd64", "arm64", "386", "arm"} {
		info, err := arch.GetInfo(a)
		if err != nil {
			t.Fatal(err)
		}
		for n := range info.SyscallNames {
			known[n] = true
		}
		p := seccompPolicy(info)
		if got := len(p.Syscalls[0].Names); got < len(refusedSyscalls)*2/3 {
			t.Errorf("%s: only %d of %d refused system calls", a, got, len(refusedSyscalls))
		}
	}
	for _, compat := range compatArches {
		prog, err := compatProgram(compat)
		if err != nil {
			t.Fatalf("%s: %v", compat.Name, err)
		}
		if _, err := bpf.Assemble(prog); err != nil {
			t.Errorf("%s: %v", compat.Name, err)
		}
	}
	for _, n := range refusedSyscalls {
		if !known[n] {
			t.Errorf("%s is no system call of x86_64 or arm64", n)
		}
	}
	info, err := arch.GetInfo("")
	if err != nil {
		t.Skipf("no seccomp tables for this architecture: %v", err)
	}
	p := seccompPolicy(info)
	if _, err := (&p).Assemble(); err != nil {
		t.Errorf("the filter does not assemble: %v", err)
	}
	var _ seccomp.Policy = p
}

// vsockCase is a system call and the filter's answer to it.
type vsockCase struct {
	abi  *arch.Info
	call string
	arg  uint64
	want uint32
}

// TestVsockProgram runs the vsock filter on system calls of x86_64 and
// arm64 and their 32-bit ABIs: socket(AF_VSOCK) is refused, whatever its
// argument's high word holds; other families and calls pass.
func TestVsockProgram(t *testing.T) {
	refuse := uint32(seccomp.ActionErrno) | uint32(unix.EAFNOSUPPORT)
	allow := uint32(seccomp.ActionAllow)
	for _, native := range []*arch.Info{arch.X86_64, arch.AARCH64} {
		compat := compatArches[map[string]string{"x86_64": "amd64", "aarch64": "arm64"}[native.Name]]
		prog, err := vsockProgram(native, compat)
		if err != nil {
			t.Fatal(err)
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatal(err)
		}
		tests := []vsockCase{
			{native, "socket", unix.AF_VSOCK, refuse},
			{native, "socket", 1<<32 | unix.AF_VSOCK, refuse},
			{native, "socket", unix.AF_INET, allow},
			{native, "socket", unix.AF_UNIX, allow},
			{native, "close", unix.AF_VSOCK, allow},
			{compat, "socket", unix.AF_VSOCK, refuse},
			{compat, "socket", unix.AF_INET6, allow},
		}
		if _, ok := compat.SyscallNames["socketcall"]; ok {
			tests = append(tests, vsockCase{compat, "socketcall", 1, refuse}, vsockCase{compat, "socketcall", 8, refuse}, vsockCase{compat, "socketcall", 3, allow})
		}
		for _, tc := range tests {
			// seccomp_data as the VM reads it: each 32-bit word where a
			// little-endian kernel has it, in the VM's network order.
			word := binary.BigEndian.AppendUint32
			data := word(nil, uint32(tc.abi.SyscallNames[tc.call]))
			data = word(data, uint32(tc.abi.ID))
			data = append(data, make([]byte, 8)...) // instruction pointer
			data = word(word(data, uint32(tc.arg)), uint32(tc.arg>>32))
			data = append(data, make([]byte, 5*8)...)
			got, err := vm.Run(data)
			if err != nil {
				t.Fatal(err)
			}
			if uint32(got) != tc.want {
				t.Errorf("%s %s(%#x): %#x, want %#x", tc.abi.Name, tc.call, tc.arg, got, tc.want)
			}
		}
	}
}
