package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"fbs/internal/hosttool"
	"fbs/internal/runner"
)

// bulkDebs are the Debian packages that give a demo root the bulk and mix
// of a desktop's: every kernel module, a browser, a compiler's libraries,
// fonts and locale data, taken in this order until the bulk is big enough.
// Debian's non-free firmware is not in the main archive here; its free
// firmware is. Installed sizes (Debian 12): 391, 283, 222, 112, 67, 33,
// 42, 35, 25, 17, 8 and 0.1 MiB.
var bulkDebs = []string{"linux-image", "chromium", "locales-all", "libllvm15", "gcc-12", "cpp-12",
	"fonts-noto-core", "libicu72", "libgl1-mesa-dri", "perl-modules-5.36", "libpython3.11-stdlib", "firmware-linux-free"}

// bulkVersion changes whenever the bulk packages' make-up changes.
const bulkVersion = "1"

// BulkPrefix names the bulk packages: fbs-bulk-chromium and so on.
const BulkPrefix = "fbs-bulk-"

// Bulk writes into dir a repository of bulk packages of at least size
// bytes installed, each a Debian package repackaged whole as
// fbs-bulk-<name> (the kernel's modules under /usr/lib/fbs-bulk, where no
// boot looks for them). bump names bulk packages that get a second,
// newer version beside the first, with one file changed: a repo where one
// package was updated. It returns false when dir already held the same.
func Bulk(ctx context.Context, r *runner.Runner, dir, cache string, size int64, bump []string) (bool, error) {
	b := &builder{r: r, dir: dir, cache: cache, work: filepath.Join(cache, "demo-bulk-build"), arch: arches["x86_64"]}
	debDir := filepath.Join(cache, b.arch.debDir())
	if err := os.MkdirAll(debDir, 0o755); err != nil {
		return false, err
	}
	var debs []string
	for _, name := range bulkDebs {
		pattern := name + "_*.deb"
		if name == "linux-image" {
			pattern = b.arch.kernelGlob()
		}
		if globOne(debDir, pattern) == "" {
			pkg := name
			if name == "linux-image" {
				k, err := kernelPackage(ctx, b.arch)
				if err != nil {
					return false, fmt.Errorf("demo bulk: %w", err)
				}
				pkg = k
			}
			if err := b.download(ctx, debDir, pkg); err != nil {
				return false, fmt.Errorf("demo bulk: %w", err)
			}
		}
		deb := globOne(debDir, pattern)
		if deb == "" {
			return false, fmt.Errorf("demo bulk: apt-get download %s left no .deb in %s", name, debDir)
		}
		debs = append(debs, deb)
	}
	built, err := b.unlessStamped(".fbs-bulk-stamp", bulkStamp(debs, size, bump), func() error {
		return b.bulk(ctx, debs, size, bump)
	})
	if err != nil {
		return false, fmt.Errorf("demo bulk: %w", err)
	}
	return built, nil
}

// bulk unpacks the .debs in order until size bytes are in, packages each
// as an RPM (and the bumped ones again, newer), and indexes the repo.
func (b *builder) bulk(ctx context.Context, debs []string, size int64, bump []string) error {
	if err := os.RemoveAll(b.work); err != nil {
		return err
	}
	out := filepath.Join(b.dir, "Packages")
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var total int64
	for i, deb := range debs {
		if total >= size {
			break
		}
		name := bulkDebs[i]
		tree := filepath.Join(b.work, "tree", name)
		if err := os.MkdirAll(tree, 0o755); err != nil {
			return err
		}
		if err := b.run(ctx, "", hosttool.Path("dpkg-deb"), "-x", deb, tree); err != nil {
			return err
		}
		if err := bulkLayout(tree); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		n, err := treeBytes(tree)
		if err != nil {
			return err
		}
		total += n
		version, release, err := debVersion(ctx, deb)
		if err != nil {
			return err
		}
		p := &pkg{Name: BulkPrefix + name, Version: version, Release: release, Summary: "Bulk for large-root benchmarks: Debian's " + name,
			License: "Distributable", From: filepath.Base(deb), Tree: tree}
		if err := b.rpmbuild(ctx, p, out); err != nil {
			return err
		}
		if !slices.Contains(bump, name) {
			continue
		}
		// The newer version: the same files, one of them changed, as an
		// update that fixes a little.
		if err := writeFile(filepath.Join(tree, "usr/share/fbs-bulk", name, "update"), "updated\n", 0o644); err != nil {
			return err
		}
		p.Release += ".1"
		if err := b.rpmbuild(ctx, p, out); err != nil {
			return err
		}
	}
	b.r.Log.Printf("demo bulk: %d MiB in the packages' trees", total>>20)
	return b.run(ctx, "", hosttool.Path("createrepo_c"), "--quiet", b.dir)
}

// bulkLayout moves what a .deb puts outside /usr beneath it (Fedora's and
// the demo's roots are usr-merged, /lib a link to usr/lib), and the
// kernel's modules to /usr/lib/fbs-bulk/modules, so no bulk file stands
// where a demo package's does.
func bulkLayout(tree string) error {
	mods := filepath.Join(tree, "lib", "modules")
	if _, err := os.Stat(mods); err == nil {
		if err := os.MkdirAll(filepath.Join(tree, "usr/lib/fbs-bulk"), 0o755); err != nil {
			return err
		}
		if err := os.Rename(mods, filepath.Join(tree, "usr/lib/fbs-bulk/modules")); err != nil {
			return err
		}
		// The kernel image and its config are the demo kernel's to own.
		if err := os.RemoveAll(filepath.Join(tree, "boot")); err != nil {
			return err
		}
	}
	for _, top := range []string{"lib", "bin", "sbin"} {
		src := filepath.Join(tree, top)
		if _, err := os.Lstat(src); err != nil {
			continue
		}
		if err := mergeInto(src, filepath.Join(tree, "usr", top)); err != nil {
			return err
		}
	}
	return nil
}

// mergeInto moves the entries of src into dst, merging directories.
func mergeInto(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		if st, err := os.Lstat(to); err == nil && st.IsDir() && e.IsDir() {
			if err := mergeInto(from, to); err != nil {
				return err
			}
			continue
		}
		if err := os.Rename(from, to); err != nil {
			return err
		}
	}
	return os.Remove(src)
}

// treeBytes adds up the sizes of the regular files below dir.
func treeBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	return n, err
}

func bulkStamp(debs []string, size int64, bump []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%d\n%s\n", bulkVersion, size, strings.Join(bump, ","))
	for _, d := range debs {
		fmt.Fprintln(h, filepath.Base(d))
	}
	return hex.EncodeToString(h.Sum(nil))
}
