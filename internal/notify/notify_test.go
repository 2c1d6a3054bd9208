package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fbs/internal/api"
	"fbs/internal/egress"
	"fbs/internal/farm"
	"fbs/internal/fbstest"
	"fbs/internal/notify"
	"fbs/internal/queue"
	"fbs/internal/spec"
	"fbs/internal/store"
	"fbs/internal/worker"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestNotifications: a build with an email address and a webhook: the
// requester gets an email on acceptance and one at the end (plain text and
// HTML, with links and checksums), the webhook hears every state, signed;
// an SMTP server that refuses the mail fails the delivery, not the build.
func TestNotifications(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		mb := fbstest.StartSMTP(t, refuse)
		hook := fbstest.StartWebhook(t, "s3cret")

		st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "fbs.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		data := t.TempDir()
		q := &queue.Service{Store: st, Data: data, Lease: time.Minute, Log: quiet, Notifier: &notify.Notifier{Store: st, Log: quiet}}
		host, port, _ := net.SplitHostPort(mb.Addr)
		var p int
		json.Unmarshal([]byte(port), &p)
		d := &notify.Dispatcher{Store: st, Data: data, Log: quiet, PublicURL: "https://fbs.example.org", Attempts: 3, First: 50 * time.Millisecond,
			Mailer: &notify.Mailer{Host: host, Port: p, Security: "none", From: "fbs@example.org"},
			Hook:   &notify.Hook{Secret: []byte("s3cret"), Client: http.DefaultClient, Egress: loopback}}
		ctx, stop := context.WithCancel(context.Background())
		go q.Run(ctx, 3)
		go d.Run(ctx)
		w := &worker.Worker{Queue: q, Dir: data, Log: quiet, Build: worker.Simulate(50 * time.Millisecond), Wait: time.Second,
			Info: farm.Worker{Name: "w", Slots: 1}}
		go w.Run(ctx, nil)
		h := httptest.NewServer((&api.Server{Store: st, Queue: q, Data: data, Log: quiet}).Handler())

		req := `{"type":"live","arch":"x86_64","release":"40","email":["qa@example.org"],"webhook":"` + hook.URL + `","live":{"kickstart":"repo --name=x --baseurl=http://x/\n"}}`
		resp, err := http.Post(h.URL+"/api/v1/builds", "application/json", strings.NewReader(req))
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("submit: %v %v", resp, err)
		}
		var b store.Build
		json.NewDecoder(resp.Body).Decode(&b)
		resp.Body.Close()

		var got store.Build
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			r, _ := http.Get(h.URL + "/api/v1/builds/" + b.ID)
			got = store.Build{}
			json.NewDecoder(r.Body).Decode(&got)
			r.Body.Close()
			settled := got.State.Done() && len(got.Notifications) == 5
			for _, n := range got.Notifications {
				settled = settled && n.State != store.Pending
			}
			if settled {
				break
			}
		}
		if got.State != store.Succeeded {
			t.Fatalf("refuse=%v: build %s", refuse, got.State)
		}
		states := map[string]string{}
		for _, n := range got.Notifications {
			states[n.Kind+" "+n.Event] = n.State
			if refuse && n.Kind == "email" && (n.Attempts != 1 || !strings.Contains(n.Error, "no such user")) {
				t.Errorf("a refused email: %+v", n)
			}
		}
		mailState := store.Sent
		if refuse {
			mailState = store.Undeliverable
		}
		want := map[string]string{"email accepted": mailState, "email succeeded": mailState, "webhook queued": store.Sent, "webhook running": store.Sent, "webhook succeeded": store.Sent}
		for k, v := range want {
			if states[k] != v {
				t.Errorf("refuse=%v: %s is %q, want %q (all: %v)", refuse, k, states[k], v, states)
			}
		}
		if events := hook.Events(); strings.Join(events, " ") != "queued running succeeded" {
			t.Errorf("webhook events %v", events)
		}
		if !refuse {
			msgs := mb.Messages()
			if len(msgs) != 2 {
				t.Fatalf("%d messages", len(msgs))
			}
			for _, want := range []string{"Subject: [fbs] live x86_64 build accepted: " + b.ID, "https://fbs.example.org/api/v1/builds/" + b.ID + "/log", "text/html"} {
				if !strings.Contains(msgs[0], want) {
					t.Errorf("first message lacks %q:\n%s", want, msgs[0])
				}
			}
			for _, want := range []string{"Subject: [fbs] live x86_64 build succeeded: " + b.ID, "/artifacts/simulated-", "sha256 ", "To: <qa@example.org>"} {
				if !strings.Contains(msgs[1], want) {
					t.Errorf("last message lacks %q:\n%s", want, msgs[1])
				}
			}
		}
		stop()
		h.Close()
	}
}

