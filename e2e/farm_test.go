//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"fbs/internal/fbstest"
)

// farm is fbs servers on one PostgreSQL and one data dir, with fbs worker
// processes building for them.
type farm struct {
	t    *testing.T
	pg   *fbstest.PG
	data string
	dir  string // tokens and worker logs
}

func newFarm(t *testing.T) *farm {
	dir := t.TempDir()
	f := &farm{t: t, pg: fbstest.Postgres(t), data: filepath.Join(dir, "data"), dir: dir}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		logs = append(logs, f.data+".log")
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", filepath.Base(l), b)
		}
	})
	return f
}

// server starts an fbs serve on the farm's database with no build slots.
func (f *farm) server(extra ...string) *server {
	return startServer(f.t, f.data, append([]string{"--db", f.pg.DSN, "--workers", "0"}, extra...)...)
}

// worker starts fbs worker NAME for the servers, with a token of its own.
func (f *farm) worker(name string, servers []*server, extra ...string) *exec.Cmd {
	t := f.t
	t.Helper()
	out, err := exec.Command(fbsBin, "token", "create", "--worker", name, "--db", f.pg.DSN).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	tokenFile := filepath.Join(f.dir, name+".token")
	write(t, tokenFile, string(out))
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.url)
	}
	cmd := exec.Command(fbsBin, append([]string{"worker", "--server", strings.Join(urls, ","), "--token-file", tokenFile,
		"--name", name, "--data", filepath.Join(f.dir, name), "--cache", cache}, extra...)...)
	log, _ := os.Create(filepath.Join(f.dir, name+".log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		log.Close()
	})
	return cmd
}

// workerLog is what the worker process wrote.
func (f *farm) workerLog(name string) string {
	b, _ := os.ReadFile(filepath.Join(f.dir, name+".log"))
	return string(b)
}

// post submits a JSON request straight to the API and returns the id.
func post(t *testing.T, url, body string) string {
	t.Helper()
	resp, err := http.Post(url+"/api/v1/builds", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&b)
	if resp.StatusCode != 201 {
		t.Fatalf("submit: %s", resp.Status)
	}
	return b.ID
}

// cheap is a request for the simulated builds of the fault tests.
func cheap(release string) string {
	return `{"type":"live","arch":"x86_64","release":"` + release + `","live":{"kickstart":"repo --name=x --baseurl=http://127.0.0.1:1/\n"}}`
}

