//go:build e2e

package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// configured starts fbs with its configuration from file only: no flags.
func configured(t *testing.T, file, log string, args ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(fbsBin, args...)
	cmd.Env = append(os.Environ(), "FBS_CONFIG="+file)
	stdout, _ := cmd.StdoutPipe()
	f, _ := os.Create(log)
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log)
			t.Logf("%s:\n%s", filepath.Base(log), b)
		}
	})
	return cmd, bufio.NewScanner(stdout)
}

// TestConfigFiles: a server and a worker started from configuration
// files alone build the demo ISO; the worker re-reads its file on SIGHUP
// (and keeps its settings when the file is broken).
func TestConfigFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "server.toml"), fmt.Sprintf(`[server]
listen = "127.0.0.1:0"
data = %q
cache = %q
workers = 0
lease = "5s"
`, filepath.Join(dir, "data"), cache))
	_, out := configured(t, filepath.Join(dir, "server.toml"), filepath.Join(dir, "server.log"), "serve")
	if !out.Scan() || !strings.HasPrefix(out.Text(), "fbs: listening on ") {
		t.Fatalf("fbs serve said %q", out.Text())
	}
	url := strings.TrimPrefix(out.Text(), "fbs: listening on ")
	go func() {
		for out.Scan() {
		}
	}()
	token, err := exec.Command(fbsBin, "token", "create", "--worker", "configured", "--data", filepath.Join(dir, "data")).Output()
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "worker.token"), string(token))
	workerConf := func(release string) string {
		return fmt.Sprintf(`[worker]
server = [%q]
token-file = %q
name = "configured"
data = %q
cache = %q
release = [%q]
`, url, filepath.Join(dir, "worker.token"), filepath.Join(dir, "worker"), cache, release)
	}
	write(t, filepath.Join(dir, "worker.toml"), workerConf("1"))
	w, _ := configured(t, filepath.Join(dir, "worker.toml"), filepath.Join(dir, "worker.log"), "worker")

	res := fbs(t, "submit", request(t, "file://"+demoDir, "true", ""), "--server", url, "--wait", "--raw")
	if res.code != 0 {
		t.Fatalf("submit --wait: exit %d", res.code)
	}
	mustContain(t, "submit output", res.out, "worker configured took the build", "succeeded")

	// A new release on SIGHUP: release 1 is no longer served.
	write(t, filepath.Join(dir, "worker.toml"), workerConf("2"))
	w.Process.Signal(syscall.SIGHUP)
	time.Sleep(4 * time.Second) // its next claim tells the server
	id := submitted(t, fbs(t, "submit", request(t, "file://"+demoDir, "true", ""), "--server", url).out)
	waitFor(t, url, id, 20*time.Second, func(b map[string]any) bool {
		return strings.Contains(fmt.Sprint(b["waiting"]), "no worker serves x86_64 live builds for release 1")
	})
	// A broken file on SIGHUP changes nothing.
	write(t, filepath.Join(dir, "worker.toml"), "[worker]\nslots = \"many\"\n")
	w.Process.Signal(syscall.SIGHUP)
	time.Sleep(time.Second)
	if err := w.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the worker died on a broken configuration: %v", err)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "worker.log"))
	mustContain(t, "worker log", string(log), "SIGHUP: configuration re-read", "SIGHUP: configuration refused", "worker.toml:2: worker.slots: invalid argument")
}
