// Package queuetest is the suite every worker.Queue passes: the server's
// queue.Service, which fbs serve's own slots call, and worker.Remote, the
// worker API over HTTP. What one does, the other must do alike, so a
// build is built the same by either kind of worker.
package queuetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fbs/internal/bootcheck"
	"fbs/internal/farm"
	"fbs/internal/queue"
	"fbs/internal/store"
	"fbs/internal/worker"
)

// Farm is a queue under test and the server behind it.
type Farm struct {
	// Queue is the implementation under test.
	Queue worker.Queue
	// Server is the server's queue that Queue reaches: the suite files
	// builds, cancels them and lets leases lapse through it, and reads
	// the logs and artifacts in its data dir.
	Server *queue.Service
	// Worker is whom Queue speaks for; it serves x86_64 builds only.
	Worker farm.Worker
}

// Run runs the suite; open returns a farm on an empty store.
func Run(t *testing.T, open func(t *testing.T) Farm) {
	tests := map[string]func(t *testing.T, f Farm){
		"claim":                claim,
		"heartbeat and cancel": heartbeat,
		"log append":           appendLog,
		"artifacts and finish": finish,
		"release":              release,
		"drain":                drain,
		"lease expiry":         expiry,
	}
	for name, test := range tests {
		t.Run(name, func(t *testing.T) { test(t, open(t)) })
	}
}

var ctx = context.Background()

func submit(t *testing.T, f Farm, arch string) string {
	t.Helper()
	b := &store.Build{Request: json.RawMessage(`{"type":"live","arch":"` + arch + `"}`), Type: "live", Arch: arch, Release: "40"}
	if err := f.Server.Store.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	return b.ID
}

// claimed submits a build and claims it.
func claimed(t *testing.T, f Farm) *farm.Job {
	t.Helper()
	id := submit(t, f, "x86_64")
	job, err := f.Queue.Claim(ctx, &f.Worker, 0)
	if err != nil || job.Build.ID != id {
		t.Fatalf("claim: %+v %v, want build %s", job, err, id)
	}
	return job
}