func buildLog(t *testing.T, url, id string) string {
	t.Helper()
	resp, err := http.Get(url + "/api/v1/builds/" + id + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func done(b map[string]any) bool {
	s := b["state"]
	return s == "succeeded" || s == "failed" || s == "cancelled"
}

// TestFarm: a server on PostgreSQL with no slots of its own, and a worker
// process that builds the demo live ISO for it: the build runs on the
// worker, its log streams to the server, its artifacts are uploaded and
// downloadable; a build for an arch no worker serves says so.
func TestFarm(t *testing.T) {
	f := newFarm(t)
	s := f.server()
	odd := post(t, s.url, `{"type":"live","arch":"aarch64","release":"1","live":{"kickstart":"repo --name=x --baseurl=http://127.0.0.1:1/\n"}}`)
	f.worker("builder1", []*server{s}, "--release", "1")
	res := fbs(t, "submit", request(t, "file://"+demoDir, "echo farmed > /etc/issue", ""), "--server", s.url, "--wait", "--raw")
	if res.code != 0 {
		t.Fatalf("submit --wait: exit %d", res.code)
	}
	mustContain(t, "submit output", res.out, "attempt 1: worker builder1 took the build", "=== stage squashfs", "succeeded")
	id := submitted(t, res.out)
	if b := status(t, s.url, id); b["worker"] != "builder1" {
		t.Errorf("built by %v", b["worker"])
	}
	download(t, s.url, id)

	mustContain(t, "status of the aarch64 build", fmt.Sprint(status(t, s.url, odd)), "no worker serves aarch64 live builds for release 1")
	res = fbs(t, "workers", "--server", s.url)
	mustContain(t, "fbs workers", res.out, "builder1", "idle", "x86_64")
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mustContain(t, "/metrics", string(metrics), `fbs_queue_depth{arch="aarch64",release="1",type="live"} 1`,
		`fbs_workers{state="idle"} 1`, `fbs_build_duration_seconds_count{state="succeeded",type="live"} 1`,
		`fbs_build_stage_duration_seconds_count{stage="squashfs",type="live"} 1`, `fbs_builds{state="succeeded"} 1`)
}

// TestFarmWorkerKilled: kill -9 the worker of a running build; once its
// lease lapses the build goes back to the queue and the other worker
// builds it; the log shows both attempts.
func TestFarmWorkerKilled(t *testing.T) {
	f := newFarm(t)
	s := f.server("--lease", "3s")
	workers := map[string]*exec.Cmd{
		"w1": f.worker("w1", []*server{s}, "--simulate", "8s"),
		"w2": f.worker("w2", []*server{s}, "--simulate", "8s"),
	}
	id := post(t, s.url, cheap("40"))
	b := waitFor(t, s.url, id, 30*time.Second, func(b map[string]any) bool { return b["state"] == "running" && b["stage"] == "packages" })
	first := b["worker"].(string)
	workers[first].Process.Kill()
	b = waitFor(t, s.url, id, time.Minute, done)
	if b["state"] != "succeeded" || b["worker"] == first || b["attempts"] != 2.0 {
		t.Errorf("after killing %s: %v", first, b)
	}
	mustContain(t, "build log", buildLog(t, s.url, id), "attempt 1: worker "+first, "the worker went silent for 3s",
		"attempt 2: worker "+b["worker"].(string), "stage image done (2 of 2)")
}

// TestFarmDrain: a drained worker finishes its build, takes no other,
// and exits; the server shows it draining, and the build it left waits,
// saying why.
func TestFarmDrain(t *testing.T) {
	f := newFarm(t)
	s := f.server("--lease", "5s")
	w := f.worker("drained", []*server{s}, "--simulate", "4s")
	first, second := post(t, s.url, cheap("40")), post(t, s.url, cheap("40"))
	waitFor(t, s.url, first, 30*time.Second, func(b map[string]any) bool { return b["stage"] == "packages" })
	if res := fbs(t, "worker", "--drain", "--data", filepath.Join(f.dir, "drained")); res.code != 0 {
		t.Fatalf("worker --drain: exit %d", res.code)
	}
	exited := make(chan error, 1)
	go func() { exited <- w.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the drained worker: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the drained worker did not exit")
	}
	if b := status(t, s.url, first); b["state"] != "succeeded" {
		t.Errorf("the running build: %v", b)
	}
	b := status(t, s.url, second)
	if b["state"] != "queued" || !strings.Contains(fmt.Sprint(b["waiting"]), "no worker serves x86_64 live builds for release 40") {
		t.Errorf("the build left: %v", b)
	}
	mustContain(t, "fbs workers", fbs(t, "workers", "--server", s.url).out, "draining")
}

// TestFarmNetworkLost: a worker cut off from the server past its lease
// stops its build and reports nothing; another worker builds it; the cut
// off worker, back on the network, takes new work.
func TestFarmNetworkLost(t *testing.T) {
	f := newFarm(t)
	// The cut off worker calls it by the proxy's port.
	s := f.server("--lease", "3s", "--allowed-host", "127.0.0.1")
	p := newProxy(t, strings.TrimPrefix(s.url, "http://"))
	f.worker("cut", []*server{{url: "http://" + p.addr}}, "--simulate", "10s", "--release", "40")
	id := post(t, s.url, cheap("40"))
	// Its heartbeat told the stage: the worker has the build.
	waitFor(t, s.url, id, 30*time.Second, func(b map[string]any) bool { return b["stage"] == "packages" })
	p.cut(true)
	waitFor(t, s.url, id, 30*time.Second, func(b map[string]any) bool { return b["state"] == "queued" })
	f.worker("other", []*server{s}, "--simulate", "2s", "--release", "40")
	time.Sleep(2 * time.Second) // the cut off worker tries to go on meanwhile
	p.cut(false)
	b := waitFor(t, s.url, id, time.Minute, done)
	if b["state"] != "succeeded" || b["worker"] != "other" || b["attempts"] != 2.0 {
		t.Errorf("after the cut: %v", b)
	}
	log := buildLog(t, s.url, id)
	if strings.Count(log, "=== stage image") != 1 {
		t.Errorf("the cut off worker's attempt reached the log after its lease:\n%s", log)
	}
	for deadline := time.Now().Add(time.Minute); !strings.Contains(f.workerLog("cut"), "build abandoned") && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond) // its last log sends are retried for a while
	}
	mustContain(t, "cut off worker's log", f.workerLog("cut"), "stopping the build", "build abandoned")
	again := post(t, s.url, `{"type":"live","arch":"x86_64","release":"40","live":{"label":"again","kickstart":"repo --name=x --baseurl=http://127.0.0.1:1/\n"}}`)
	waitFor(t, s.url, again, time.Minute, done)
}

