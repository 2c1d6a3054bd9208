package dnf

import (
	"reflect"
	"testing"

	"fbs/internal/kickstart"
)

func TestParseVersion(t *testing.T) {
	tests := map[string]Version{
		"4.14.0\n  Installed: dnf-0:4.14.0-3.fc37.noarch":   4,
		"dnf5 version 5.2.6.2\ndnf5 plugin API version 2.0": 5,
		"5.2.8.1\n": 5,
	}
	for out, want := range tests {
		if got, err := ParseVersion(out); err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %d, %v; want %d", out, got, err, want)
		}
	}
	if _, err := ParseVersion("command not found"); err == nil {
		t.Error("no version: no error")
	}
}

// TestPlan: the final sets of a kickstart become one dnf transaction, as
// anaconda makes its specs, for dnf 4 and dnf 5.
func TestPlan(t *testing.T) {
	two, zero, langs := 2, 30, "en:fr"
	g := func(name string, inc kickstart.GroupInclude) kickstart.Group {
		return kickstart.Group{Name: name, Include: inc}
	}
	tests := map[string]struct {
		p    kickstart.Packages
		v    Version
		want Transaction
	}{
		"environment without ^, @core first after it": {
			p:    kickstart.Packages{Environment: "workstation-product-environment", Groups: []kickstart.Group{g("core", kickstart.GroupDefault), g("firefox", kickstart.GroupDefault)}, Include: []string{"kernel"}, Exclude: []string{"wget"}},
			v:    4,
			want: Transaction{Specs: []string{"@workstation-product-environment", "@core", "@firefox", "kernel"}, Exclude: []string{"wget"}},
		},
		"-@group beats @group, as anaconda excludes before it solves": {
			p:    kickstart.Packages{Groups: []kickstart.Group{g("dial-up", kickstart.GroupDefault)}, ExcludeGroups: []string{"dial-up"}},
			v:    5,
			want: Transaction{Specs: []string{"@core"}, Notes: []string{"@dial-up is excluded by a -@dial-up line: not installed"}},
		},
		"-@^ of another environment keeps it out": {
			p:    kickstart.Packages{Environment: "kde-desktop-environment", ExcludeGroups: []string{"^kde-desktop-environment"}, NoCore: true},
			v:    5,
			want: Transaction{},
		},
		"header options, dnf 4": {
			p: kickstart.Packages{NoCore: true, ExcludeWeakdeps: true, ExcludeDocs: true, MultiLib: true, IgnoreMissing: true, Timeout: &zero, Retries: &two, InstLangs: &langs, Include: []string{"bash"}},
			v: 4,
			want: Transaction{Specs: []string{"bash"}, Macros: []string{"%_install_langs en:fr"}, Options: []string{
				"--setopt=install_weak_deps=False", "--setopt=tsflags=nodocs", "--setopt=multilib_policy=all",
				"--setopt=timeout=30", "--setopt=retries=2", "--setopt=strict=False"}},
		},
		"ignoremissing and ignorebroken, dnf 5": {
			p:    kickstart.Packages{NoCore: true, IgnoreMissing: true, IgnoreBroken: true},
			v:    5,
			want: Transaction{Options: []string{"--skip-unavailable", "--skip-broken"}},
		},
		"group package types are noted": {
			p: kickstart.Packages{NoCore: true, Groups: []kickstart.Group{g("a", kickstart.GroupRequired), g("b", kickstart.GroupAll)}},
			v: 4,
			want: Transaction{Specs: []string{"@a", "@b"}, Notes: []string{
				"@a --nodefaults: dnf's install takes no package types; the group's default packages come too",
				"@b --optional: dnf's install takes no package types; the group's optional packages do not come"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Plan(tc.p, tc.v); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Plan\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestMissing(t *testing.T) {
	tests := map[string]string{
		"No match for argument: wget2":                                          "wget2",
		"Module or Group 'nosuch' is not available.":                            "nosuch",
		"Module or Group '^workstation-product-environment' does not exist.":    "^workstation-product-environment",
		"Environment 'x-environment' is not available.":                         "x-environment",
		"All matches were filtered out by exclude filtering for argument: wget": "wget",
		"Error: Unable to find a match":                                         "",
	}
	for line, want := range tests {
		got, ok := Missing(line)
		if got != want || ok != (want != "") {
			t.Errorf("Missing(%q) = %q, %v; want %q", line, got, ok, want)
		}
	}
}
