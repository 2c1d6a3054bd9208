// Package runner runs a build's tools. Every command line is logged before it
// runs, its output streams into the build log, and a cancelled context stops
// the whole process tree at once. Commands that run inside an image root do so
// in their own mount, PID, IPC and UTS namespaces (see helper_linux.go), so
// nothing they mount or start outlives them; a confined build's commands
// all do, on a read-only view of the host (confine_linux.go), counted in
// the build's cgroups (cgroup_linux.go).
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"fbs/internal/buildlog"
)

// Cmd is one tool run.
type Cmd struct {
	Args []string
	Dir  string
	Env  []string // added to the fixed environment (see buildEnv)
	// Stdin is the command's input (chpasswd's "user:password" lines);
	// it is never logged. nil: none.
	Stdin io.Reader
	// Root, when set, runs Args chrooted into this image root with /proc,
	// /sys and /dev mounted (private to the command; gone when it ends).
	Root string
	// Binds are host directories mounted into Root: "SRC:DST", DST inside the root.
	// Only the command sees them.
	Binds []string
	// ReadOnlyRoot, when the runner confines, mounts Root read-only (its
	// /run, /tmp, /dev and Binds stay writable): for a command that only
	// reads the root while fbs does too.
	ReadOnlyRoot bool
	// Sandbox runs Args in new namespaces on the host filesystem (e.g. %post --nochroot).
	Sandbox bool
	// Writable, when the runner confines, narrows the host dirs the
	// command may write to these (nil: the confinement's Writable); it
	// sees the confinement's others read-only.
	Writable []string
	// Network gives a confined command the host's network (dnf's
	// downloads). Without it, it runs in a network namespace of its own
	// with a loopback alone: it reaches nothing that listens on the host
	// (its loopback, abstract Unix sockets, a cloud's metadata service).
	Network bool
	// OnLine receives each output line, for progress; it returns true for
	// a line that should not go into the log.
	OnLine func(string) bool
	// Watch, if set, runs while the tool does, with its PID, until done
	// is closed (e.g. to report progress the tool does not print).
	Watch func(pid int, done <-chan struct{})
}

// Runner runs commands for one build.
type Runner struct {
	Log *buildlog.Log
	// Self is the fbs binary, re-executed as the namespace helper.
	Self string
	// StopDelay is how long a cancelled tool has between SIGTERM and SIGKILL.
	StopDelay time.Duration
	// Confine, when set, confines every command (see Confinement).
	Confine *Confinement
	// Limits, when set, is asked after each command whether the build hit
	// one of its limits (failed says whether the command failed); its
	// error fails the command.
	Limits func(failed bool) error
}

// Confinement is what a build's commands may do to the host: each runs in
// its own mount, PID, IPC and UTS namespaces, sees the host's tree
// read-only but for Writable (the work dir, the cache), does not see
// Hidden at all (secrets, the service's data), has a /tmp, /run and /dev
// of its own (kernelfs_linux.go), sees the kernel's knobs in /proc and
// /sys read-only and its secrets masked, runs without the capabilities
// that could undo that (mounting, modules, raw I/O, ptrace, device nodes)
// under no_new_privs and a seccomp filter (seccomp_linux.go), and is
// counted in Cgroups (the build's limits).
type Confinement struct {
	Writable []string
	Hidden   []string
	Cgroups  []string
	// TmpSize bounds each tmpfs a command writes (/tmp, /var/tmp,
	// /dev/shm), which would otherwise take up to half the host's RAM
	// each; 0 is DefaultTmpSize. A build's memory limit, which counts
	// what its tmpfs hold too, is a good bound.
	TmpSize int64
}

// DefaultTmpSize bounds each of a command's tmpfs (/tmp, /var/tmp,
// /dev/shm) when nothing else does: a build keeps its data in its work
// dir, where --disk-limit counts it.
const DefaultTmpSize = 1 << 30

// New returns a runner that logs to log.
func New(log *buildlog.Log) *Runner {
	self, _ := os.Executable()
	return &Runner{Log: log, Self: self, StopDelay: 5 * time.Second}
}

