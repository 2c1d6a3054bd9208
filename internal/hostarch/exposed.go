package hostarch

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// An interpreter that binfmt_misc opened when its entry was registered
// (flag F) is reachable by every build: /proc/PID/exe of a program it runs
// leads to the host's file itself, past the confinement's read-only view
// of the host, and a build's code is root, the file's owner: it could
// make it setuid root, or give it capabilities, for any local user. It
// cannot when the file is immutable or lies on a read-only mount.

// Exposed lists the enabled binfmt_misc entries with the F flag whose
// interpreter a build's code could change, as "entry (file)"; nil when
// there is none (or no binfmt_misc).
func Exposed() []string {
	dir := binfmtDir()
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range names {
		if n.Name() == "status" || n.Name() == "register" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n.Name()))
		if err != nil {
			continue
		}
		e := parseEntry(string(b))
		if !e.enabled || !strings.Contains(e.flags, "F") || e.interpreter == "" {
			continue
		}
		if file, ok := mutable(e.interpreter); ok {
			out = append(out, fmt.Sprintf("%s (%s)", n.Name(), file))
		}
	}
	slices.Sort(out)
	return out
}

// mutable says whether a build's code could change the interpreter's
// file: it is neither immutable nor on a read-only mount.
func mutable(interpreter string) (string, bool) {
	path, err := filepath.EvalSymlinks(interpreter)
	if err != nil {
		return interpreter, false // gone: the kernel holds a file nobody can reach by name
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err == nil && st.Flags&unix.ST_RDONLY != 0 {
		return path, false
	}
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_BASIC_STATS, &stx); err != nil {
		return path, true
	}
	return path, stx.Attributes&unix.STATX_ATTR_IMMUTABLE == 0
}

// ExposedError is the error a confined build gets on a host with exposed
// interpreters: what they are and the fix.
func ExposedError(exposed []string) error {
	return fmt.Errorf("binfmt_misc runs foreign programs through interpreters that are neither immutable nor on a "+
		"read-only mount, which a build's code could make setuid root through /proc/PID/exe of a program they run: %s; "+
		"make each immutable (chattr +i FILE; chattr -i before upgrading qemu-user-static; deploy/harden-binfmt.sh "+
		"does it, and make deps runs it) or disable its entry (echo 0 > %s/ENTRY)",
		strings.Join(exposed, ", "), binfmtDir())
}
