package build

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"fbs/internal/dnf"
	"fbs/internal/kickstart"
)

// TestDNFConfAnew: what an earlier transaction's scriptlets planted where
// dnf's configuration goes is gone before the next dnf runs: a symlink
// fbs would write through, macros and Python code the networked dnf
// would run, a .repo file of their own.
func TestDNFConfAnew(t *testing.T) {
	tests := map[string]func(t *testing.T, conf, host string){
		"the dir a symlink to a host dir": func(t *testing.T, conf, host string) {
			must(t, os.Symlink(host, conf))
		},
		"repos.d a symlink to a host dir": func(t *testing.T, conf, host string) {
			must(t, os.MkdirAll(conf, 0o755))
			must(t, os.Symlink(host, filepath.Join(conf, "repos.d")))
		},
		"planted macros, a .pth file and a .repo file": func(t *testing.T, conf, host string) {
			for name, text := range map[string]string{
				"home/.rpmmacros": "%_dbpath %(touch " + host + "/pwned)\n",
				"home/.local/lib/python3.11/site-packages/x.pth": "import os\n",
				"repos.d/evil.repo": "[evil]\nbaseurl=http://169.254.169.254/\n",
			} {
				must(t, os.MkdirAll(filepath.Dir(filepath.Join(conf, name)), 0o755))
				must(t, os.WriteFile(filepath.Join(conf, name), []byte(text), 0o644))
			}
		},
	}
	for name, plant := range tests {
		t.Run(name, func(t *testing.T) {
			work, host := t.TempDir(), t.TempDir()
			b := &build{work: work}
			conf := filepath.Join(work, dnfConfDir)
			plant(t, conf, host)
			in := dnf.Install{Repos: []kickstart.Repo{{Name: "fedora", BaseURL: "http://mirror/"}}, Macros: []string{"%_install_langs en_US"}}
			env, err := b.writeDNFConf(in)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadDir(host); len(got) > 0 {
				t.Errorf("written through a symlink into the host's dir: %v", got)
			}
			var files []string
			filepath.WalkDir(conf, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(conf, p)
					files = append(files, rel)
				}
				return nil
			})
			if want := []string{"dnf.conf", "home/.rpmmacros", "repos.d/fbs.repo"}; !slices.Equal(files, want) {
				t.Errorf("files %q, want %q", files, want)
			}
			if b, _ := os.ReadFile(filepath.Join(conf, "home/.rpmmacros")); string(b) != "%_dbpath /usr/lib/sysimage/rpm\n%_install_langs en_US\n" {
				t.Errorf(".rpmmacros: %q", b)
			}
			if want := []string{"HOME=" + filepath.Join(conf, "home"), "PYTHONNOUSERSITE=1"}; !slices.Equal(env, want) {
				t.Errorf("env %q, want %q", env, want)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
