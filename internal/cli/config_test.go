package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fbs/internal/fbstest"
)

// TestConfigExample: the example lists every key of both commands with
// its default (golden), and is itself a valid configuration.
func TestConfigExample(t *testing.T) {
	code, out := run(t, "config", "example")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	fbstest.Golden(t, "config-example", out)
	// Its tables and keys, uncommented, are a configuration of defaults.
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "["):
			keep = append(keep, line)
		case strings.HasPrefix(line, "#") && strings.Contains(line, " = ") && !strings.HasPrefix(line, "# "):
			keep = append(keep, line[1:])
		}
	}
	path := filepath.Join(t.TempDir(), "fbs.toml")
	os.WriteFile(path, []byte(strings.Join(keep, "\n")), 0o644)
	if code, out := run(t, "config", "check", "--config", path); code != 0 {
		t.Errorf("the example, uncommented: exit %d: %s", code, out)
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte("[server]\nlisten = \"0.0.0.0:8080\"\nworkers = 0\nlease = \"10s\"\n[worker]\nserver = [\"http://a:8080\", \"http://b:8080\"]\nrelease = [\"40\"]\nslots = 2\n"), 0o644)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[server]\nlease = \"soon\"\n[worker]\nslots = \"two\"\nrelese = [\"40\"]\n"), 0o644)
	tests := map[string]struct {
		args []string
		code int
		want []string
	}{
		"good":           {[]string{"config", "check", "--config", good}, 0, []string{"good.toml is valid"}},
		"bad":            {[]string{"config", "check", "--config", bad}, 2, []string{"bad.toml:2: server.lease: invalid argument \"soon\"", "bad.toml:4: worker.slots: invalid argument \"two\"", "bad.toml:5: worker.relese: unknown key"}},
		"missing":        {[]string{"config", "check", "--config", filepath.Join(dir, "none.toml")}, 2, []string{"none.toml: no such file"}},
		"serve refuses":  {[]string{"serve", "--config", bad, "--workers", "0"}, 2, []string{"invalid configuration", "bad.toml:2: server.lease"}},
		"worker refuses": {[]string{"worker", "--config", bad}, 2, []string{"bad.toml:4: worker.slots"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, out := run(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestConfigImport: the seed's deploy.conf becomes configs that serve and
// worker take, and nothing is overwritten.
func TestConfigImport(t *testing.T) {
	dir := t.TempDir()
	if code, out := run(t, "config", "import", "../config/testdata/deploy.conf", "--dir", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.toml"))
	if len(files) != 3 { // the server and the x86_64 workers: fbs makes no i686 media
		t.Fatalf("wrote %v", files)
	}
	if st, err := os.Stat(filepath.Join(dir, "smtp-password")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the SMTP password file: %v %v", st, err)
	}
	for _, f := range files {
		if code, out := run(t, "config", "check", "--config", f); code != 0 {
			t.Errorf("%s: exit %d: %s", f, code, out)
		}
	}
	if code, out := run(t, "config", "import", "../config/testdata/deploy.conf", "--dir", dir); code == 0 || !strings.Contains(out, "nothing is overwritten") {
		t.Errorf("a second import: exit %d: %s", code, out)
	}
}
