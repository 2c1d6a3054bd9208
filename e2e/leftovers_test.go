//go:build e2e

package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// plantSetuid is a %post --nochroot that leaves a setuid-root shell in
// the image root, in the work dir, as a hostile build did beside it
// before --nochroot scripts could write into the root alone.
const plantSetuid = `%post --nochroot --erroronfail
if cp /bin/bash $INSTALL_ROOT/../.beside 2>/dev/null; then echo "wrote beside the root"; exit 1; fi
cp /bin/bash $INSTALL_ROOT/.hidden-suid && chmod 4755 $INSTALL_ROOT/.hidden-suid && echo planted
`

// TestHostileLeftovers: a setuid shell a build leaves in its work dir
// goes with the work dir once the build is published, and a failed
// build's, kept for debugging, lies in a dir only root may enter and, off
// the disk limit's filesystem, is a plain file.
func TestHostileLeftovers(t *testing.T) {
	tests := map[string]struct {
		exit     string
		flags    []string
		code     int
		stripped bool // copied off the disk limit's filesystem
	}{
		"published":                   {"exit 0", nil, 0, false},
		"failed":                      {"exit 1", nil, 1, false},
		"failed with a disk limit":    {"exit 1", []string{"--disk-limit", "2GiB"}, 1, true},
		"published with a disk limit": {"exit 0", []string{"--disk-limit", "2GiB"}, 0, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			work, staging := t.TempDir(), t.TempDir()
			conf := request(t, "file://"+demoDir, "true\n%end\n"+plantSetuid+tc.exit, "staging=file://"+staging)
			res := fbs(t, append([]string{"build", conf, "--cache", cache, "--work", work}, tc.flags...)...)
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d", res.code, tc.code)
			}
			mustContain(t, "build log", buildLogs(t, work, staging), "planted")
			var found []string
			filepath.WalkDir(work, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return nil
				}
				info, _ := d.Info()
				switch {
				case d.Name() == ".hidden-suid":
					found = append(found, fmt.Sprintf("%s %v", p, info.Mode()))
					if tc.stripped && info.Mode()&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
						t.Errorf("%s is %v", p, info.Mode())
					}
				case d.IsDir() && p != work && filepath.Dir(p) == work && info.Mode().Perm() != 0o700:
					t.Errorf("the work dir %s is %v, want 0700", p, info.Mode().Perm())
				}
				return nil
			})
			if tc.code == 0 && len(found) > 0 {
				t.Errorf("a published build left %s", strings.Join(found, ", "))
			}
		})
	}
}

// TestHostileSecrets: a %post --nochroot reads neither a secret file the
// server was given (outside the paths hidden anyway) nor what the host
// keeps in /tmp and /var/tmp.
func TestHostileSecrets(t *testing.T) {
	dir, err := os.MkdirTemp("/var/cache", "fbs-secret-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	secret := randomText()
	secretFile := filepath.Join(dir, "webhook.key")
	write(t, secretFile, secret)
	var canaries []string
	for _, tmp := range []string{"/tmp", "/var/tmp"} {
		f, err := os.CreateTemp(tmp, "fbs-canary-")
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(secret)
		f.Close()
		defer os.Remove(f.Name())
		canaries = append(canaries, f.Name())
	}
	s := startServer(t, filepath.Join(t.TempDir(), "data"), "--webhook-secret-file", secretFile)
	script := fmt.Sprintf("%%post --nochroot\ncat %s %s; echo \"looked: $?\"\nexit 0", secretFile, strings.Join(canaries, " "))
	res := fbs(t, "submit", hostile(t, script), "--server", s.url, "--wait", "--raw")
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	mustContain(t, "build", res.out, "looked: 1")
	if strings.Contains(res.out, secret) {
		t.Errorf("the build read the secret:\n%s", res.out)
	}
}
