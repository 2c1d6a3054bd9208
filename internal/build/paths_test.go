package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fbs/internal/spec"
)

// TestServiceKickstartPaths: a kickstart that came over the network
// includes no file of the server's, however it names one; a local build
// reads what its user names.
func TestServiceKickstartPaths(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "part.ks"), []byte("repo --name=x --baseurl=http://x/\n"), 0o644)
	tests := []struct {
		include string
		service bool
		ok      bool
	}{
		{"/etc/passwd", true, false},
		{"file:///etc/passwd", true, false},
		{"../../../../etc/passwd", true, false},
		{"part.ks", true, false},
		{"/proc/self/environ", true, false},
		{"part.ks", false, true},
		{filepath.Join(dir, "part.ks"), false, true},
	}
	for _, tc := range tests {
		b := &build{req: &spec.Request{Dir: dir, Live: &spec.Live{Kickstart: "%include " + tc.include + "\n"}}, opts: Options{Service: tc.service}}
		_, err := b.kickstart(context.Background())
		if tc.ok != (err == nil) || !tc.ok && !strings.Contains(err.Error(), "cannot name a local file") {
			t.Errorf("%%include %s (service %v): %v", tc.include, tc.service, err)
		}
	}
}
