package runner

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// closeInherited marks every descriptor from 3 up close-on-exec, so that
// none reaches a command; the process itself may still use them. Go opens
// its own close-on-exec, so only inherited ones change. Kernels before 5.11
// lack CLOSE_RANGE_CLOEXEC: the descriptors are then walked in /proc.
func closeInherited() {
	if unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
		}
	}
}
