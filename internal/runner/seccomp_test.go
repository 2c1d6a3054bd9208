package runner

import (
	"testing"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
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
