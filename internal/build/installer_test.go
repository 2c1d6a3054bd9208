package build

import (
	"reflect"
	"testing"

	"fbs/internal/kickstart"
	"fbs/internal/spec"
)

func TestBootRepos(t *testing.T) {
	req := &spec.Request{Release: "40", Boot: &spec.Boot{
		Updates: true, Proxy: "http://proxy:3128",
		Repo:        spec.RepoSource{URL: "https://dl/40/", Mirror: "https://mirrors.fedoraproject.org/metalink?repo=fedora-40&arch=x86_64"},
		UpdatesRepo: spec.RepoSource{Mirror: "https://mirrors.example.org/mirrorlist?repo=updates-40"},
		TestingRepo: spec.RepoSource{URL: "https://dl/testing/"},
	}}
	pos := kickstart.Pos{File: "boot.conf"}
	want := []kickstart.Repo{
		{Name: "40", BaseURL: "https://dl/40/", Metalink: "https://mirrors.fedoraproject.org/metalink?repo=fedora-40&arch=x86_64", Proxy: "http://proxy:3128", Pos: pos},
		{Name: "40-updates", Mirrorlist: "https://mirrors.example.org/mirrorlist?repo=updates-40", Proxy: "http://proxy:3128", Pos: pos},
	}
	if got := bootRepos(req, pos); !reflect.DeepEqual(got, want) {
		t.Errorf("repos\n got %+v\nwant %+v", got, want)
	}
	req.Boot.UpdatesTesting = true
	if got := bootRepos(req, pos); len(got) != 3 || got[2].Name != "40-updates-testing" {
		t.Errorf("with updates-testing: %+v", got)
	}
}
