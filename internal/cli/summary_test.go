package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestStatusBootTests: fbs status reads a build's boot tests from its
// record, also once retention removed its artifacts (the manifest with them).
func TestStatusBootTests(t *testing.T) {
	tests := map[string]struct {
		build string
		want  []string
	}{
		"built": {`{"id":"b1","state":"succeeded","type":"live","arch":"x86_64","release":"40",
			"artifacts":[{"name":"L-1.iso","size":2048,"sha256":"ab"}],
			"boot_tests":[{"firmware":"uefi","accel":"tcg","line":"Welcome","seconds":12.5}]}`,
			[]string{`boot test  uefi (tcg) 12.5s: "Welcome"`, "L-1.iso  2.0 KiB  sha256 ab"}},
		"purged": {`{"id":"b1","state":"succeeded","type":"live","arch":"x86_64","release":"40","purged":"2026-01-02T00:00:00Z",
			"artifacts":[{"name":"L-1.iso","size":2048}],
			"boot_tests":[{"firmware":"bios","accel":"kvm","line":"Welcome","seconds":3}]}`,
			[]string{`boot test  bios (kvm) 3.0s: "Welcome"`, "removed by retention"}},
		"no boot tests": {`{"id":"b1","state":"failed","type":"dvd","arch":"x86_64","release":"40","error":"stage publish: x"}`,
			[]string{"error      stage publish: x"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/v1/builds/b1" {
					t.Errorf("asked for %s", r.URL.Path)
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(tc.build))
			}))
			defer srv.Close()
			c := &client{base: srv.URL, http: srv.Client()}
			v, err := c.view(context.Background(), "b1")
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			summary(&out, c, v)
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("fbs status says:\n%s\nwant it to hold %q", out.String(), want)
				}
			}
		})
	}
}
