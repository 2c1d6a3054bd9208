// Package storetest is the suite every store.Store implementation passes.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"fbs/internal/store"
)

// Run runs the suite; open returns a fresh, empty store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := map[string]func(t *testing.T, s store.Store){
		"create and get":         createGet,
		"list filters and pages": list,
		"claim matches":          claimMatches,
		"lease":                  lease,
		"cancel":                 cancel,
		"expiry requeues":        expiry,
		"release requeues":       release,
		"concurrent claimers":    concurrentClaimers,
		"workers":                workers,
		"tokens":                 tokens,
		"sessions":               sessions,
		"counts":                 counts,
		"listen":                 listen,
		"notifications":          notifications,
		"retention":              retention,
	}
	for name, test := range tests {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			test(t, s)
		})
	}
}

var ctx = context.Background()

func create(t *testing.T, s store.Store, typ, arch, release string) *store.Build {
	t.Helper()
	b := &store.Build{Request: json.RawMessage(`{"type":"` + typ + `"}`), Type: typ, Arch: arch, Release: release, Requester: "qa"}
	if err := s.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	return b
}

func createGet(t *testing.T, s store.Store) {
	b := create(t, s, "live", "x86_64", "40")
	got, err := s.Get(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.Queued || got.Type != "live" || string(got.Request) != `{"type":"live"}` || !got.Created.Equal(b.Created) {
		t.Errorf("got %+v, created %+v", got, b)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown build: %v", err)
	}
}

func list(t *testing.T, s store.Store) {
	var ids []string
	for i := 0; i < 5; i++ {
		typ := []string{"live", "boot"}[i%2]
		ids = append(ids, create(t, s, typ, "x86_64", "40").ID)
	}
	all, err := s.List(ctx, store.Filter{})
	if err != nil || len(all) != 5 || all[0].ID != ids[4] {
		t.Fatalf("list %d, first %v (%v): want newest first", len(all), all, err)
	}
	boot, _ := s.List(ctx, store.Filter{Type: "boot"})
	if len(boot) != 2 {
		t.Errorf("type filter: %d", len(boot))
	}
	page, _ := s.List(ctx, store.Filter{Limit: 2, Offset: 2})
	if len(page) != 2 || page[0].ID != ids[2] {
		t.Errorf("page %v", page)
	}
}

func claimMatches(t *testing.T, s store.Store) {
	create(t, s, "live", "aarch64", "40")
	want := create(t, s, "live", "x86_64", "rawhide")
	if _, _, err := s.Claim(ctx, store.Claim{Worker: "w", Arches: []string{"i686"}, For: time.Minute}); !errors.Is(err, store.ErrNoJob) {
		t.Errorf("an i686 worker got work: %v", err)
	}
	b, l, err := s.Claim(ctx, store.Claim{Worker: "w1", Arches: []string{"x86_64"}, Releases: []string{"40", "rawhide"}, For: time.Minute})
	if err != nil || b.ID != want.ID || b.State != store.Running || b.Worker != "w1" || b.Attempts != 1 || l.Token == "" {
		t.Fatalf("claim %+v %+v %v", b, l, err)
	}
	if _, _, err := s.Claim(ctx, store.Claim{Worker: "w2", Arches: []string{"x86_64"}, For: time.Minute}); !errors.Is(err, store.ErrNoJob) {
		t.Errorf("a running build was claimed again: %v", err)
	}
}

func lease(t *testing.T, s store.Store) {
	create(t, s, "boot", "x86_64", "40")
	b, l, err := s.Claim(ctx, store.Claim{Worker: "w", For: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if cancel, err := s.Heartbeat(ctx, l, "squashfs", time.Minute); err != nil || cancel {
		t.Errorf("heartbeat %v %v", cancel, err)
	}
	stolen := *l
	stolen.Token = "other"
	if _, err := s.Heartbeat(ctx, &stolen, "x", time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("a wrong token renewed the lease: %v", err)
	}
	boots := `[{"firmware":"bios","accel":"tcg","expect":"login:","line":"fbs login:","seconds":41.5}]`
	if err := s.Finish(ctx, l, store.Result{State: store.Succeeded, Artifacts: json.RawMessage(`[{"name":"x.iso"}]`), BootTests: json.RawMessage(boots)}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, b.ID)
	if got.State != store.Succeeded || got.Finished == nil || string(got.Artifacts) != `[{"name":"x.iso"}]` || got.Stage != "squashfs" {
		t.Errorf("finished build %+v", got)
	}
	if string(got.BootTests) != boots {
		t.Errorf("boot tests: %s, want %s", got.BootTests, boots)
	}
	if listed, _ := s.List(ctx, store.Filter{}); len(listed) != 1 || string(listed[0].BootTests) != boots {
		t.Errorf("listed: %+v", listed)
	}
	if err := s.Finish(ctx, l, store.Result{State: store.Failed, Error: "again"}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("a second finish: %v", err)
	}
}

func cancel(t *testing.T, s store.Store) {
	queued := create(t, s, "live", "x86_64", "40")
	got, err := s.Cancel(ctx, queued.ID)
	if err != nil || got.State != store.Cancelled {
		t.Errorf("cancel queued: %+v %v", got, err)
	}
	create(t, s, "live", "x86_64", "40")
	running, l, _ := s.Claim(ctx, store.Claim{Worker: "w", For: time.Minute})
	if got, err := s.Cancel(ctx, running.ID); err != nil || got.State != store.Running || !got.Cancel {
		t.Errorf("cancel running: %+v %v", got, err)
	}
	if cancel, _ := s.Heartbeat(ctx, l, "", time.Minute); !cancel {
		t.Error("the heartbeat did not pass the cancel on")
	}
	s.Finish(ctx, l, store.Result{State: store.Cancelled})
	if _, err := s.Cancel(ctx, running.ID); !errors.Is(err, store.ErrFinished) {
		t.Errorf("cancel of a finished build: %v", err)
	}
	if _, err := s.Cancel(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cancel of an unknown build: %v", err)
	}
}

func expiry(t *testing.T, s store.Store) {
	b := create(t, s, "live", "x86_64", "40")
	for attempt := 1; attempt <= 3; attempt++ {
		_, l, err := s.Claim(ctx, store.Claim{Worker: fmt.Sprint("w", attempt), For: time.Millisecond})
		if err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		ex, err := s.Expire(ctx, time.Now().Add(time.Second), 3)
		if err != nil {
			t.Fatal(err)
		}
		if attempt < 3 && (len(ex.Requeued) != 1 || len(ex.Failed) != 0) || attempt == 3 && len(ex.Failed) != 1 {
			t.Errorf("attempt %d: %+v", attempt, ex)
		}
		if err := s.Finish(ctx, l, store.Result{State: store.Succeeded}); !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("attempt %d: a lapsed lease finished the build: %v", attempt, err)
		}
	}
	got, _ := s.Get(ctx, b.ID)
	if got.State != store.Failed || got.Attempts != 3 || got.Error == "" {
		t.Errorf("after 3 lapses: %+v", got)
	}

	// A build asked to stop whose worker then went silent ends cancelled.
	c := create(t, s, "live", "x86_64", "40")
	if _, _, err := s.Claim(ctx, store.Claim{Worker: "w", For: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	s.Cancel(ctx, c.ID)
	ex, err := s.Expire(ctx, time.Now().Add(time.Second), 3)
	if err != nil || len(ex.Cancelled) != 1 || ex.Cancelled[0] != c.ID || len(ex.Requeued)+len(ex.Failed) != 0 {
		t.Errorf("a cancelled build's lease lapsed: %+v %v", ex, err)
	}
	if got, _ := s.Get(ctx, c.ID); got.State != store.Cancelled {
		t.Errorf("a cancelled build whose lease lapsed: %+v", got)
	}
}

func release(t *testing.T, s store.Store) {
	b := create(t, s, "live", "x86_64", "40")
	_, l, _ := s.Claim(ctx, store.Claim{Worker: "w", For: time.Minute})
	if err := s.Release(ctx, l); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, b.ID)
	if got.State != store.Queued || got.Attempts != 0 {
		t.Errorf("released build %+v", got)
	}
	if err := s.Release(ctx, l); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("a second release: %v", err)
	}
}

// concurrentClaimers: 100 claimers, 50 builds; each build is claimed once.
func concurrentClaimers(t *testing.T, s store.Store) {
	for i := 0; i < 50; i++ {
		create(t, s, "live", "x86_64", "40")
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 100; w++ {
		wg.Go(func() {
			for {
				b, _, err := s.Claim(ctx, store.Claim{Worker: fmt.Sprint("w", w), For: time.Minute})
				if errors.Is(err, store.ErrNoJob) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[b.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 50 {
		t.Errorf("%d builds claimed, want 50", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("build %s claimed %d times", id, n)
		}
	}
}

func workers(t *testing.T, s store.Store) {
	w := &store.Worker{Name: "b1", Arches: []string{"x86_64"}, Releases: []string{"40", "rawhide"}, Slots: 2, Version: "v1"}
	if err := s.SeenWorker(ctx, w); err != nil {
		t.Fatal(err)
	}
	w.Slots = 3
	if err := s.SeenWorker(ctx, w); err != nil {
		t.Fatal(err)
	}
	create(t, s, "live", "x86_64", "40")
	create(t, s, "live", "x86_64", "40")
	_, l, _ := s.Claim(ctx, store.Claim{Worker: "b1", For: time.Minute})
	s.Finish(ctx, l, store.Result{State: store.Failed, Error: "broke"})
	_, l, _ = s.Claim(ctx, store.Claim{Worker: "b1", For: time.Minute})
	before := time.Now()
	s.Heartbeat(ctx, l, "packages", time.Minute)
	all, err := s.Workers(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("workers %v %v", all, err)
	}
	got := all[0]
	if got.Slots != 3 || got.Running != 1 || got.Failed != 1 || got.Succeeded != 0 || len(got.Types) != 0 || got.LastSeen.Before(before.Add(-time.Second)) {
		t.Errorf("worker %+v", got)
	}
	if !got.Serves("live", "x86_64", "rawhide") || got.Serves("live", "aarch64", "40") || got.Serves("boot", "x86_64", "39") {
		t.Errorf("Serves is wrong for %+v", got)
	}
}

func tokens(t *testing.T, s store.Store) {
	secret, tok, err := s.CreateToken(ctx, store.WorkerToken, "b1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateToken(ctx, "admin", "x"); err == nil {
		t.Error("a token of an unknown kind")
	}
	got, err := s.Authenticate(ctx, secret)
	if err != nil || got.ID != tok.ID || got.Kind != store.WorkerToken || got.Name != "b1" {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	if _, err := s.Authenticate(ctx, secret+"x"); !errors.Is(err, store.ErrBadToken) {
		t.Errorf("a wrong secret: %v", err)
	}
	_, qa, _ := s.CreateToken(ctx, store.UserToken, "qa")
	for _, tc := range []struct{ id, kind, name string }{{qa.ID, store.UserToken, "dev"}, {qa.ID, store.WorkerToken, "qa"}, {"qa", store.UserToken, "qa"}} {
		if ok, err := s.RevokeOwnToken(ctx, tc.id, tc.kind, tc.name); ok || err != nil {
			t.Errorf("revoke %+v, not the owner's: %v %v", tc, ok, err)
		}
	}
	if n, err := s.RevokeToken(ctx, "b1"); n != 1 || err != nil {
		t.Errorf("revoke by name: %d %v", n, err)
	}
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, store.ErrBadToken) {
		t.Errorf("a revoked token: %v", err)
	}
	all, _ := s.Tokens(ctx)
	if len(all) != 2 || all[0].Revoked == nil || all[1].Revoked != nil {
		t.Errorf("tokens %+v", all)
	}
	for range 2 { // the second time it was revoked already, and stays so
		if ok, err := s.RevokeOwnToken(ctx, qa.ID, store.UserToken, "qa"); !ok || err != nil {
			t.Errorf("revoke the owner's own: %v %v", ok, err)
		}
	}
}

// sessions: a session is live until it expires or ends, and is found
// only by its id; the sweep removes the expired ones.
func sessions(t *testing.T, s store.Store) {
	now := time.Now()
	live := map[string]time.Time{"alice-1": now.Add(time.Hour), "alice-2": now.Add(2 * time.Hour), "old": now.Add(-time.Minute)}
	for id, expires := range live {
		if err := s.CreateSession(ctx, id, "alice", expires); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx, "", "alice", now.Add(time.Hour)); err == nil {
		t.Error("a session without an id")
	}
	got, err := s.Session(ctx, "alice-1", now)
	if err != nil || got.User != "alice" || !got.Expires.Equal(live["alice-1"]) || got.Created.IsZero() {
		t.Fatalf("a live session: %+v %v", got, err)
	}
	if err := s.EndSession(ctx, "alice-1"); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		id   string
		at   time.Time
		live bool
	}{
		"ended":          {"alice-1", now, false},
		"another":        {"alice-2", now, true},
		"unknown":        {"nope", now, false},
		"expired":        {"old", now, false},
		"at its expiry":  {"alice-2", live["alice-2"], false},
		"before expiry":  {"old", now.Add(-2 * time.Minute), true},
		"by its hash id": {hashOf("alice-2"), now, false},
	} {
		_, err := s.Session(ctx, tc.id, tc.at)
		if tc.live && err != nil || !tc.live && !errors.Is(err, store.ErrNoSession) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := s.EndSession(ctx, "nope"); err != nil {
		t.Errorf("ending an unknown session: %v", err)
	}
	if n, err := s.SweepSessions(ctx, now); n != 1 || err != nil {
		t.Errorf("sweep: %d %v", n, err)
	}
	if _, err := s.Session(ctx, "old", now.Add(-2*time.Minute)); !errors.Is(err, store.ErrNoSession) {
		t.Errorf("a swept session: %v", err)
	}
	if _, err := s.Session(ctx, "alice-2", now); err != nil {
		t.Errorf("a live session after the sweep: %v", err)
	}
}

// hashOf is a session id as the store keeps it, which must not open it.
func hashOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func counts(t *testing.T, s store.Store) {
	create(t, s, "live", "x86_64", "40")
	create(t, s, "live", "x86_64", "40")
	create(t, s, "boot", "aarch64", "rawhide")
	b, l, _ := s.Claim(ctx, store.Claim{Worker: "w", Types: []string{"boot"}, For: time.Minute})
	if err := s.Holds(ctx, l); err != nil {
		t.Errorf("holds %s: %v", b.ID, err)
	}
	s.Finish(ctx, l, store.Result{State: store.Succeeded})
	if err := s.Holds(ctx, l); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("holds a finished build: %v", err)
	}
	all, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range all {
		got[fmt.Sprintf("%s/%s/%s/%s", c.Type, c.Arch, c.Release, c.State)] = c.N
	}
	want := map[string]int{"live/x86_64/40/queued": 2, "boot/aarch64/rawhide/succeeded": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts %v, want %v", got, want)
	}
}

// listen: a listener hears of builds queued after it started.
func listen(t *testing.T, s store.Store) {
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	heard := make(chan struct{}, 10)
	s.Listen(lctx, func() { heard <- struct{}{} }, func(err error) { t.Log("listen:", err) })
	drain := func() {
		for {
			select {
			case <-heard:
			case <-time.After(300 * time.Millisecond):
				return
			}
		}
	}
	drain() // the wake-up after connecting
	create(t, s, "live", "x86_64", "40")
	select {
	case <-heard:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification for a queued build")
	}
}

func notifications(t *testing.T, s store.Store) {
	b := create(t, s, "live", "x86_64", "40")
	err := s.AddNotifications(ctx, []*store.Notification{
		{BuildID: b.ID, Kind: "email", Target: "qa@example.org", Event: "accepted"},
		{BuildID: b.ID, Kind: "webhook", Target: "http://x/", Event: "queued"},
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	due, err := s.DueNotifications(ctx, now, time.Minute, 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("due %v %v", due, err)
	}
	if again, _ := s.DueNotifications(ctx, now.Add(time.Second), time.Minute, 10); len(again) != 0 {
		t.Errorf("held notifications given again: %v", again)
	}
	s.NotificationResult(ctx, due[0].ID, nil, time.Time{}, false)
	s.NotificationResult(ctx, due[1].ID, errors.New("503"), now.Add(2*time.Minute), false)
	if again, _ := s.DueNotifications(ctx, now.Add(3*time.Minute), time.Minute, 10); len(again) != 1 || again[0].Attempts != 1 || again[0].Error != "503" {
		t.Errorf("the retry: %+v", again)
	}
	s.NotificationResult(ctx, due[1].ID, errors.New("gone"), time.Time{}, true)
	all, _ := s.Notifications(ctx, b.ID)
	if len(all) != 2 || all[0].State != store.Sent || all[0].Sent == nil || all[1].State != store.Undeliverable || all[1].Attempts != 2 {
		t.Errorf("notifications %+v %+v", all[0], all[1])
	}
}

func retention(t *testing.T, s store.Store) {
	var ids []string
	for range 4 {
		create(t, s, "live", "x86_64", "40")
		b, l, _ := s.Claim(ctx, store.Claim{Worker: "w", For: time.Minute})
		s.Finish(ctx, l, store.Result{State: store.Succeeded})
		ids = append(ids, b.ID)
	}
	create(t, s, "live", "x86_64", "40") // queued: never purged
	old, err := s.Purgeable(ctx, 2, time.Time{})
	if err != nil || fmt.Sprint(old) != fmt.Sprint([]string{ids[1], ids[0]}) {
		t.Fatalf("purgeable beyond 2: %v %v (ids %v)", old, err, ids)
	}
	if all, _ := s.Purgeable(ctx, 0, time.Now().Add(time.Hour)); len(all) != 4 {
		t.Errorf("purgeable by age: %v", all)
	}
	s.Purge(ctx, ids[0])
	if b, _ := s.Get(ctx, ids[0]); b.Purged == nil || b.State != store.Succeeded {
		t.Errorf("purged build %+v", b)
	}
	if left, _ := s.Purgeable(ctx, 2, time.Time{}); len(left) != 1 {
		t.Errorf("after a purge: %v", left)
	}
}
