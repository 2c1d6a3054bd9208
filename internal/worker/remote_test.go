package worker

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fbs/internal/api"
	"fbs/internal/farm"
	"fbs/internal/fbstest"
	"fbs/internal/publish"
	"fbs/internal/queue"
	"fbs/internal/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// server is a server on SQLite with its worker API over HTTP.
type server struct {
	st   store.Store
	q    *queue.Service
	url  string
	data string
}

func newServer(t testing.TB, lease time.Duration) *server {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "fbs.db"))
	if err != nil {
		t.Fatal(err)
	}
	return serverOn(t, st, lease)
}

// serverOn is a server on st, which it closes at the end.
func serverOn(t testing.TB, st store.Store, lease time.Duration) *server {
	data := t.TempDir()
	q := &queue.Service{Store: st, Data: data, Lease: lease, Log: quiet}
	ctx, stop := context.WithCancel(context.Background())
	go q.Run(ctx, 3)
	h := httptest.NewServer((&api.Server{Store: st, Queue: q, Data: data, Log: quiet}).Handler())
	t.Cleanup(func() { stop(); h.Close(); st.Close() })
	return &server{st: st, q: q, url: h.URL, data: data}
}

func (f *server) submit(t testing.TB, arch string) string {
	t.Helper()
	req := `{"type":"live","arch":"` + arch + `","release":"40","live":{"kickstart":"repo --name=x --baseurl=http://x/\n"}}`
	resp, err := http.Post(f.url+"/api/v1/builds", "application/json", strings.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b store.Build
	json.NewDecoder(resp.Body).Decode(&b)
	if resp.StatusCode != 201 {
		t.Fatalf("submit: %d", resp.StatusCode)
	}
	return b.ID
}

func (f *server) worker(t testing.TB, name string, slots int, d time.Duration) *Worker {
	t.Helper()
	secret, _, err := f.st.CreateToken(context.Background(), store.WorkerToken, name)
	if err != nil {
		t.Fatal(err)
	}
	return &Worker{
		Queue: &Remote{Servers: []string{f.url}, Token: secret, Client: &http.Client{}, Log: quiet},
		Dir:   t.TempDir(), Own: true, Log: quiet, Build: Simulate(d), Wait: 5 * time.Second,
		Info: farm.Worker{Name: name, Arches: []string{"x86_64"}, Slots: slots},
	}
}

func (f *server) wait(t *testing.T, id string, within time.Duration) *store.Build {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		b, err := f.st.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if b.State.Done() {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("build %s still %s after %s", id, b.State, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRemoteWorkers: two remote workers build 12 builds over HTTP; each
// is built once, its log and artifact reach the server, and the build
// for an arch no worker serves waits and says why. Drained, the workers
// stop and the server shows them draining.
func TestRemoteWorkers(t *testing.T) {
	f := newServer(t, 10*time.Second)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	drain := make(chan struct{})
	for _, name := range []string{"b1", "b2"} {
		w := f.worker(t, name, 2, 100*time.Millisecond)
		wg.Go(func() { w.Run(ctx, drain) })
	}
	var ids []string
	for range 12 {
		ids = append(ids, f.submit(t, "x86_64"))
	}
	odd := f.submit(t, "aarch64")
	for _, id := range ids {
		b := f.wait(t, id, 30*time.Second)
		if b.State != store.Succeeded || b.Attempts != 1 || (b.Worker != "b1" && b.Worker != "b2") {
			t.Errorf("build %s: %+v", id, b)
		}
		var arts []queue.Artifact
		json.Unmarshal(b.Artifacts, &arts)
		if len(arts) != 1 {
			t.Fatalf("build %s artifacts %s", id, b.Artifacts)
		}
		got, err := os.ReadFile(filepath.Join(queue.Dir(f.data, id), "artifacts", arts[0].Name))
		if err != nil || !strings.Contains(string(got), "simulated live image") {
			t.Errorf("artifact on the server: %q %v", got, err)
		}
		log, _ := os.ReadFile(queue.LogPath(f.data, id))
		if !strings.Contains(string(log), "attempt 1: worker b") || !strings.Contains(string(log), "stage image done (2 of 2)") {
			t.Errorf("log on the server:\n%s", log)
		}
	}
	resp, _ := http.Get(f.url + "/api/v1/builds/" + odd)
	var b store.Build
	json.NewDecoder(resp.Body).Decode(&b)
	resp.Body.Close()
	if b.State != store.Queued || !strings.Contains(b.Waiting, "no worker serves aarch64 live builds for release 40") {
		t.Errorf("aarch64 build: %s, waiting %q", b.State, b.Waiting)
	}
	resp, _ = http.Get(f.url + "/api/v1/workers")
	var ws struct{ Workers []*store.Worker }
	json.NewDecoder(resp.Body).Decode(&ws)
	resp.Body.Close()
	done := 0
	for _, w := range ws.Workers {
		done += w.Succeeded
		if w.State != "idle" && w.State != "busy" {
			t.Errorf("worker %s is %s", w.Name, w.State)
		}
	}
	if len(ws.Workers) != 2 || done != 12 {
		t.Errorf("workers %+v", ws.Workers)
	}
	close(drain)
	wg.Wait()
	all, _ := f.st.Workers(ctx)
	for _, w := range all {
		if state := w.Status(time.Now(), f.q.Lease); state != "draining" {
			t.Errorf("drained worker %s is %s", w.Name, state)
		}
	}
}

// TestServiceStaging: a build asking for FTP staging is published by its
// build, from the server's store; when the FTP server is down the build
// fails saying so, its artifacts kept on the server, and fbs restage
// publishes them once the server is back, turning the build into a success.
func TestServiceStaging(t *testing.T) {
	old := publish.DefaultRetry
	publish.DefaultRetry = publish.Retry{Attempts: 2, First: 50 * time.Millisecond}
	defer func() { publish.DefaultRetry = old }()
	ftp := fbstest.StartFTP(t)
	f := newServer(t, 10*time.Second)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	w := f.worker(t, "b1", 1, 50*time.Millisecond)
	go w.Run(ctx, nil)
	h := httptest.NewServer((&api.Server{Store: f.st, Queue: f.q, Data: f.data, Log: quiet}).Handler())
	defer h.Close()
	submit := func() string {
		req := `{"type":"live","arch":"x86_64","release":"40","staging":"` + ftp.URL("incoming") + `","live":{"kickstart":"repo --name=x --baseurl=http://x/\n"}}`
		resp, err := http.Post(h.URL+"/api/v1/builds", "application/json", strings.NewReader(req))
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("submit: %v %v", resp, err)
		}
		var b store.Build
		json.NewDecoder(resp.Body).Decode(&b)
		resp.Body.Close()
		return b.ID
	}
	if b := f.wait(t, submit(), 30*time.Second); b.State != store.Succeeded {
		t.Fatalf("staged build: %+v", b)
	}
	staged, _ := filepath.Glob(filepath.Join(ftp.Dir, "incoming", "simulated-*"))
	if len(staged) != 2 { // the artifact and its log
		t.Errorf("on the FTP server: %v", staged)
	}

	ftp.Stop()
	id := submit()
	b := f.wait(t, id, 30*time.Second)
	if b.State != store.Failed || !strings.HasPrefix(b.Error, queue.PublishFailed) {
		t.Fatalf("build with the FTP server down: %+v", b)
	}
	ftp.Start(t)
	resp, err := http.Post(h.URL+"/api/v1/builds/"+id+"/restage", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("restage: %v %v", resp, err)
	}
	resp.Body.Close()
	if b, _ := f.st.Get(context.Background(), id); b.State != store.Succeeded || b.Error != "" {
		t.Errorf("after restage: %+v", b)
	}
	log, _ := os.ReadFile(queue.LogPath(f.data, id))
	for _, want := range []string{"build failed: stage publish: publishing to ftp://", "attempt 2 of 2", "fbs restage: 1 artifacts to ftp://", "=== stage publish done in "} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
