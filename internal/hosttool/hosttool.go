// Package hosttool knows the host programs fbs runs: where they are (each
// overridable with FBS_<NAME>), which Debian package provides them, and
// how to ask their version.
package hosttool

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Tool is one host program.
type Tool struct {
	Name    string   // command name
	Alt     []string // other names (Fedora's grub2-mkimage for Debian's grub-mkimage)
	Package string   // the Debian package that provides it
	For     string   // what fbs needs it for
	Version []string // arguments that print its version
	// Optional tools are used when present (e.g. implantisomd5).
	Optional bool
}

// Tools lists every host program fbs uses.
var Tools = []Tool{
	{Name: "dnf", Package: "dnf", For: "install packages into image roots", Version: []string{"--version"}},
	{Name: "rpm", Package: "rpm", For: "query image roots", Version: []string{"--version"}},
	{Name: "rpmbuild", Package: "rpm", For: "demo repo", Version: []string{"--version"}},
	{Name: "createrepo_c", Package: "createrepo-c", For: "repo metadata", Version: []string{"--version"}},
	{Name: "mksquashfs", Package: "squashfs-tools", For: "live root image", Version: []string{"-version"}},
	{Name: "mkfs.erofs", Package: "erofs-utils", For: "EROFS root image (rootfs=erofs)", Version: []string{"--help"}, Optional: true},
	{Name: "xorrisofs", Package: "xorriso", For: "ISO images", Version: []string{"-version"}},
	{Name: "grub-mkimage", Alt: []string{"grub2-mkimage"}, Package: "grub-common", For: "BIOS El Torito image", Version: []string{"--version"}},
	{Name: "mkfs.fat", Package: "dosfstools", For: "EFI boot image", Version: []string{"--help"}},
	{Name: "mcopy", Package: "mtools", For: "EFI boot image", Version: []string{"--version"}},
	{Name: "mmd", Package: "mtools", For: "EFI boot image", Version: []string{"--version"}},
	{Name: "implantisomd5", Package: "isomd5sum", For: "media check (rd.live.check)", Version: []string{"--help"}, Optional: true},
	{Name: "qemu-system-x86_64", Package: "qemu-system-x86", For: "boot tests", Version: []string{"--version"}},
	{Name: "depmod", Package: "kmod", For: "demo kernel package", Version: []string{"--version"}},
	{Name: "dpkg-deb", Package: "dpkg", For: "demo repo from Debian packages", Version: []string{"--version"}},
	{Name: "apt-get", Package: "apt", For: "demo repo from Debian packages", Version: []string{"--version"}},
	{Name: "mkfs.ext4", Package: "e2fsprogs", For: "a build's own disk (--disk-limit)", Version: []string{"-V"}, Optional: true},
	{Name: "mount", Package: "mount", For: "a build's own disk (--disk-limit)", Version: []string{"--version"}, Optional: true},
}

// Firmware files the boot test needs.
var Firmware = []struct{ Path, Package, For string }{
	{"/usr/share/ovmf/OVMF.fd", "ovmf", "UEFI boot tests"},
}

// Path returns where the named tool is: $FBS_<NAME> if set, else the first
// of its names on PATH, else the plain name (running it then fails clearly).
func Path(name string) string {
	env := "FBS_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
	if p := os.Getenv(env); p != "" {
		return p
	}
	names := []string{name}
	for _, t := range Tools {
		if t.Name == name {
			names = append(names, t.Alt...)
		}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return name
}

// Missing returns an error naming the tools of names that cannot be run
// here, with the Debian packages that provide them, or nil.
func Missing(names ...string) error {
	var tools, pkgs []string
	for _, n := range names {
		if _, err := exec.LookPath(Path(n)); err == nil {
			continue
		}
		tools = append(tools, n)
		if t, ok := Find(n); ok && !slices.Contains(pkgs, t.Package) {
			pkgs = append(pkgs, t.Package)
		}
	}
	if len(tools) == 0 {
		return nil
	}
	return fmt.Errorf("host tools missing: %s (apt-get install %s; fbs doctor lists them all)", strings.Join(tools, ", "), strings.Join(pkgs, " "))
}

// Find returns the tool's description by name.
func Find(name string) (Tool, bool) {
	for _, t := range Tools {
		if t.Name == name {
			return t, true
		}
	}
	return Tool{}, false
}

var versionRe = regexp.MustCompile(`\d+\.\d+(\.\d+)*`)

// Version runs the tool and returns the first version number it prints, or
// "missing" when it cannot be run.
func Version(ctx context.Context, t Tool) string {
	path := Path(t.Name)
	if _, err := exec.LookPath(path); err != nil {
		return "missing"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, path, t.Version...).CombinedOutput()
	if v := versionRe.Find(out); v != nil {
		return string(v)
	}
	return "present"
}

// CachedVersions is Versions remembered in file, per tool binary (path,
// size, modification time): asking dnf for its version costs 0.3 s of CPU,
// which a build on two cores would take from mksquashfs.
func CachedVersions(ctx context.Context, file string, names ...string) map[string]string {
	type entry struct{ Binary, Version string }
	cached := map[string]entry{}
	if data, err := os.ReadFile(file); err == nil {
		json.Unmarshal(data, &cached)
	}
	out := map[string]string{}
	var ask []string
	ids := map[string]string{}
	for _, n := range names {
		ids[n] = binaryID(Path(n))
		if e, ok := cached[n]; ok && e.Binary == ids[n] && ids[n] != "" {
			out[n] = e.Version
		} else {
			ask = append(ask, n)
		}
	}
	if len(ask) == 0 {
		return out
	}
	for n, v := range Versions(ctx, ask...) {
		out[n] = v
		cached[n] = entry{ids[n], v}
	}
	if data, err := json.Marshal(cached); err == nil {
		// A temporary file of its own: builds in one process write this
		// at once.
		if f, err := os.CreateTemp(filepath.Dir(file), ".tool-versions-*"); err == nil {
			_, err = f.Write(data)
			if cerr := f.Close(); err == nil && cerr == nil && os.Chmod(f.Name(), 0o644) == nil {
				os.Rename(f.Name(), file)
			}
			os.Remove(f.Name())
		}
	}
	return out
}

func binaryID(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s %d %d", path, st.Size(), st.ModTime().UnixNano())
}

// Versions returns the versions of the named tools, asking them all at once.
func Versions(ctx context.Context, names ...string) map[string]string {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]string{}
	for _, n := range names {
		if t, ok := Find(n); ok {
			wg.Go(func() {
				v := Version(ctx, t)
				mu.Lock()
				out[n] = v
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return out
}
