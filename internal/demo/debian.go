package demo

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"fbs/internal/hosttool"
)

// debRef is one Debian package of a dependency closure, as apt chose it.
type debRef struct {
	Name, Version, Arch string
}

// File is the name apt-get download gives the package's file (an epoch's
// colon is escaped).
func (d debRef) File() string {
	return fmt.Sprintf("%s_%s_%s.deb", d.Name, strings.ReplaceAll(d.Version, ":", "%3a"), d.Arch)
}

var aptInstRe = regexp.MustCompile(`^Inst (\S+) \((\S+) .*\[(\S+)\]\)`)

// aptClosure asks apt which packages of an arch installing roots on an
// empty system takes, without recommends: apt-get -s against an empty
// dpkg status, so apt picks among alternatives as it would for a new
// system. It needs the package lists (apt-get update), not the network.
func aptClosure(ctx context.Context, a arch, roots []string) ([]debRef, error) {
	args := append([]string{"-s", "-q", "-o", "Dir::State::status=/dev/null", "-o", "APT::Sandbox::User=root"}, a.aptOptions()...)
	args = append(append(args, "install", "--no-install-recommends"), roots...)
	out, err := exec.CommandContext(ctx, hosttool.Path("apt-get"), args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("apt-get -s install %s: %w (run apt-get update first if the package lists are empty%s)\n%s",
			strings.Join(roots, " "), err, a.foreignHint(), lastLines(string(out), 5))
	}
	return parseAptInst(string(out)), nil
}

// parseAptInst reads apt-get -s's "Inst name (version … [arch])" lines.
func parseAptInst(out string) []debRef {
	var refs []debRef
	for _, line := range strings.Split(out, "\n") {
		if m := aptInstRe.FindStringSubmatch(line); m != nil {
			refs = append(refs, debRef{Name: m[1], Version: m[2], Arch: m[3]})
		}
	}
	return refs
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// control is what the demo distro takes from a .deb's control file.
type control struct {
	Version  string
	Summary  string     // the description's first line
	Depends  [][]string // clauses of alternatives, versions and arch qualifiers dropped
	Provides []string
}

func readControl(ctx context.Context, deb string) (control, error) {
	out, err := exec.CommandContext(ctx, hosttool.Path("dpkg-deb"), "-f", deb, "Version", "Pre-Depends", "Depends", "Provides", "Description").Output()
	if err != nil {
		return control{}, fmt.Errorf("dpkg-deb -f %s: %w", deb, err)
	}
	return parseControl(string(out)), nil
}

var versionRe = regexp.MustCompile(`\s*\([^)]*\)`)

// parseControl reads dpkg-deb -f's "Field: value" lines (continuation
// lines start with a space).
func parseControl(text string) control {
	fields := map[string]string{}
	var last string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, " ") && last != "" {
			if last != "Description" {
				fields[last] += " " + strings.TrimSpace(line)
			}
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			last = k
			fields[k] = strings.TrimSpace(v)
		}
	}
	names := func(list string) [][]string {
		var clauses [][]string
		for _, clause := range strings.Split(versionRe.ReplaceAllString(list, ""), ",") {
			var alts []string
			for _, alt := range strings.Split(clause, "|") {
				name, _, _ := strings.Cut(strings.TrimSpace(alt), ":")
				if name != "" {
					alts = append(alts, name)
				}
			}
			if len(alts) > 0 {
				clauses = append(clauses, alts)
			}
		}
		return clauses
	}
	c := control{Version: fields["Version"], Summary: strings.ReplaceAll(fields["Description"], "%", "%%"), Depends: append(names(fields["Pre-Depends"]), names(fields["Depends"])...)}
	for _, p := range names(fields["Provides"]) {
		c.Provides = append(c.Provides, p...)
	}
	return c
}

// usrMerge moves what a Debian package ships under /bin, /sbin, /lib and
// /lib64 into /usr, as on Fedora, where those are symlinks into /usr that
// the filesystem package owns. A path /usr already has (Debian's
// compatibility links) keeps /usr's.
func usrMerge(tree string) error {
	for _, top := range []string{"bin", "sbin", "lib", "lib64"} {
		src := filepath.Join(tree, top)
		if _, err := os.Lstat(src); err != nil {
			continue
		}
		dst := filepath.Join(tree, "usr", top)
		err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			to := filepath.Join(dst, strings.TrimPrefix(path, src))
			if d.IsDir() {
				return os.MkdirAll(to, 0o755)
			}
			if _, err := os.Lstat(to); err == nil {
				return nil
			}
			return os.Rename(path, to)
		})
		if err != nil {
			return fmt.Errorf("usr-merge %s: %w", src, err)
		}
		if err := os.RemoveAll(src); err != nil {
			return err
		}
	}
	return nil
}

// trimmed are the parts of Debian's packages an image does without, as a
// kickstart's --excludedocs and --inst-langs would drop them.
var trimmed = []string{"usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/lintian", "usr/share/bug",
	"usr/share/locale", "usr/share/bash-completion", "usr/share/zsh", "usr/share/fish"}

// dedupe removes from each tree, in order, the files an earlier tree
// already holds, so that no two packages own one path with different
// contents (rpm refuses that transaction).
func dedupe(trees []string) error {
	owned := map[string]bool{}
	for _, tree := range trees {
		var paths []string
		err := filepath.WalkDir(tree, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			paths = append(paths, strings.TrimPrefix(path, tree))
			return nil
		})
		if err != nil {
			return err
		}
		sort.Strings(paths)
		for _, p := range paths {
			if owned[p] {
				if err := os.Remove(tree + p); err != nil {
					return err
				}
				continue
			}
			owned[p] = true
		}
	}
	return nil
}
