package kickstart

import (
	"fmt"
	"slices"
	"strings"
)

// GroupInclude is which of a group's packages a %packages line asks for
// (pykickstart's GROUP_REQUIRED, GROUP_DEFAULT, GROUP_ALL).
type GroupInclude int

const (
	GroupRequired GroupInclude = iota // @g --nodefaults: mandatory (and conditional) only
	GroupDefault                      // @g: mandatory, default and conditional
	GroupAll                          // @g --optional: optional ones too
)

// Group is a group a %packages line names.
type Group struct {
	Name    string
	Include GroupInclude
}

// Packages is every %packages section of a kickstart, combined as
// pykickstart combines them (pykickstart: parser.py, Packages.add;
// sections.py, PackageSection.handleHeader): the final sets, in which the
// order of the lines is already accounted for.
type Packages struct {
	// Include and Exclude are names and globs, sorted: a later line wins,
	// so "wget" then "-wget" leaves wget only in Exclude, and "-wget" then
	// "wget" only in Include. A glob is not matched against names here.
	Include []string
	Exclude []string
	// Groups are the @group lines, the first mention of a group winning
	// (a later "@g --optional" changes nothing), less those a later -@g
	// dropped.
	Groups []Group
	// ExcludeGroups are the -@group lines, in order. An exclusion stays
	// when a later line names the group again, and anaconda excludes
	// before it solves, so an excluded group is never installed. A -@^env
	// that is not the current environment is here as "^env".
	ExcludeGroups []string
	// Environment is the last @^environment line's, "" for none (or one a
	// later -@^ line of the same name cleared).
	Environment string
	// Header options. Each %packages header sets them anew, except
	// Default, which only turns on, and InstLangs, set only when given.
	Default         bool // --default: the default environment
	NoCore          bool
	ExcludeDocs     bool
	IgnoreMissing   bool // --ignoremissing
	IgnoreBroken    bool // --ignorebroken
	MultiLib        bool // --multilib
	ExcludeWeakdeps bool // --exclude-weakdeps (--excludeWeakdeps)
	InstLangs       *string
	Timeout         *int
	Retries         *int
	// Seen says a %packages section was given at all.
	Seen bool
	// Pos is the first %packages header's, where errors about the
	// package set point.
	Pos Pos
}

// GroupNames are the names of Groups.
func (p Packages) GroupNames() []string {
	out := make([]string, len(p.Groups))
	for i, g := range p.Groups {
		out[i] = g.Name
	}
	return out
}

// add takes one %packages line, text after '#' already cut, as
// pykickstart's Packages.add does for each line.
func (p *Packages) add(pos Pos, line string) error {
	s := strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(s, "@^"):
		p.Environment = s[2:]
	case strings.HasPrefix(s, "@"):
		return p.addGroup(pos, s[1:])
	case strings.HasPrefix(s, "-@^") && p.Environment == s[3:]:
		p.Environment = ""
	case strings.HasPrefix(s, "-@"):
		name := s[2:]
		p.Groups = slices.DeleteFunc(p.Groups, func(g Group) bool { return g.Name == name })
		p.ExcludeGroups = append(p.ExcludeGroups, name)
	case s == "-":
		// pykickstart fails here with an IndexError, a crash rather than a message.
		return &Error{Pos: pos, Msg: "%packages: a lone '-' names no package to exclude"}
	case strings.HasPrefix(s, "-"):
		p.Include = deleteValue(p.Include, s[1:])
		p.Exclude = insertSorted(p.Exclude, s[1:])
	default:
		p.Exclude = deleteValue(p.Exclude, s)
		p.Include = insertSorted(p.Include, s)
	}
	return nil
}

