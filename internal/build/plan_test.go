package build

import (
	"slices"
	"testing"

	"fbs/internal/bootcheck"
	"fbs/internal/fbstest"
	"fbs/internal/spec"
)

func TestPlan(t *testing.T) {
	tests := map[string]struct {
		spec string
		opts Options
	}{
		"live": {spec: `{"type":"live","arch":"x86_64","release":"40","live":{"label":"Demo-Live","kickstart":"x"}}`},
		"live-koji-staged-booted": {spec: `{"type":"live","arch":"x86_64","release":"40","staging":"file:///srv/staging","nvr":["wget2-2.1.0-9.fc40"],"boottest":["uefi"],"live":{"label":"Demo-Live","kickstart":"x"}}`,
			opts: Options{BootTests: []bootcheck.Options{{}}}},
		"live-erofs-fast": {spec: `{"type":"live","arch":"x86_64","release":"42","live":{"label":"Demo-Live","kickstart":"x","rootfs":"erofs","compression":"fast"}}`},
		"boot":            {spec: `{"type":"boot","arch":"x86_64","release":"40","boot":{"repo":{"url":"http://x/"}}}`},
		"dvd":             {spec: `{"type":"dvd","arch":"x86_64","release":"40","dvd":{"kickstart":"x"}}`},
		"live-livemedia":  {spec: `{"type":"live","arch":"x86_64","release":"40","live":{"label":"Demo-Live","kickstart":"x"}}`, opts: Options{Backend: "livemedia-creator"}},
		"live-service-staged": {spec: `{"type":"live","arch":"x86_64","release":"40","staging":"s3://media/live","live":{"label":"Demo-Live","kickstart":"x"}}`,
			opts: Options{Store: "/var/lib/fbs/builds/1/artifacts"}},
		// A server's BIOS boot test is left out for media that boot UEFI alone.
		"live-aarch64-booted": {spec: `{"type":"live","arch":"aarch64","release":"42","boottest":["uefi"],"live":{"label":"Demo-Live","kickstart":"x"}}`,
			opts: Options{BootTests: []bootcheck.Options{{}}}},
		"dvd-aarch64":       {spec: `{"type":"dvd","arch":"aarch64","release":"42","dvd":{"kickstart":"x"}}`},
		"boot-lorax-staged": {spec: `{"type":"boot","arch":"x86_64","release":"40","staging":"ftp://example.org/pub","bid":[42],"boot":{"repo":{"url":"http://x/"}}}`, opts: Options{Backend: "lorax"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req, err := spec.ParseJSON("request", []byte(tc.spec))
			if err != nil {
				t.Fatal(err)
			}
			plan := Plan(req, tc.opts)
			fbstest.Golden(t, "plan-"+name, Text(plan))
			checkPlan(t, plan)
		})
	}
}

// checkPlan checks that every stage reads only what the request or an
// earlier stage gives, and does something.
func checkPlan(t *testing.T, plan []Stage) {
	t.Helper()
	have := []string{"request"}
	for i, s := range plan {
		for _, r := range s.Reads {
			if !slices.Contains(have, r) {
				t.Errorf("stage %s reads %s, which no stage before it produces", s.Name, r)
			}
		}
		if s.do == nil {
			t.Errorf("stage %s runs nothing", s.Name)
		}
		if s.Along && (i == 0 || plan[i-1].Quiet || s.Quiet) {
			t.Errorf("stage %s runs alongside a quiet stage, or is quiet itself", s.Name)
		}
		have = append(have, s.Produces...)
	}
}
