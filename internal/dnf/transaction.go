package dnf

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"fbs/internal/kickstart"
)

// Version is the host dnf's major version, 4 or 5 (0: unknown, taken as 4).
type Version int

var versionRe = regexp.MustCompile(`(?m)^(?:dnf5 version )?(\d+)\.\d+`)

// ParseVersion reads `dnf --version`: dnf 4 prints "4.14.0" first, dnf 5
// "dnf5 version 5.2.6.2".
func ParseVersion(out string) (Version, error) {
	m := versionRe.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("dnf --version: no version in %q", firstLine(out))
	}
	n, _ := strconv.Atoi(m[1])
	return Version(n), nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// Transaction is one dnf install of a kickstart's %packages.
type Transaction struct {
	// Specs are install's arguments: @environment, @core, @groups, names.
	Specs []string
	// Exclude go to --exclude (Install.Exclude).
	Exclude []string
	// Options go before the command: --setopt=… and dnf 5's switches.
	Options []string
	// Macros are RPM macro lines (%packages --inst-langs) for rpm as dnf
	// runs it: dnf 4 reads them from $HOME/.rpmmacros, not from the root.
	Macros []string
	// Notes say what dnf cannot be told, for the build log.
	Notes []string
}

// Plan turns a kickstart's final package sets into one dnf transaction,
// as anaconda's dnf payload does (pyanaconda/modules/payloads/payload/dnf/
// utils.py, get_installation_specs; dnf_manager.py, configure_base), for
// the command line of the host's dnf.
//
// The environment is "@id": dnf 4 has no "@^" syntax ("Module or Group
// '^x' is not available") and matches @x against environments by id or
// name; dnf 5 matches @x against group and environment ids. @core comes
// unless --nocore. A group's --nodefaults/--optional and a -@group cannot
// be said on dnf's command line: they are noted, the group installed with
// its default packages.
func Plan(p kickstart.Packages, v Version) Transaction {
	var t Transaction
	excluded := map[string]bool{}
	for _, g := range p.ExcludeGroups {
		excluded[g] = true
	}
	if p.Environment != "" && !excluded["^"+p.Environment] {
		t.Specs = append(t.Specs, "@"+p.Environment)
	}
	if p.Default {
		t.Notes = append(t.Notes, "%packages --default: the default environment is not known without the repos' comps; name it with @^")
	}
	if !p.NoCore && !excluded["core"] {
		t.Specs = append(t.Specs, "@core")
	}
	for _, g := range p.Groups {
		switch {
		case excluded[g.Name]:
			t.Notes = append(t.Notes, fmt.Sprintf("@%s is excluded by a -@%s line: not installed", g.Name, g.Name))
			continue
		case g.Name == "core" && !p.NoCore:
			continue
		case g.Include == kickstart.GroupRequired:
			t.Notes = append(t.Notes, fmt.Sprintf("@%s --nodefaults: dnf's install takes no package types; the group's default packages come too", g.Name))
		case g.Include == kickstart.GroupAll:
			t.Notes = append(t.Notes, fmt.Sprintf("@%s --optional: dnf's install takes no package types; the group's optional packages do not come", g.Name))
		}
		t.Specs = append(t.Specs, "@"+g.Name)
	}
	for _, g := range p.ExcludeGroups {
		if p.Environment != "" && g != "core" && !strings.HasPrefix(g, "^") {
			t.Notes = append(t.Notes, fmt.Sprintf("-@%s: dnf cannot leave a group out of @%s; its packages come if the environment names it", g, p.Environment))
		}
	}
	t.Specs = append(t.Specs, p.Include...)
	t.Exclude = append(t.Exclude, p.Exclude...)
	t.Options = options(p, v)
	if p.InstLangs != nil {
		langs := *p.InstLangs
		if langs == "" {
			langs = "%{nil}"
		}
		t.Macros = append(t.Macros, "%_install_langs "+langs)
	}
	return t
}

// options are the header's options as dnf settings (anaconda:
// dnf_manager.py, configure_base; the reference's table for the CLI).
func options(p kickstart.Packages, v Version) []string {
	var out []string
	if p.ExcludeWeakdeps {
		out = append(out, "--setopt=install_weak_deps=False")
	}
	if p.ExcludeDocs {
		out = append(out, "--setopt=tsflags=nodocs")
	}
	if p.MultiLib {
		out = append(out, "--setopt=multilib_policy=all")
	}
	if p.Timeout != nil {
		out = append(out, "--setopt=timeout="+strconv.Itoa(*p.Timeout))
	}
	if p.Retries != nil {
		out = append(out, "--setopt=retries="+strconv.Itoa(*p.Retries))
	}
	switch {
	case v >= 5:
		if p.IgnoreMissing {
			out = append(out, "--skip-unavailable")
		}
		if p.IgnoreBroken {
			out = append(out, "--skip-broken")
		}
	case p.IgnoreMissing || p.IgnoreBroken:
		// dnf 4's strict=False skips both what is missing and what is broken.
		out = append(out, "--setopt=strict=False")
	}
	return out
}

// missingRe matches dnf's words for a package, group or environment that
// no repo has: dnf 4's and dnf 5's "No match for argument", dnf 4's
// groups (dnf/comps.py) and its "filtered out by exclude filtering" (a
// name both installed and excluded).
var missingRe = regexp.MustCompile(`(?:No match for argument: (\S+)|Module or Group '([^']+)' (?:is not available|does not exist)|Environment '([^']+)' is not available|All matches were filtered out by exclude filtering for argument: (\S+))`)

// Missing says which package, group or environment a dnf output line
// reports missing, if any.
func Missing(line string) (string, bool) {
	m := missingRe.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	return m[1] + m[2] + m[3] + m[4], true
}
