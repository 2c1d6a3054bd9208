package notify

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"fbs/internal/egress"
	"fbs/internal/spec"
	"fbs/internal/store"
)

// Local sends what fbs build has to say about a build it makes here: the
// request's email= addresses hear of its start and its end, its webhook=
// (and Webhooks) of each state. Sending never holds the build up: Wait
// waits for what is under way, at the end.
type Local struct {
	Mailer   *Mailer // nil: email is not sent, and the log says so
	Hook     *Hook
	Webhooks []string
	Attempts int
	Logf     func(string, ...any)
	wg       sync.WaitGroup
	// refused are the webhooks the network guard refused, said once
	// rather than at each of the build's events.
	refused sync.Map
}

// LocalBuild is what a local build's messages tell.
type LocalBuild struct {
	ID                string
	Req               *spec.Request
	State             store.State
	Error             string
	Started, Finished time.Time
	Artifacts         []LocalArtifact
	Log, Tail         string
}

// LocalArtifact is a staged artifact: where it is, its size and sum.
type LocalArtifact struct {
	Where  string
	Size   int64
	SHA256 string
}

// Send sends the messages for event (Accepted, running or a final state)
// in the background.
func (l *Local) Send(ctx context.Context, lb LocalBuild, event string) {
	b := &store.Build{ID: lb.ID, Type: lb.Req.Type, Arch: lb.Req.Arch, Release: lb.Req.Release, State: lb.State, Error: lb.Error}
	if !lb.Started.IsZero() {
		b.Started = &lb.Started
	}
	if !lb.Finished.IsZero() {
		b.Finished = &lb.Finished
	}
	var arts []map[string]any
	for _, a := range lb.Artifacts {
		name := a.Where[strings.LastIndex(a.Where, "/")+1:]
		arts = append(arts, map[string]any{"name": name, "url": a.Where, "size": a.Size, "sha256": a.SHA256})
	}
	b.Artifacts, _ = json.Marshal(arts)
	b.Request, _ = json.Marshal(lb.Req)
	if event == Accepted || store.State(event).Done() {
		for _, to := range lb.Req.Email {
			if l.Mailer == nil {
				if event == Accepted {
					l.Logf("email to %s not sent: no SMTP server (--smtp-host)", to)
				}
				continue
			}
			msg := ComposeLocal(b, event, lb.Log, lb.Tail)
			l.retry(ctx, "email to "+to, func(ctx context.Context) error { return l.Mailer.Send(ctx, to, msg) })
		}
	}
	hooks := l.Webhooks
	if lb.Req.Webhook != "" {
		hooks = append(append([]string{}, hooks...), lb.Req.Webhook)
	}
	if event != Accepted {
		for _, url := range hooks {
			ev := Event{Event: event, Build: b}
			l.retry(ctx, "webhook "+url, func(ctx context.Context) error { return l.Hook.Send(ctx, url, ev) })
		}
	}
}

func (l *Local) retry(ctx context.Context, what string, send func(context.Context) error) {
	l.wg.Go(func() {
		wait := 2 * time.Second
		for attempt := 1; ; attempt++ {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			err := send(sctx)
			cancel()
			switch {
			case err == nil:
				l.Logf("%s: sent", what)
				return
			case errors.Is(err, egress.ErrRefused):
				if _, said := l.refused.LoadOrStore(what, true); !said {
					l.Logf("%s: refused by the network guard: the build's events are not sent to it: %v", what, err)
				}
				return
			case errors.Is(err, ErrPermanent) || attempt >= max(l.Attempts, 1):
				l.Logf("%s: not delivered (attempt %d): %v", what, attempt, err)
				return
			}
			time.Sleep(wait)
			wait *= 2
		}
	})
}

// Wait waits for the messages under way.
func (l *Local) Wait() { l.wg.Wait() }
