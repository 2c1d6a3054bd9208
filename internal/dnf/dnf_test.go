package dnf

import (
	"reflect"
	"testing"

	"fbs/internal/fbstest"
	"fbs/internal/kickstart"
)

func TestInstallArgs(t *testing.T) {
	in := Install{Root: "/work/root", CacheDir: "/var/cache/fbs/dnf", ReposDir: "/work/dnf-conf/repos.d", Config: "/work/dnf-conf/dnf.conf", VarsDir: "/work/dnf-conf/vars", Releasever: "rawhide", Arch: "x86_64",
		Packages: Plan(kickstart.Packages{Groups: []kickstart.Group{{Name: "core", Include: kickstart.GroupDefault}, {Name: "workstation", Include: kickstart.GroupDefault}}, Include: []string{"kernel", "vim-*"}}, 0).Specs,
		Exclude:  []string{"dracut-config-rescue"}, Options: []string{"--setopt=tsflags=nodocs", "--setopt=strict=False"}, Proxy: "http://proxy:3128"}
	fbstest.Golden(t, "dnf-install", fbstest.Lines(in.Args()))
	in.DownloadTo = "/work/gathered"
	fbstest.Golden(t, "dnf-gather", fbstest.Lines(in.Args()))
}

func TestPlanNoCore(t *testing.T) {
	got := Plan(kickstart.Packages{NoCore: true, Groups: []kickstart.Group{{Name: "core", Include: kickstart.GroupDefault}}, Include: []string{"kernel"}}, 0).Specs
	if want := []string{"@core", "kernel"}; !reflect.DeepEqual(got, want) {
		t.Errorf("--nocore with @core listed: %q, want %q", got, want)
	}
	got = Plan(kickstart.Packages{NoCore: true, Include: []string{"kernel"}}, 0).Specs
	if want := []string{"kernel"}; !reflect.DeepEqual(got, want) {
		t.Errorf("--nocore: %q, want %q", got, want)
	}
}

func TestRepoFile(t *testing.T) {
	repos := []kickstart.Repo{
		{Name: "fedora", Metalink: "https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever&arch=$basearch"},
		{Name: "updates", Mirrorlist: "https://mirrors.example.org/list?repo=updates-$releasever", Cost: 50, Exclude: []string{"a", "b"}, Include: []string{"c"}},
		{Name: "local", BaseURL: "file:///srv/repo", Proxy: "http://p:3128", NoVerifySSL: true},
	}
	fbstest.Golden(t, "fbs.repo", RepoFile(repos))
}

func TestParseProgress(t *testing.T) {
	tests := map[string]struct {
		p  Progress
		ok bool
	}{
		"(3/12): busybox-1.35.0-4.x86_64.rpm          1.2 MB/s | 1.1 MB     00:00":         {Progress{"downloading", 3, 12}, true},
		"  Installing       : kernel-6.1.192-2.x86_64                               6/8 ":  {Progress{"installing", 6, 8}, true},
		"  Verifying        : dracut-1-1.x86_64                                      2/8 ": {Progress{"verifying", 2, 8}, true},
		"  Running scriptlet: filesystem-1-1.x86_64                                  1/8 ": {Progress{}, false},
		"Complete!": {Progress{}, false},
	}
	for line, tc := range tests {
		p, ok := ParseProgress(line)
		if ok != tc.ok || p != tc.p {
			t.Errorf("ParseProgress(%q) = %+v, %v; want %+v, %v", line, p, ok, tc.p, tc.ok)
		}
	}
}
