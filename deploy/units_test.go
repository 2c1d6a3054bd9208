// Package deploy holds the systemd units and container definitions; its
// test checks the units with systemd-analyze.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fbs/internal/fbstest"
)

// TestUnits: systemd-analyze verify takes the units without a word, with
// the binaries they name put where this machine has them.
func TestUnits(t *testing.T) {
	_, err := exec.LookPath("systemd-analyze")
	fbstest.Need(t, err == nil, "systemd-analyze", "apt-get install systemd")
	kill, err := exec.LookPath("kill")
	if err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	dir := t.TempDir()
	var units []string
	for name, as := range map[string]string{"fbs-server.service": "fbs-server.service", "fbs-worker@.service": "fbs-worker@x86_64.service"} {
		data, err := os.ReadFile(filepath.Join("systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.NewReplacer("/usr/bin/fbs", self, "/bin/kill", kill).Replace(string(data))
		path := filepath.Join(dir, as)
		os.WriteFile(path, []byte(text), 0o644)
		units = append(units, path)
	}
	out, err := exec.Command("systemd-analyze", append([]string{"verify", "--man=no"}, units...)...).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
