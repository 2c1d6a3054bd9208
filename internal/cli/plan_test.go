package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"fbs/internal/fbstest"
)

// TestPlanJSON: fbs plan --json on kickstarts written in Fedora's idioms
// (%include chains, an environment, excludes after includes, -@group,
// comments after commands, option prefixes, the installed system's
// commands), for dnf 4 and 5.
func TestPlanJSON(t *testing.T) {
	// The request's paths are absolute once loaded; the golden files say them from here.
	abs, _ := filepath.Abs(filepath.Join("testdata", "plan"))
	run := func(t *testing.T, args ...string) (int, string) {
		code, out := run(t, args...)
		return code, strings.ReplaceAll(out, abs, "testdata/plan")
	}
	for _, spec := range []string{"workstation", "everything-dvd", "boot"} {
		for _, v := range []string{"4", "5"} {
			t.Run(spec+"-dnf"+v, func(t *testing.T) {
				code, out := run(t, "plan", filepath.Join("testdata", "plan", spec+".conf"), "--json", "--dnf", v)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, out)
				}
				fbstest.Golden(t, filepath.Join("plan", spec+"-dnf"+v+".json"), out)
			})
		}
	}
	code, out := run(t, "plan", filepath.Join("testdata", "plan", "workstation.conf"), "--dnf", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	fbstest.Golden(t, filepath.Join("plan", "workstation.txt"), out)
}
