package spec

import "testing"

// TestRequestSection: each image type's section answers for the request,
// and fbs build --compression reaches every type (a DVD's was dropped).
func TestRequestSection(t *testing.T) {
	tests := map[string]struct {
		json                            string
		label, product, version, relver string
		hasKS                           bool
	}{
		"live": {`{"type":"live","arch":"x86_64","release":"40","live":{"label":"L","product":"p","releasever":"39","kickstart":"x"}}`, "L", "p", "39", "39", true},
		"boot": {`{"type":"boot","arch":"x86_64","release":"40","boot":{"product":"p","repo":{"url":"http://x/"}}}`, "p-40-x86_64", "p", "40", "40", false},
		"dvd":  {`{"type":"dvd","arch":"x86_64","release":"40","dvd":{"name":"n","kickstart":"x"}}`, "n-Everything-dvd-x86_64-40", "n", "40", "40", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := ParseJSON("request", []byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if r.Label() != tc.label || r.Product() != tc.product || r.Version() != tc.version || r.Releasever() != tc.relver || r.HasKickstart() != tc.hasKS {
				t.Errorf("label %q product %q version %q releasever %q kickstart %v", r.Label(), r.Product(), r.Version(), r.Releasever(), r.HasKickstart())
			}
			if r.Compression() != "xz" {
				t.Errorf("default compression %q", r.Compression())
			}
			r.SetCompression("zstd")
			if r.Compression() != "zstd" {
				t.Errorf("SetCompression: %q", r.Compression())
			}
			if ok := r.SetKickstart("a.ks", "text"); ok != tc.hasKS {
				t.Errorf("SetKickstart = %v", ok)
			}
			if ref, text := r.Kickstart(); tc.hasKS && (ref != "a.ks" || text != "text") {
				t.Errorf("Kickstart = %q, %q", ref, text)
			}
		})
	}
}
