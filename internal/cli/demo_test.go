package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoRequestArch: fbs demo request writes the arch's request, using
// the arch's repo dir in the cache, and refuses an arch the demo lacks.
func TestDemoRequestArch(t *testing.T) {
	tests := map[string]struct {
		args          []string
		code          int
		want          []string // what the written request and demo.ks hold
		printed, file string
	}{
		"x86_64 by default": {args: []string{"--chain", "busybox"}, file: "demo.conf",
			want: []string{"arch=x86_64", "--baseurl=file:///srv/c/demo-repo\n", "console=ttyS0,115200"}},
		"aarch64 busybox": {args: []string{"--chain", "busybox", "--arch", "aarch64"}, file: "demo.conf",
			want: []string{"arch=aarch64", "--baseurl=file:///srv/c/demo-repo-aarch64\n", "console=ttyAMA0,115200"}},
		"aarch64 dracut boot": {args: []string{"--arch", "aarch64", "--type", "boot"}, file: "boot.conf",
			want: []string{"arch=aarch64", "1_url=file:///srv/c/demo-repo-dracut-aarch64\n", "append=console=ttyAMA0,115200"}},
		"unknown arch": {args: []string{"--arch", "ppc64le"}, code: 2, printed: `the demo distro is made for x86_64 or aarch64, not "ppc64le"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			code, out := run(t, append([]string{"demo", "request", dir, "--cache", "/srv/c"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.printed) {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tc.code, out)
			}
			if tc.code != 0 {
				return
			}
			if strings.TrimSpace(out) != filepath.Join(dir, tc.file) {
				t.Errorf("printed %q, want %s", out, filepath.Join(dir, tc.file))
			}
			conf, _ := os.ReadFile(filepath.Join(dir, tc.file))
			ks, _ := os.ReadFile(filepath.Join(dir, "demo.ks"))
			for _, w := range tc.want {
				if !strings.Contains(string(conf)+string(ks), w) {
					t.Errorf("request:\n%s\nkickstart:\n%s\nwant them to hold %q", conf, ks, w)
				}
			}
		})
	}
}
