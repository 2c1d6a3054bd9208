package kickstart

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// TestPackagesRules states pykickstart's rules for %packages lines
// (parser.py, Packages.add) and checks fbs's final sets.
func TestPackagesRules(t *testing.T) {
	tests := map[string]struct {
		lines string
		want  Packages
	}{
		"a later exclusion wins":            {"wget\n-wget", Packages{Exclude: []string{"wget"}}},
		"a later inclusion wins":            {"-wget\nwget", Packages{Include: []string{"wget"}}},
		"sorted, globs kept":                {"vim-*\nbash\n-x*", Packages{Include: []string{"bash", "vim-*"}, Exclude: []string{"x*"}}},
		"the last environment wins":         {"@^a-environment\n@^b-environment", Packages{Environment: "b-environment"}},
		"-@^ clears its own environment":    {"@^a\n-@^a", Packages{}},
		"-@^ of another is an exclusion":    {"@^a\n-@^b", Packages{Environment: "a", ExcludeGroups: []string{"^b"}}},
		"the first mention of a group wins": {"@g\n@g --optional", Packages{Groups: []Group{{"g", GroupDefault}}}},
		"group types, prefixes too":         {"@a --nodef\n@b --opt\n@c", Packages{Groups: []Group{{"a", GroupRequired}, {"b", GroupAll}, {"c", GroupDefault}}}},
		"-@g drops g, and stays excluded":   {"@g\n-@g\n@g", Packages{Groups: []Group{{"g", GroupDefault}}, ExcludeGroups: []string{"g"}}},
		"group names may have spaces":       {"@Sound and Video --optional", Packages{Groups: []Group{{"Sound and Video", GroupAll}}}},
		"an unknown option is in the name":  {"@g --x", Packages{Groups: []Group{{"g --x", GroupDefault}}}},
		"text after # is cut":               {"wget # fetch\n  # only a comment", Packages{Include: []string{"wget"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ks, err := Parse(lines("%packages --nocore\n" + tc.lines + "\n%end\n"))
			if err != nil {
				t.Fatal(err)
			}
			got := ks.Packages
			got.Pos, got.Seen, got.NoCore = Pos{}, false, false
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("packages\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func lines(text string) []Line {
	var out []Line
	for i, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		out = append(out, Line{Text: l, Pos: Pos{File: "t.ks", Line: i + 1}})
	}
	return out
}

// TestFedoraIdioms reads a spin that includes a base, as Fedora's do:
// the environment, excludes after includes, -@group, comments after
// commands, option prefixes, a second %packages section, and every
// installed-system command.
func TestFedoraIdioms(t *testing.T) {
	l, err := Flatten(context.Background(), &FileLoader{Dir: "testdata/fedora"}, "spin.ks")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := Parse(l)
	if err != nil {
		t.Fatal(err)
	}
	langs := "de:en"
	want := Packages{
		Include:       []string{"kernel", "vim-enhanced", "wget"},
		Exclude:       []string{"kernel-modules"},
		Groups:        []Group{{"firefox", GroupAll}},
		ExcludeGroups: []string{"dial-up", "libreoffice"},
		Environment:   "kde-desktop-environment",
		IgnoreMissing: true, // the second header's; it resets --exclude-weakdeps and --timeout
		InstLangs:     &langs,
		Seen:          true,
		Pos:           Pos{File: "testdata/fedora/base.ks", Line: 16},
	}
	if !reflect.DeepEqual(ks.Packages, want) {
		t.Errorf("packages\n got %+v\nwant %+v", ks.Packages, want)
	}
	if r := ks.Repos[1]; !reflect.DeepEqual(r.Exclude, []string{"foo", "bar"}) {
		t.Errorf("repo --exclude (for --excludepkgs): %+v", r)
	}
	if ks.RootSize != 5120 {
		t.Errorf("root size %d", ks.RootSize)
	}
	s := ks.System
	checks := map[string]bool{
		"lang":     reflect.DeepEqual(s.Lang, &Lang{Lang: "de_DE.UTF-8", AddSupport: []string{"en_US.UTF-8"}}),
		"keyboard": reflect.DeepEqual(s.Keyboard, &Keyboard{VCKeymap: "de-nodeadkeys", XLayouts: []string{"de (nodeadkeys)", "us"}, Switch: []string{"grp:alt_shift_toggle"}}),
		"timezone": reflect.DeepEqual(s.Timezone, &Timezone{Name: "Europe/Berlin", UTC: true}),
		"ntp":      reflect.DeepEqual(s.TimeSources, []TimeSource{{Host: "2.fedora.pool.ntp.org", Pool: true, NTS: true}}),
		"selinux":  s.SELinux == "enforcing",
		"firewall": reflect.DeepEqual(s.Firewall, &Firewall{Services: []string{"mdns"}}),
		"services": reflect.DeepEqual(s.Services, Services{Enabled: []string{"NetworkManager", "ModemManager"}, Disabled: []string{"sshd"}}),
		"rootpw":   reflect.DeepEqual(s.RootPW, &Password{Password: "locked", IsCrypted: true, Lock: true}),
		"user":     len(s.Users) == 1 && s.Users[0].Name == "liveuser" && s.Users[0].Gecos == "Live System User" && *s.Users[0].Password == Password{Password: "live"},
		"group":    len(s.Groups) == 1 && s.Groups[0].Name == "fbs" && *s.Groups[0].GID == 2000,
		"hostname": s.Hostname == "localhost-live",
		"startx":   s.StartX,
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("%s: %+v", what, s)
		}
	}
	var notes []string
	for _, n := range ks.Ignored {
		notes = append(notes, strings.Fields(n)[1])
	}
	if want := []string{"zerombr", "clearpart", "shutdown"}; !reflect.DeepEqual(notes, want) {
		t.Errorf("noted %q, want %q", notes, want)
	}
}
