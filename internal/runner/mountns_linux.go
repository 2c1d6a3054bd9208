package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

const mountNSEnv = "FBS_PRIVATE_MOUNTS"

// PrivateMounts gives the rest of this fbs process a mount namespace of its
// own, so that what a build mounts for itself (the overlay on a cached image
// root) is never seen by the host and goes away with the process, however it
// ends. A process cannot move all its threads into a new mount namespace, so
// fbs re-executes itself in one: in the parent, PrivateMounts runs the child
// to its end and returns its exit status with reexeced set; in the child it
// returns at once. Without the privilege for it, it returns an error and the
// caller goes on without private mounts.
func PrivateMounts(ctx context.Context) (reexeced bool, status int, err error) {
	if os.Getenv(mountNSEnv) == "1" {
		if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
			return false, 0, fmt.Errorf("make mounts private: %w", err)
		}
		return false, 0, nil
	}
	if os.Geteuid() != 0 {
		return false, 0, errors.New("not root")
	}
	self, err := os.Executable()
	if err != nil {
		return false, 0, err
	}
	cmd := exec.CommandContext(ctx, self, os.Args[1:]...)
	// A cancel asks the child to stop as SIGTERM does (a server hands its
	// builds back first), and it is waited for: its exit status is this
	// command's.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), mountNSEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return false, 0, fmt.Errorf("start fbs in a mount namespace: %w", err)
	}
	// Ctrl-C reaches the child through the terminal's process group too; a
	// signal sent to this process alone is passed on as it came (SIGHUP
	// re-reads the configuration, SIGUSR1 drains a worker: neither may end
	// this process, which would take the child with it).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1)
	defer func() { signal.Stop(sigs); close(sigs) }()
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return true, 128 + int(ws.Signal()), nil
		}
		return true, ee.ExitCode(), nil
	}
	return true, 0, err
}

// HasPrivateMounts reports whether this process runs in a mount namespace of its own.
func HasPrivateMounts() bool { return os.Getenv(mountNSEnv) == "1" }
