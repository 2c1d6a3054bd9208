package spec

import (
	"strings"
	"testing"
)

// TestSchemeCase: a URL's scheme is case-insensitive (RFC 3986 3.1), and
// the checks compare the scheme url.Parse gives, lower-cased: FILE:// is
// taken or refused as file:// is, never let through as unknown.
func TestSchemeCase(t *testing.T) {
	tests := map[string]struct {
		check func(string) error
		url   string
		ok    bool
	}{
		"kickstart HTTPS":        {checkKickstartRef, "HTTPS://example.org/a.ks", true},
		"kickstart Ftp":          {checkKickstartRef, "Ftp://example.org/a.ks", true},
		"kickstart FILE":         {checkKickstartRef, "FILE:///srv/a.ks", true}, // a path, as fbs build takes; fbs serve refuses it (api)
		"kickstart GOPHER":       {checkKickstartRef, "GOPHER://example.org/a.ks", false},
		"staging FILE":           {checkStaging, "FILE:///srv/staging", true},
		"staging FILE, relative": {checkStaging, "FILE://srv/staging", false},
		"staging FTPS":           {checkStaging, "FTPS://example.org/up", true},
		"staging S3":             {checkStaging, "S3://bucket/dir", true},
		"staging HTTP":           {checkStaging, "HTTP://example.org/up", false},
		"webhook HTTPS":          {webhook, "HTTPS://example.org/hook", true},
		"webhook FILE":           {webhook, "FILE:///etc/passwd", false},
		"webhook Ftp":            {webhook, "Ftp://example.org/hook", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// A refusal names the URL: it is the URL refused, not something else.
			if err := tc.check(tc.url); (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), tc.url) {
				t.Errorf("%s: error %v, want ok=%v", tc.url, err, tc.ok)
			}
		})
	}
}

// webhook is Validate's check of a request's webhook.
func webhook(u string) error {
	r := &Request{Type: "live", Arch: "x86_64", Release: "40", Webhook: u, Live: &Live{Config: "https://example.org/a.ks"}}
	return r.Validate()
}