func get(t *testing.T, f Farm, id string) *store.Build {
	t.Helper()
	b, err := f.Server.Store.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serverLog(t *testing.T, f Farm, id string) string {
	t.Helper()
	data, err := os.ReadFile(queue.LogPath(f.Server.Data, id))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// stale is a lease on the job's build that its holder never had.
func stale(job *farm.Job) *farm.Lease {
	l := *job.Lease
	l.Token = "stale"
	return &l
}

func claim(t *testing.T, f Farm) {
	other := submit(t, f, "aarch64")
	want := submit(t, f, "x86_64")
	job, err := f.Queue.Claim(ctx, &f.Worker, 0)
	if err != nil {
		t.Fatal(err)
	}
	if job.Build.ID != want || job.Build.Attempts != 1 || !strings.Contains(string(job.Build.Request), `"x86_64"`) || job.Lease.Token == "" || job.Lease.Worker != f.Worker.Name {
		t.Errorf("job %+v, build %+v, want build %s", job, job.Build, want)
	}
	if job.LeaseFor() != f.Server.Lease {
		t.Errorf("lease %s, the server's is %s", job.LeaseFor(), f.Server.Lease)
	}
	// The worker's lines go after the server's header of the attempt.
	log := serverLog(t, f, want)
	if int64(len(log)) != job.LogOffset || !strings.Contains(log, "attempt 1: worker "+f.Worker.Name+" took the build") {
		t.Errorf("log offset %d, server's log %q", job.LogOffset, log)
	}
	if b := get(t, f, want); b.State != store.Running || b.Worker != f.Worker.Name {
		t.Errorf("claimed build %+v", b)
	}
	if _, err := f.Queue.Claim(ctx, &f.Worker, 0); !errors.Is(err, farm.ErrNoJob) {
		t.Errorf("a claim with only an aarch64 build queued: %v", err)
	}
	if b := get(t, f, other); b.State != store.Queued {
		t.Errorf("the aarch64 build: %+v", b)
	}
	ws, err := f.Server.Store.Workers(ctx)
	if err != nil || len(ws) != 1 || ws[0].Name != f.Worker.Name || ws[0].Draining || ws[0].Slots < 1 {
		t.Errorf("workers after a claim: %+v %v", ws, err)
	}
}

func heartbeat(t *testing.T, f Farm) {
	job := claimed(t, f)
	if cancel, err := f.Queue.Heartbeat(ctx, job.Lease, "packages"); err != nil || cancel {
		t.Errorf("heartbeat: cancel %v, %v", cancel, err)
	}
	if b := get(t, f, job.Build.ID); b.Stage != "packages" {
		t.Errorf("stage %q after the heartbeat", b.Stage)
	}
	if _, err := f.Server.Store.Cancel(ctx, job.Build.ID); err != nil {
		t.Fatal(err)
	}
	if cancel, err := f.Queue.Heartbeat(ctx, job.Lease, "squashfs"); err != nil || !cancel {
		t.Errorf("heartbeat after a cancel: cancel %v, %v", cancel, err)
	}
	if _, err := f.Queue.Heartbeat(ctx, stale(job), "x"); !errors.Is(err, farm.ErrLeaseLost) {
		t.Errorf("heartbeat without the lease: %v", err)
	}
}

func appendLog(t *testing.T, f Farm) {
	job := claimed(t, f)
	off := job.LogOffset
	tests := []struct {
		name   string
		lease  *farm.Lease
		offset int64
		data   string
		size   int64
		err    error
	}{
		{"append", job.Lease, off, "one\n", off + 4, nil},
		{"the same again", job.Lease, off, "one\n", off + 4, nil},
		{"overlapping", job.Lease, off + 2, "e\ntwo\n", off + 8, nil},
		{"past the end", job.Lease, off + 100, "x\n", off + 8, &farm.GapError{}},
		{"without the lease", stale(job), off + 8, "x\n", 0, farm.ErrLeaseLost},
	}
	for _, tc := range tests {
		size, err := f.Queue.AppendLog(ctx, tc.lease, tc.offset, []byte(tc.data))
		var gap *farm.GapError
		switch {
		case tc.err == nil && (err != nil || size != tc.size):
			t.Errorf("%s: size %d, %v; want %d", tc.name, size, err, tc.size)
		case errors.Is(tc.err, farm.ErrLeaseLost) && !errors.Is(err, farm.ErrLeaseLost):
			t.Errorf("%s: %v, want the lease lost", tc.name, err)
		case errors.As(tc.err, &gap) && (!errors.As(err, &gap) || gap.Size != tc.size):
			t.Errorf("%s: %v, want a gap at %d", tc.name, err, tc.size)
		}
	}
	if log := serverLog(t, f, job.Build.ID); !strings.HasSuffix(log, "took the build\none\ntwo\n") {
		t.Errorf("server's log %q", log)
	}
}

func sum(data string) string {
	s := sha256.Sum256([]byte(data))
	return hex.EncodeToString(s[:])
}

func finish(t *testing.T, f Farm) {
	job := claimed(t, f)
	const iso = "iso content"
	put := func(name, data, announced string) error {
		return f.Queue.PutArtifact(ctx, job.Lease, name, int64(len(data)), announced, strings.NewReader(data))
	}
	uploads := []struct {
		name, file, data, sum string
		ok                    bool
	}{
		{"upload", "x.iso", iso, sum(iso), true},
		{"upload again", "x.iso", iso, sum(iso), true},
		{"other content, same name", "x.iso", "other", sum("other"), false},
		{"not as announced", "y.iso", iso, sum("other"), false},
		{"not a plain name", "../x.iso", iso, sum(iso), false},
	}
	for _, tc := range uploads {
		if err := put(tc.file, tc.data, tc.sum); (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if err := f.Queue.PutArtifact(ctx, stale(job), "z.iso", 3, sum("abc"), strings.NewReader("abc")); !errors.Is(err, farm.ErrLeaseLost) {
		t.Errorf("upload without the lease: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(queue.Dir(f.Server.Data, job.Build.ID), "artifacts", "x.iso"))
	if err != nil || string(got) != iso {
		t.Errorf("artifact on the server: %q %v", got, err)
	}

	if err := f.Queue.Finish(ctx, job.Lease, farm.Outcome{State: farm.Succeeded, Artifacts: []farm.Artifact{{Name: "y.iso", Size: 3}}}); err == nil {
		t.Error("a finish with an artifact never uploaded was taken")
	}
	boots := []*bootcheck.Result{{Firmware: "uefi", Accel: "tcg", Expect: "login:", Line: "fbs login:", Seconds: 40}}
	o := farm.Outcome{State: farm.Succeeded, Artifacts: []farm.Artifact{{Name: "x.iso", Size: int64(len(iso)), SHA256: sum(iso)}},
		Stages: map[string]float64{"packages": 1}, Boots: boots}
	if err := f.Queue.Finish(ctx, job.Lease, o); err != nil {
		t.Fatal(err)
	}
	b := get(t, f, job.Build.ID)
	var arts []queue.Artifact
	json.Unmarshal(b.Artifacts, &arts)
	var gotBoots []*bootcheck.Result
	json.Unmarshal(b.BootTests, &gotBoots)
	if b.State != store.Succeeded || len(arts) != 1 || arts[0].URL != "/api/v1/builds/"+b.ID+"/artifacts/x.iso" || arts[0].SHA256 != sum(iso) {
		t.Errorf("finished build %+v, artifacts %s", b, b.Artifacts)
	}
	if len(gotBoots) != 1 || *gotBoots[0] != *boots[0] {
		t.Errorf("boot tests in the record: %s", b.BootTests)
	}
	if err := f.Queue.Finish(ctx, job.Lease, farm.Outcome{State: farm.Failed}); !errors.Is(err, farm.ErrLeaseLost) {
		t.Errorf("a second finish: %v", err)
	}
	if _, err := f.Queue.Heartbeat(ctx, job.Lease, ""); !errors.Is(err, farm.ErrLeaseLost) {
		t.Errorf("a heartbeat after the finish: %v", err)
	}
}

func release(t *testing.T, f Farm) {
	job := claimed(t, f)
	if err := f.Queue.Release(ctx, stale(job)); !errors.Is(err, farm.ErrLeaseLost) {
		t.Errorf("release without the lease: %v", err)
	}
	if err := f.Queue.Release(ctx, job.Lease); err != nil {
		t.Fatal(err)
	}
	if b := get(t, f, job.Build.ID); b.State != store.Queued || b.Attempts != 0 || b.Worker != "" {
		t.Errorf("released build %+v", b)
	}
	if log := serverLog(t, f, job.Build.ID); !strings.Contains(log, "worker "+f.Worker.Name+" stopped; the build goes back to the queue") {
		t.Errorf("log %q", log)
	}
	// Not counted against it: the next claim is attempt 1 again.
	again, err := f.Queue.Claim(ctx, &f.Worker, 0)
	if err != nil || again.Build.ID != job.Build.ID || again.Build.Attempts != 1 || again.LogOffset <= job.LogOffset {
		t.Errorf("claimed again: %+v %v", again, err)
	}
}

// drain: a draining worker is shown so, and takes nothing queued.
func drain(t *testing.T, f Farm) {
	id := submit(t, f, "x86_64")
	if err := f.Queue.Drain(ctx, &f.Worker); err != nil {
		t.Fatal(err)
	}
	if b := get(t, f, id); b.State != store.Queued {
		t.Errorf("drain took a build: %+v", b)
	}
	ws, err := f.Server.Store.Workers(ctx)
	if err != nil || len(ws) != 1 || !ws[0].Draining || ws[0].Status(time.Now(), f.Server.Lease) != "draining" {
		t.Errorf("workers after a drain: %+v %v", ws, err)
	}
}

// expiry: a lapsed lease takes nothing more from its holder, and the
// build goes to the next claim after the first attempt's lines.
func expiry(t *testing.T, f Farm) {
	job := claimed(t, f)
	if _, err := f.Queue.AppendLog(ctx, job.Lease, job.LogOffset, []byte("first\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Server.Expire(ctx, time.Now().Add(2*f.Server.Lease), 3); err != nil {
		t.Fatal(err)
	}
	if b := get(t, f, job.Build.ID); b.State != store.Queued {
		t.Errorf("after its lease lapsed: %+v", b)
	}
	calls := map[string]error{}
	_, calls["heartbeat"] = f.Queue.Heartbeat(ctx, job.Lease, "")
	_, calls["log append"] = f.Queue.AppendLog(ctx, job.Lease, job.LogOffset+6, []byte("late\n"))
	calls["upload"] = f.Queue.PutArtifact(ctx, job.Lease, "x.iso", 3, sum("abc"), strings.NewReader("abc"))
	calls["finish"] = f.Queue.Finish(ctx, job.Lease, farm.Outcome{State: farm.Succeeded})
	calls["release"] = f.Queue.Release(ctx, job.Lease)
	for name, err := range calls {
		if !errors.Is(err, farm.ErrLeaseLost) {
			t.Errorf("%s after the lease lapsed: %v", name, err)
		}
	}
	again, err := f.Queue.Claim(ctx, &f.Worker, 0)
	if err != nil || again.Build.ID != job.Build.ID || again.Build.Attempts != 2 {
		t.Fatalf("claimed again: %+v %v", again, err)
	}
	log := serverLog(t, f, job.Build.ID)
	first, silent := strings.Index(log, "\nfirst\n"), strings.Index(log, "the worker went silent")
	if int64(len(log)) != again.LogOffset || first < 0 || silent < first || strings.Contains(log, "late") ||
		!strings.HasSuffix(log, "attempt 2: worker "+f.Worker.Name+" took the build\n") {
		t.Errorf("log offset %d, server's log %q", again.LogOffset, log)
	}
}
