package runner

import (
	"fmt"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// refusedSyscalls are what no build needs (dnf, rpm and its scriptlets,
// dracut, mksquashfs, xorriso, grub2-mkimage, QEMU) and what would reach
// past the confinement or into the kernel: loading kernels and modules,
// BPF, handles that open files by inode, the kernel keyring, perf,
// reboot, swap, mounting (the helper's own mounts are done by then),
// joining namespaces, tracing, userfaultfd, port I/O, the clock, process
// accounting, quotas and the kernel log. They fail with EPERM, as they
// would for a process without the capability, so tools take their usual
// fallback instead of dying. (Most need a capability the command no
// longer has; the filter also closes what the kernel lets root do
// without one, and what a kernel bug would open.) Names an architecture
// lacks are left out for it.
var refusedSyscalls = []string{
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"create_module", "bpf", "open_by_handle_at", "keyctl", "add_key", "request_key",
	"perf_event_open", "reboot", "swapon", "swapoff",
	"mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen",
	"fsconfig", "fsmount", "fspick", "mount_setattr", "setns",
	"ptrace", "process_vm_readv", "process_vm_writev", "userfaultfd",
	"iopl", "ioperm", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "stime",
	"acct", "quotactl", "quotactl_fd", "syslog", "lookup_dcookie", "uselib", "nfsservctl",
	"vm86", "vm86old", "fanotify_init",
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

// loadSeccomp sets no_new_privs and loads the filter on every thread of
// this process (TSYNC), so that whatever thread starts the command, the
// command inherits both.
func loadSeccomp() error {
	info, err := arch.GetInfo("")
	if err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	err = seccomp.LoadFilter(seccomp.Filter{NoNewPrivs: true, Flag: seccomp.FilterFlagTSync, Policy: seccompPolicy(info)})
	if err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	return nil
}
