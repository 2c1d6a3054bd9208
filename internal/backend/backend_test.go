package backend

import (
	"strings"
	"testing"

	"fbs/internal/fbstest"
	"fbs/internal/spec"
)

func load(t *testing.T, name string) *spec.Request {
	t.Helper()
	r, err := spec.Load("../spec/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPlans(t *testing.T) {
	tests := map[string]struct {
		backend, spec string
		extra         []string
	}{
		"lorax":             {"lorax", "boot.conf", []string{"file:///work/koji-repo"}},
		"livemedia-creator": {"livemedia-creator", "live.conf", nil},
		"pungi":             {"pungi", "dvd.conf", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			run, err := Plan(tc.backend, load(t, tc.spec), "/work/flat.ks", tc.extra, "/work/out", "/work/tmp")
			if err != nil {
				t.Fatal(err)
			}
			fbstest.Golden(t, name, fbstest.Lines(run.Args, []string{"ISO: " + run.ISO}))
		})
	}
}

func TestPlanErrors(t *testing.T) {
	tests := map[string]struct {
		backend, spec, want string
	}{
		"wrong type": {"lorax", "live.conf", "the lorax backend builds boot images, not live"},
		"unknown":    {"mkisofs", "live.conf", `unknown backend "mkisofs"`},
		"kiwi":       {"kiwi", "live.conf", "needs a kiwi image description"},
	}
	for name, tc := range tests {
		_, err := Plan(tc.backend, load(t, tc.spec), "/ks", nil, "/out", "/tmp")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
	}
}