// addGroup reads "name [--nodefaults|--optional]": the options may stand
// anywhere, take unambiguous prefixes, and the other words, joined by one
// space, are the name (pykickstart: Packages._processGroup, which uses
// parse_known_args, so an unknown option becomes part of the name).
func (p *Packages) addGroup(pos Pos, s string) error {
	var nodefaults, optional bool
	var words []string
	for _, w := range strings.Fields(s) {
		name, ok := matchOption(w, []string{"nodefaults", "optional"})
		switch {
		case ok && name == "nodefaults":
			nodefaults = true
		case ok && name == "optional":
			optional = true
		default:
			words = append(words, w)
		}
	}
	if nodefaults && optional {
		return quoting(pos, "%packages: a group cannot take both --nodefaults and --optional", fmt.Sprintf("%%packages: @%s: a group cannot take both --nodefaults and --optional", s))
	}
	name := strings.Join(words, " ")
	for _, g := range p.Groups {
		if g.Name == name {
			return nil
		}
	}
	inc := GroupDefault
	switch {
	case nodefaults:
		inc = GroupRequired
	case optional:
		inc = GroupAll
	}
	p.Groups = append(p.Groups, Group{Name: name, Include: inc})
	return nil
}

// matchOption says which of names the word w, a --option, stands for: the
// name itself or its only prefix among them. An ambiguous or unknown word
// is not an option here (a group line keeps it in the name, as pykickstart).
func matchOption(w string, names []string) (string, bool) {
	opt, ok := strings.CutPrefix(w, "--")
	if !ok || opt == "" || strings.Contains(opt, "=") {
		return "", false
	}
	var found []string
	for _, n := range names {
		if n == opt {
			return n, true
		}
		if strings.HasPrefix(n, opt) {
			found = append(found, n)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return "", false
}

func insertSorted(list []string, s string) []string {
	i, found := slices.BinarySearch(list, s)
	if found {
		return list
	}
	return slices.Insert(list, i, s)
}

func deleteValue(list []string, s string) []string {
	if list = slices.DeleteFunc(list, func(x string) bool { return x == s }); len(list) == 0 {
		return nil
	}
	return list
}

// parsePackages reads a %packages section: its header's options (sections.py,
// PackageSection: every header sets them anew but --default and
// --inst-langs), then each line.
func (ks *Kickstart) parsePackages(pos Pos, args []string, body []Line) error {
	fs := newFlags("%packages")
	p := &ks.Packages
	docs := fs.Bool("excludedocs", false, "")
	missing := fs.Bool("ignoremissing", false, "")
	broken := fs.Bool("ignorebroken", false, "")
	def := fs.Bool("default", false, "")
	multi := fs.Bool("multilib", false, "")
	nocore := fs.Bool("nocore", false, "")
	weak := fs.Bool("exclude-weakdeps", false, "")
	fs.BoolVar(weak, "excludeWeakdeps", false, "")
	langs := fs.String("inst-langs", "", "")
	fs.StringVar(langs, "instLangs", "", "")
	timeout := fs.Int("timeout", 0, "")
	retries := fs.Int("retries", 0, "")
	if err := parseFlags(pos, fs, args, 0); err != nil {
		return err
	}
	if *def && *nocore {
		return &Error{Pos: pos, Msg: "%packages: --default and --nocore cannot be used together"}
	}
	for _, old := range []string{"excludeWeakdeps", "instLangs"} {
		if fs.Changed(old) {
			ks.Ignored = append(ks.Ignored, fmt.Sprintf("%s: %%packages --%s: deprecated since Fedora 40 (it still works); write --%s", pos, old, map[string]string{"excludeWeakdeps": "exclude-weakdeps", "instLangs": "inst-langs"}[old]))
		}
	}
	if !p.Seen {
		p.Pos = pos
	}
	p.Seen = true
	p.Default = p.Default || *def
	p.ExcludeDocs, p.IgnoreMissing, p.IgnoreBroken, p.MultiLib, p.NoCore, p.ExcludeWeakdeps = *docs, *missing, *broken, *multi, *nocore, *weak
	if fs.Changed("inst-langs") || fs.Changed("instLangs") {
		p.InstLangs = langs
	}
	p.Timeout, p.Retries = nil, nil
	if fs.Changed("timeout") {
		p.Timeout = timeout
	}
	if fs.Changed("retries") {
		p.Retries = retries
	}
	for _, l := range body {
		text, _, _ := strings.Cut(l.Text, "#")
		if strings.TrimSpace(text) == "" {
			continue
		}
		if err := p.add(l.Pos, text); err != nil {
			return err
		}
	}
	return nil
}