// buildEnv is the whole environment of a build's commands, but for what
// the build adds on purpose (INSTALL_ROOT for a --nochroot %post, TMPDIR
// for dracut, MTOOLS_SKIP_CHECK): nothing of the server's own reaches
// them, as it may hold secrets (cloud keys, database URLs, tokens). A
// proxy for dnf is the kickstart's (repo --proxy).
var buildEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8", "TERM=dumb"}

// command builds the exec.Cmd for c without running it.
func (r *Runner) command(ctx context.Context, c Cmd) *exec.Cmd {
	args := c.Args
	if c.Root == "" && !strings.Contains(args[0], "/") {
		// A host tool is looked up on the server's PATH (where fbs doctor
		// found it), not on the command's.
		if p, err := exec.LookPath(args[0]); err == nil {
			args = append([]string{p}, args[1:]...)
		}
	}
	helped := c.Root != "" || c.Sandbox || r.Confine != nil
	offline := r.Confine != nil && !c.Network
	if helped {
		spec := helperSpec{root: c.Root, binds: c.Binds, tmpSize: DefaultTmpSize, rootRO: c.ReadOnlyRoot && r.Confine != nil, offline: offline}
		if cf := r.Confine; cf != nil {
			spec.confine, spec.rw, spec.hide, spec.cgroups = true, cf.Writable, cf.Hidden, cf.Cgroups
			if c.Writable != nil {
				spec.rw, spec.ro = c.Writable, cf.Writable
			}
			if cf.TmpSize > 0 {
				spec.tmpSize = cf.TmpSize
			}
		}
		args = append(append([]string{r.Self, helperArg}, spec.args()...), args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = c.Dir
	cmd.Stdin = c.Stdin
	cmd.Env = append(append([]string{}, buildEnv...), c.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if helped {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS
		if offline {
			cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWNET
		}
	}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	cmd.WaitDelay = r.StopDelay
	return cmd
}

// Run runs c, logging its command line and output. A failure names the tool,
// its exit status and its last lines of output.
func (r *Runner) Run(ctx context.Context, c Cmd) error {
	cmd := r.command(ctx, c)
	tool := filepath.Base(c.Args[0])
	where := ""
	if c.Root != "" {
		where = " (in " + c.Root + ")"
	}
	r.Log.Printf("$ %s%s", Quote(c.Args), where)
	out := r.Log.Output("  "+tool+": ", c.OnLine)
	cmd.Stdout = out
	cmd.Stderr = out
	start := time.Now()
	err := cmd.Start()
	if err != nil {
		return fmt.Errorf("%s: %w", tool, err)
	}
	if c.Watch != nil {
		done := make(chan struct{})
		defer close(done)
		go c.Watch(cmd.Process.Pid, done)
	}
	err = cmd.Wait()
	// The group may hold grandchildren that ignored SIGTERM.
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	out.Flush()
	if ctx.Err() != nil {
		r.Log.Printf("%s stopped: %v", tool, context.Cause(ctx))
		return fmt.Errorf("%s: %w", tool, context.Cause(ctx))
	}
	if r.Limits != nil {
		if lerr := r.Limits(err != nil); lerr != nil {
			r.Log.Printf("%s: %v", tool, lerr)
			return fmt.Errorf("%s: %w", tool, lerr)
		}
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return &ToolError{Tool: tool, Status: ee.ExitCode(), Tail: out.Tail()}
		}
		return fmt.Errorf("%s: %w", tool, err)
	}
	r.Log.Printf("%s done in %s", tool, time.Since(start).Round(time.Millisecond))
	return nil
}

// ToolError is a tool that exited non-zero.
type ToolError struct {
	Tool   string
	Status int
	Tail   string
}

func (e *ToolError) Error() string {
	msg := fmt.Sprintf("%s exited with status %d", e.Tool, e.Status)
	if e.Tail != "" {
		msg += "; its last output:\n" + indent(e.Tail)
	}
	return msg
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// Quote renders args as a shell would need them, for the log.
func Quote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`;&|<>()*?[]{}!#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