// loopback is the operator's allowance tests need: their servers are on 127.0.0.1.
var loopback = &egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

// TestRequestWebhooks: a request's webhook may not call the server's own
// machine (by address or by name) unless the operator allows loopback;
// the operator's own webhooks may.
func TestRequestWebhooks(t *testing.T) {
	hook := fbstest.StartWebhook(t, "k")
	byName := strings.Replace(hook.URL, "127.0.0.1", "localhost", 1)
	ev := notify.Event{Event: "queued", Build: &store.Build{ID: "x"}}
	tests := map[string]struct {
		hook    *notify.Hook
		url     string
		refused bool
	}{
		"by address":                          {&notify.Hook{}, hook.URL, true},
		"by name":                             {&notify.Hook{}, byName, true},
		"the operator's":                      {&notify.Hook{Trusted: []string{hook.URL}}, hook.URL, false},
		"loopback allowed":                    {&notify.Hook{Egress: loopback}, hook.URL, false},
		"another port of the operator's host": {&notify.Hook{Trusted: []string{hook.URL}}, "http://127.0.0.1:1/", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.hook.Secret, tc.hook.Client = []byte("k"), http.DefaultClient
			err := tc.hook.Send(context.Background(), tc.url, ev)
			if refused := errors.Is(err, egress.ErrRefused) && errors.Is(err, notify.ErrPermanent); refused != tc.refused || !tc.refused && err != nil {
				t.Errorf("error %v, want refused=%v", err, tc.refused)
			}
		})
	}
}

// TestRefusedWebhookLoggedOnce: a request's webhook the network guard
// refuses is refused at each of its build's events, and the log says so
// once, on the server (whose store remembers it) and in fbs build alike.
func TestRefusedWebhookLoggedOnce(t *testing.T) {
	const url = "http://127.0.0.1:1/" // refused before it is dialled: loopback is not allowed
	events := []string{"queued", "running", "succeeded"}
	t.Run("server", func(t *testing.T) {
		ctx := context.Background()
		st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "fbs.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		b := &store.Build{Request: []byte(`{"type":"live","arch":"x86_64","release":"40","webhook":"` + url + `"}`), Type: "live", Arch: "x86_64", Release: "40"}
		if err := st.Create(ctx, b); err != nil {
			t.Fatal(err)
		}
		var logged bytes.Buffer
		n := &notify.Notifier{Store: st, Log: quiet}
		d := &notify.Dispatcher{Store: st, Data: t.TempDir(), Log: slog.New(slog.NewTextHandler(&logged, nil)), Attempts: 3, First: time.Millisecond,
			Hook: &notify.Hook{Client: http.DefaultClient}}
		for _, ev := range events {
			n.Changed(ctx, b, ev)
			d.Once(ctx)
		}
		if lines := strings.Split(strings.TrimSpace(logged.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "refused by the network guard") || strings.Contains(lines[0], "attempt") {
			t.Errorf("logged %d lines, want one saying the webhook is refused:\n%s", len(lines), logged.String())
		}
		ns, err := st.Notifications(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if n.State != store.Undeliverable || n.Attempts != 1 || !strings.Contains(n.Error, egress.ErrRefused.Error()) {
				t.Errorf("%s: %+v, want refused at the first attempt", n.Event, n)
			}
		}
		if len(ns) != len(events) {
			t.Errorf("%d notifications, want %d", len(ns), len(events))
		}
	})
	t.Run("fbs build", func(t *testing.T) {
		var mu sync.Mutex
		var lines []string
		l := &notify.Local{Hook: &notify.Hook{Client: http.DefaultClient}, Attempts: 3, Logf: func(format string, a ...any) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, fmt.Sprintf(format, a...))
		}}
		for _, ev := range events {
			l.Send(context.Background(), notify.LocalBuild{ID: "x", Req: &spec.Request{Type: "live", Webhook: url}, State: store.State(ev)}, ev)
		}
		l.Wait()
		if len(lines) != 1 || !strings.Contains(lines[0], "webhook "+url+": refused by the network guard") {
			t.Errorf("logged %q, want one line saying the webhook is refused", lines)
		}
	})
}
