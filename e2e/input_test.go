//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInput: each bad request exits 2 with one message naming the file
// and line or key, and leaves nothing in the staging dir.
func TestBadInput(t *testing.T) {
	repo := "file://" + demoDir
	tests := map[string]struct {
		conf func(t *testing.T, staging string) string
		want string
	}{
		"unknown key": {func(t *testing.T, s string) string {
			return request(t, repo, "true", "staging=file://"+s+"\ncolour=blue")
		}, "test.conf:6: colour: unknown key in [DEFAULT]"},
		"unknown type": {func(t *testing.T, s string) string {
			p := request(t, repo, "true", "")
			text, _ := os.ReadFile(p)
			write(t, p, strings.Replace(string(text), "type=live", "type=cloud", 1))
			return p
		}, `test.conf:2: type: unknown image type "cloud"`},
		"missing kickstart": {func(t *testing.T, s string) string {
			p := request(t, repo, "true", "staging=file://"+s)
			os.Remove(filepath.Join(filepath.Dir(p), "test.ks"))
			return p
		}, "test.ks: read "},
		"kickstart syntax": {func(t *testing.T, s string) string {
			p := request(t, repo, "true", "staging=file://"+s)
			f, _ := os.OpenFile(filepath.Join(filepath.Dir(p), "test.ks"), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("frobnicate --now\n")
			f.Close()
			return p
		}, `test.ks:13: unknown kickstart command "frobnicate"`},
		"unreachable repo": {func(t *testing.T, s string) string {
			return request(t, "http://127.0.0.1:1/nothing-here/", "true", "staging=file://"+s)
		}, "test.ks:1: repo fbs-demo cannot be read: "},
		"missing package": {func(t *testing.T, s string) string {
			p := request(t, repo, "true", "staging=file://"+s)
			text, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "test.ks"))
			write(t, filepath.Join(filepath.Dir(p), "test.ks"), strings.Replace(string(text), "kernel\n", "kernel\nno-such-package\n", 1))
			return p
		}, `test.ks:6: %packages: no package or group "no-such-package" in the repos`},
		"staging scheme": {func(t *testing.T, s string) string {
			return request(t, repo, "true", "staging=gopher://example.org/incoming")
		}, `test.conf:5: staging: "gopher://example.org/incoming": scheme "gopher" not supported (file, ftp, ftps or s3)`},
		"json unknown field": {func(t *testing.T, s string) string {
			p := filepath.Join(t.TempDir(), "req.json")
			write(t, p, `{"type":"live","arch":"x86_64","release":"1","live":{"config":"x.ks","size":"big"}}`)
			return p
		}, "req.json:1: size: unknown field"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			staging := filepath.Join(t.TempDir(), "staging")
			res := fbs(t, "build", tc.conf(t, staging), "--cache", cache, "--work", t.TempDir())
			if res.code != 2 {
				t.Errorf("exit %d, want 2", res.code)
			}
			lines := strings.Split(strings.TrimSpace(res.out), "\n")
			if last := lines[len(lines)-1]; !strings.Contains(last, tc.want) {
				t.Errorf("last line %q lacks %q", last, tc.want)
			}
			if left, _ := os.ReadDir(staging); len(left) > 0 {
				t.Errorf("staging dir holds %v after a failed build", left)
			}
		})
	}
}

// TestPostErrorOnFail: a failing %post with --erroronfail fails the build (exit 1);
// without it the build goes on.
func TestPostErrorOnFail(t *testing.T) {
	p := request(t, "file://"+demoDir, "exit 7", "")
	ks := filepath.Join(filepath.Dir(p), "test.ks")
	text, _ := os.ReadFile(ks)
	write(t, ks, strings.Replace(string(text), "%post\n", "%post --erroronfail\n", 1))
	res := fbs(t, "build", p, "--cache", cache, "--work", t.TempDir())
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
	mustContain(t, "output", res.out, "%post at ", "test.ks:10: sh exited with status 7")
}

// TestStagingFailureKeepsArtifacts: a staging target that cannot be written
// fails the build (exit 1) and leaves every artifact in the work dir.
func TestStagingFailureKeepsArtifacts(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "a-file")
	write(t, blocker, "not a directory")
	work := t.TempDir()
	res := fbs(t, "build", request(t, "file://"+demoDir, "true", "staging=file://"+blocker+"/staging"), "--cache", cache, "--work", work)
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
	mustContain(t, "output", res.out, "stage publish: ", "not a directory")
	for _, name := range []string{"FBS-Test.iso", "CHECKSUM", "manifest.json", "FBS-Test.ks", "build.log"} {
		if m, _ := filepath.Glob(filepath.Join(work, "*", name)); len(m) != 1 {
			t.Errorf("%s is not in the work dir", name)
		}
	}
}
