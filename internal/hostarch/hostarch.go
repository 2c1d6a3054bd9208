// Package hostarch says which architectures this host can build images
// for. Everything that runs inside an image root (rpm scriptlets, %post,
// dracut) runs the image's own binaries, so a foreign architecture needs
// the kernel's binfmt_misc to hand them to qemu-user-static.
package hostarch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// Media are the architectures fbs makes media for.
var Media = []string{"x86_64", "aarch64"}

// binfmtDir is where binfmt_misc is mounted: $FBS_BINFMT_MISC if set
// (tests, here and of the commands, point it at a fake), else the
// kernel's place.
func binfmtDir() string {
	if d := os.Getenv("FBS_BINFMT_MISC"); d != "" {
		return d
	}
	return "/proc/sys/fs/binfmt_misc"
}

// goArches maps Go's architecture names to RPM's.
var goArches = map[string]string{
	"amd64":   "x86_64",
	"arm64":   "aarch64",
	"386":     "i686",
	"arm":     "armv7hl",
	"ppc64le": "ppc64le",
	"s390x":   "s390x",
	"riscv64": "riscv64",
}

// Native is the host's architecture in RPM's names (x86_64, aarch64, ...),
// from runtime.GOARCH.
func Native() string {
	if a, ok := goArches[runtime.GOARCH]; ok {
		return a
	}
	return runtime.GOARCH
}

// Check is nil when programs built for arch run on this host: natively, or
// through a binfmt_misc entry for qemu-<arch> that is enabled, has the F
// flag (so it works inside a chroot) and whose interpreter exists.
// Otherwise the error says what is missing and the fix.
func Check(arch string) error {
	if arch == Native() {
		return nil
	}
	const install = "apt-get install qemu-user-static binfmt-support"
	entry, binfmtDir := "qemu-"+arch, binfmtDir()
	status, err := os.ReadFile(filepath.Join(binfmtDir, "status"))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s programs cannot run on this %s host: binfmt_misc is not mounted at %s (Debian: %s; mount -t binfmt_misc binfmt_misc %s)",
			arch, Native(), binfmtDir, install, binfmtDir)
	}
	if err != nil {
		return fmt.Errorf("%s programs: read binfmt_misc status: %w", arch, err)
	}
	if strings.TrimSpace(string(status)) != "enabled" {
		return fmt.Errorf("%s programs cannot run on this %s host: binfmt_misc is disabled (echo 1 > %s)",
			arch, Native(), filepath.Join(binfmtDir, "status"))
	}
	b, err := os.ReadFile(filepath.Join(binfmtDir, entry))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s programs cannot run on this %s host: no binfmt_misc entry %s (Debian: %s; update-binfmts --enable %s)",
			arch, Native(), entry, install, entry)
	}
	if err != nil {
		return fmt.Errorf("%s programs: read binfmt_misc entry %s: %w", arch, entry, err)
	}
	e := parseEntry(string(b))
	switch {
	case !e.enabled:
		return fmt.Errorf("%s programs cannot run on this %s host: binfmt_misc entry %s is disabled (update-binfmts --enable %s)",
			arch, Native(), entry, entry)
	case !strings.Contains(e.flags, "F"):
		// Without F the kernel looks the interpreter up when a program
		// starts, inside the chroot, where it is not.
		return fmt.Errorf("%s programs cannot run in an image root on this %s host: binfmt_misc entry %s has flags %q, without F (fix binary), so its interpreter is not found inside a chroot (Debian: apt-get install --reinstall qemu-user-static binfmt-support, whose entries have F)",
			arch, Native(), entry, e.flags)
	case e.interpreter == "":
		return fmt.Errorf("%s programs: binfmt_misc entry %s names no interpreter", arch, entry)
	}
	if _, err := os.Stat(e.interpreter); err != nil {
		return fmt.Errorf("%s programs cannot run on this %s host: interpreter %s of binfmt_misc entry %s: %w (Debian: %s)",
			arch, Native(), e.interpreter, entry, err, install)
	}
	return nil
}

// Buildable is the arches of Media that Check accepts.
func Buildable() []string {
	return slices.DeleteFunc(slices.Clone(Media), func(a string) bool { return Check(a) != nil })
}

type entry struct {
	enabled     bool
	interpreter string
	flags       string
}

// parseEntry reads a binfmt_misc entry as the kernel prints it:
// "enabled", "interpreter /path", "flags: PF", "offset 0", "magic ...".
func parseEntry(s string) entry {
	var e entry
	for _, line := range strings.Split(s, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch k {
		case "enabled":
			e.enabled = true
		case "interpreter":
			e.interpreter = strings.TrimSpace(v)
		case "flags:":
			e.flags = strings.TrimSpace(v)
		}
	}
	return e
}
