package spec

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds the request parsers (INI and JSON) arbitrary input: they
// must answer with a request or a *spec.Error, never panic.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("[DEFAULT]\ntype=live\n[live]\n  continued\n"))
	f.Add([]byte(`{"type":"boot","arch":"x86_64","release":"40","boot":{"repo":{"url":"http://x/"},"timeout":-1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("fuzz.conf", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *spec.Error", err, err)
			}
			return
		}
		if r.Type == "" || r.Arch == "" {
			t.Fatalf("accepted a request without type or arch: %+v", r)
		}
		for _, label := range []string{labelOf(r)} {
			if len(label) > 32 {
				t.Fatalf("volume id %q longer than 32", label)
			}
		}
	})
}

func labelOf(r *Request) string {
	switch {
	case r.Live != nil:
		return r.Live.Label
	case r.Boot != nil:
		return r.Boot.Label
	case r.DVD != nil:
		return r.DVD.Label
	}
	return ""
}

func FuzzVolumeID(f *testing.F) {
	for _, s := range []string{"Fedora-Live", "../../x", "ünï côdé", "a b\x00c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := VolumeID(s)
		if len(v) > 32 {
			t.Fatalf("VolumeID(%q) = %q, longer than 32", s, v)
		}
		for _, c := range []byte(v) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				t.Fatalf("VolumeID(%q) = %q holds %q", s, v, c)
			}
		}
	})
}