// TestFarmServerKilled: kill -9 one of two servers; the workers go on
// with the other and the builds finish.
func TestFarmServerKilled(t *testing.T) {
	f := newFarm(t)
	a, b := f.server("--lease", "5s"), f.server("--lease", "5s")
	f.worker("w1", []*server{a, b}, "--simulate", "4s")
	f.worker("w2", []*server{a, b}, "--simulate", "4s")
	var ids []string
	for range 4 {
		ids = append(ids, post(t, a.url, cheap("40")))
	}
	waitFor(t, a.url, ids[0], 30*time.Second, func(b map[string]any) bool { return b["state"] == "running" })
	a.cmd.Process.Kill()
	for _, id := range ids {
		if got := waitFor(t, b.url, id, time.Minute, done); got["state"] != "succeeded" {
			t.Errorf("build %s: %v", id, got)
		}
	}
}

// TestFarmPostgresRestart: PostgreSQL restarts mid-build; server and
// workers retry and every build finishes once.
func TestFarmPostgresRestart(t *testing.T) {
	f := newFarm(t)
	s := f.server("--lease", "15s")
	f.worker("w1", []*server{s}, "--simulate", "6s")
	f.worker("w2", []*server{s}, "--simulate", "6s")
	ids := []string{post(t, s.url, cheap("40")), post(t, s.url, cheap("40"))}
	for _, id := range ids {
		waitFor(t, s.url, id, 30*time.Second, func(b map[string]any) bool { return b["state"] == "running" })
	}
	f.pg.Restart(t)
	after := post(t, s.url, cheap("40")) // queued after the restart: LISTEN is back
	for _, id := range append(ids, after) {
		if b := waitFor(t, s.url, id, time.Minute, done); b["state"] != "succeeded" || b["attempts"] != 1.0 {
			t.Errorf("build %s: %v", id, b)
		}
	}
}

// TestFarmLoad: 200 builds submitted at once to 4 workers: each is built
// exactly once, none lost.
func TestFarmLoad(t *testing.T) {
	f := newFarm(t)
	s := f.server("--lease", "10s")
	var ids []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			id := post(t, s.url, cheap(fmt.Sprint(40+i%2)))
			mu.Lock()
			ids = append(ids, id)
			mu.Unlock()
		})
	}
	wg.Wait()
	start := time.Now()
	for i := range 4 {
		f.worker(fmt.Sprint("load", i), []*server{s}, "--simulate", "100ms", "--slots", "2")
	}
	for _, id := range ids {
		b := waitFor(t, s.url, id, 5*time.Minute, done)
		if b["state"] != "succeeded" || b["attempts"] != 1.0 {
			t.Errorf("build %s: %v", id, b)
		}
		if n := strings.Count(buildLog(t, s.url, id), "took the build"); n != 1 {
			t.Errorf("build %s was taken %d times", id, n)
		}
	}
	t.Logf("200 builds on 4 workers × 2 slots in %s", time.Since(start).Round(100*time.Millisecond))
	res := fbs(t, "workers", "--server", s.url)
	total := 0
	for _, line := range strings.Split(res.out, "\n")[1:] {
		var n int
		if fields := strings.Fields(line); len(fields) > 7 {
			fmt.Sscan(fields[7], &n)
		}
		total += n
	}
	if total != 200 {
		t.Errorf("the workers count %d builds, want 200", total)
	}
}

// proxy forwards TCP to a server until cut: then every connection drops
// and new ones are refused, as when a worker loses the network.
type proxy struct {
	addr  string
	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &proxy{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}
