//go:build e2e

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCancel: Ctrl-C during %post stops every process the build started at
// once, leaves no mount behind, and stages nothing.
func TestCancel(t *testing.T) {
	staging := filepath.Join(t.TempDir(), "staging")
	work := t.TempDir()
	conf := request(t, "file://"+demoDir, "sleep 1001 &\nsleep 1002", "staging=file://"+staging)
	cmd := exec.Command(fbsBin, "build", conf, "--cache", cache, "--work", work)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !running("sleep 1002") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the %%post never started:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	t.Logf("fbs output:\n%s", out.String())
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the build took %s to stop", took)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("exit %v, want 130 (interrupted)", err)
	}
	for _, p := range []string{"sleep 1001", "sleep 1002"} {
		if running(p) {
			t.Errorf("%q still runs after the cancel", p)
		}
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), work) {
		t.Errorf("mounts left under %s", work)
	}
	if left, _ := os.ReadDir(staging); len(left) > 0 {
		t.Errorf("staging dir holds %v", left)
	}
	mustContain(t, "output", out.String(), "build cancelled after ")
}

func running(pattern string) bool {
	out, _ := exec.Command("pgrep", "-f", pattern).Output()
	return len(bytes.TrimSpace(out)) > 0
}
