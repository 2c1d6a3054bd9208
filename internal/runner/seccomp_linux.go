package runner

import (
	"fmt"
	"runtime"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// refusedSyscalls are what no build needs (dnf, rpm and its scriptlets,
// dracut, mksquashfs, xorriso, grub2-mkimage, QEMU) and what would reach
// past the confinement or into the kernel: loading kernels and modules,
// BPF, handles that open files by inode, the kernel keyring, perf,
// reboot, swap, mounting (the helper's own mounts are done by then),
// joining namespaces, tracing, userfaultfd, port I/O, the clock, process
// accounting, quotas, the kernel log, and io_uring (a large attack
// surface of its own, which no build tool needs: they fall back to plain
// reads and writes, as where it is disabled). They fail with EPERM, as
// they would for a process without the capability, so tools take their
// usual fallback instead of dying. (Most need a capability the command
// no longer has; the filter also closes what the kernel lets root do
// without one, and what a kernel bug would open.) Names an architecture
// lacks are left out for it.
var refusedSyscalls = []string{
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"create_module", "bpf", "open_by_handle_at", "keyctl", "add_key", "request_key",
	"perf_event_open", "reboot", "swapon", "swapoff",
	"mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen",
	"fsconfig", "fsmount", "fspick", "mount_setattr", "setns",
	"ptrace", "process_vm_readv", "process_vm_writev", "userfaultfd",
	"iopl", "ioperm", "settimeofday", "clock_settime", "clock_settime64", "clock_adjtime",
	"clock_adjtime64", "adjtimex", "stime",
	"acct", "quotactl", "quotactl_fd", "syslog", "lookup_dcookie", "uselib", "nfsservctl",
	"vm86", "vm86old", "fanotify_init",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
}

// allowedPersonalities are the personality(2) calls tools make: Linux,
// 32-bit Linux (setarch i686, linux32), UNAME26 and the query; the others
// (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC…) weaken the command's own
// defences and are refused, as Docker's default profile does.
var allowedPersonalities = []uint64{0x0, 0x8, 0x20000, 0x20008, 0xffffffff}

// seccompPolicy is the filter a confined command runs under: everything
// but refusedSyscalls, user namespaces (their capabilities would undo
// the dropped ones) and odd personalities. clone3 answers ENOSYS: its
// flags are behind a pointer the filter cannot read, and ENOSYS makes
// glibc fall back to clone, whose flags it can.
func seccompPolicy(info *arch.Info) seccomp.Policy {
	var names []string
	for _, n := range refusedSyscalls {
		if _, ok := info.SyscallNames[n]; ok {
			names = append(names, n)
		}
	}
	newUser := seccomp.ArgumentConditions{{Argument: 0, Operation: seccomp.BitsSet, Value: unix.CLONE_NEWUSER}}
	var odd seccomp.ArgumentConditions
	for _, p := range allowedPersonalities {
		odd = append(odd, seccomp.Condition{Argument: 0, Operation: seccomp.NotEqual, Value: p})
	}
	return seccomp.Policy{
		DefaultAction: seccomp.ActionAllow,
		Syscalls: []seccomp.SyscallGroup{
			{Action: seccomp.ActionErrno, Names: names, NamesWithCondtions: []seccomp.NameWithConditions{
				// clone's flags are its first argument on x86_64 and arm64 alike.
				{Name: "clone", Conditions: newUser},
				{Name: "unshare", Conditions: newUser},
				{Name: "personality", Conditions: odd},
			}},
			{Action: seccomp.ActionErrno | seccomp.Action(unix.ENOSYS), Names: []string{"clone3"}},
		},
	}
}

// compatArches are the other ABI the kernel runs this architecture's
// processes in: 32-bit programs (an i686 image root's, or int 0x80 from
// any program). The library's filter lets every call of another ABI
// through, so a second filter makes the same refusals for it.
var compatArches = map[string]*arch.Info{"amd64": arch.I386, "arm64": arch.ARM}

// loadSeccomp sets no_new_privs and loads the filters on every thread of
// this process (TSYNC), so that whatever thread starts the command, the
// command inherits them.
func loadSeccomp() error {
	info, err := arch.GetInfo("")
	if err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	err = seccomp.LoadFilter(seccomp.Filter{NoNewPrivs: true, Flag: seccomp.FilterFlagTSync, Policy: seccompPolicy(info)})
	if err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	abis := []*arch.Info{info}
	if compat, ok := compatArches[runtime.GOARCH]; ok {
		abis = append(abis, compat)
		prog, err := compatProgram(compat)
		if err != nil {
			return fmt.Errorf("seccomp for %s programs: %w", compat.Name, err)
		}
		if err := loadProgram(prog); err != nil {
			return fmt.Errorf("seccomp for %s programs: %w", compat.Name, err)
		}
	}
	prog, err := vsockProgram(abis...)
	if err == nil {
		err = loadProgram(prog)
	}
	if err != nil {
		return fmt.Errorf("seccomp for vsock: %w", err)
	}
	return nil
}

// vsockProgram answers socket(AF_VSOCK, …) with EAFNOSUPPORT in each of
// abis: vsock's ports are the machine's, not a network namespace's, so a
// command without the network would still reach the hypervisor and the
// host's vsock services. The family is an int: its argument's low word
// alone counts, as for the kernel. socketcall(2)'s socket and socketpair,
// whose family is behind a pointer, get EAFNOSUPPORT whatever the family:
// a 32-bit program that makes its sockets so has none (no build step
// needs one).
func vsockProgram(abis ...*arch.Info) ([]bpf.Instruction, error) {
	a := &labelled{labels: map[string]int{}, jumps: map[int]string{}}
	allow := bpf.RetConstant{Val: uint32(seccomp.ActionAllow)}
	a.add(bpf.LoadAbsolute{Off: 4, Size: 4}) // arch
	for i, abi := range abis {
		a.jump(bpf.JumpEqual, uint32(abi.ID), fmt.Sprint("abi", i))
	}
	a.add(allow)
	for i, abi := range abis {
		a.label(fmt.Sprint("abi", i))
		a.add(bpf.LoadAbsolute{Off: 0, Size: 4}) // nr
		if nr, ok := abi.SyscallNames["socket"]; ok {
			a.jump(bpf.JumpEqual, uint32(nr), "socket")
		}
		if nr, ok := abi.SyscallNames["socketcall"]; ok {
			a.jump(bpf.JumpEqual, uint32(nr), "socketcall")
		}
		a.add(allow)
	}
	a.label("socketcall")
	a.add(bpf.LoadAbsolute{Off: 16, Size: 4}) // the call
	a.jump(bpf.JumpEqual, 1, "refuse")        // SYS_SOCKET
	a.jump(bpf.JumpEqual, 8, "refuse")        // SYS_SOCKETPAIR
	a.add(allow)
	a.label("socket")
	a.add(bpf.LoadAbsolute{Off: 16, Size: 4}) // args[0], its low word
	a.jump(bpf.JumpEqual, unix.AF_VSOCK, "refuse")
	a.add(allow)
	a.label("refuse")
	a.add(bpf.RetConstant{Val: uint32(seccomp.ActionErrno) | uint32(unix.EAFNOSUPPORT)})
	return a.resolve()
}

// compatProgram is seccompPolicy for the calls of the compat ABI, as a
// BPF program (the library assembles for the native ABI only); the
// native ABI's calls pass it, for the first filter to judge.
func compatProgram(compat *arch.Info) ([]bpf.Instruction, error) {
	a := &labelled{labels: map[string]int{}, jumps: map[int]string{}}
	const argLow = 16                        // seccomp_data.args[0], its low word: the whole argument on a 32-bit ABI
	a.add(bpf.LoadAbsolute{Off: 4, Size: 4}) // arch
	a.jump(bpf.JumpEqual, uint32(compat.ID), "compat")
	a.add(bpf.RetConstant{Val: uint32(seccomp.ActionAllow)})
	a.label("compat")
	a.add(bpf.LoadAbsolute{Off: 0, Size: 4}) // nr
	policy := seccompPolicy(compat)
	for _, n := range policy.Syscalls[0].Names {
		a.jump(bpf.JumpEqual, uint32(compat.SyscallNames[n]), "deny")
	}
	for _, n := range []string{"clone", "unshare"} {
		if nr, ok := compat.SyscallNames[n]; ok {
			a.jump(bpf.JumpEqual, uint32(nr), "newuser")
		}
	}
	if nr, ok := compat.SyscallNames["clone3"]; ok {
		a.jump(bpf.JumpEqual, uint32(nr), "enosys")
	}
	if nr, ok := compat.SyscallNames["personality"]; ok {
		a.jump(bpf.JumpEqual, uint32(nr), "personality")
	}
	a.add(bpf.RetConstant{Val: uint32(seccomp.ActionAllow)})
	a.label("newuser")
	a.add(bpf.LoadAbsolute{Off: argLow, Size: 4})
	a.jump(bpf.JumpBitsSet, unix.CLONE_NEWUSER, "deny")
	a.add(bpf.RetConstant{Val: uint32(seccomp.ActionAllow)})
	a.label("personality")
	a.add(bpf.LoadAbsolute{Off: argLow, Size: 4})
	for _, p := range allowedPersonalities {
		a.jump(bpf.JumpEqual, uint32(p), "allow")
	}
	a.label("deny")
	a.add(bpf.RetConstant{Val: uint32(seccomp.ActionErrno) | uint32(unix.EPERM)})
	a.label("allow")
	a.add(bpf.RetConstant{Val: uint32(seccomp.ActionAllow)})
	a.label("enosys")
	a.add(bpf.RetConstant{Val: uint32(seccomp.ActionErrno) | uint32(unix.ENOSYS)})
	return a.resolve()
}

// labelled is a BPF program whose conditional jumps name their target.
type labelled struct {
	ins    []bpf.Instruction
	labels map[string]int // label → index
	jumps  map[int]string // index of a jump → its label
}

func (a *labelled) add(i bpf.Instruction) { a.ins = append(a.ins, i) }

func (a *labelled) label(l string) { a.labels[l] = len(a.ins) }

func (a *labelled) jump(cond bpf.JumpTest, val uint32, label string) {
	a.jumps[len(a.ins)] = label
	a.add(bpf.JumpIf{Cond: cond, Val: val})
}

func (a *labelled) resolve() ([]bpf.Instruction, error) {
	for i, l := range a.jumps {
		to, ok := a.labels[l]
		skip := to - i - 1
		if !ok || skip < 0 || skip > 255 {
			return nil, fmt.Errorf("jump %d to %s cannot be made", i, l)
		}
		j := a.ins[i].(bpf.JumpIf)
		j.SkipTrue = uint8(skip)
		a.ins[i] = j
	}
	return a.ins, nil
}

// loadProgram loads a seccomp filter on every thread.
func loadProgram(ins []bpf.Instruction) error {
	raw, err := bpf.Assemble(ins)
	if err != nil {
		return err
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	tid, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	switch {
	case errno != 0:
		return errno
	case tid != 0:
		return fmt.Errorf("thread %d cannot take the filter", tid)
	}
	return nil
}
