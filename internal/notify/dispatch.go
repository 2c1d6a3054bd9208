package notify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"fbs/internal/egress"
	"fbs/internal/queue"
	"fbs/internal/store"
)

// Dispatcher sends the filed messages, each until it is delivered, is
// refused for good, or has had Attempts tries (backing off from First).
type Dispatcher struct {
	Store     store.Store
	Mailer    *Mailer // nil: email cannot be sent
	Hook      *Hook
	PublicURL string // where the server's API is reached, for links
	Data      string // the server's data dir, for log tails
	Log       *slog.Logger
	Attempts  int
	First     time.Duration
}

// Run sends what is due, every second, until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			d.Once(ctx)
		}
	}
}

// Once sends the messages due now.
func (d *Dispatcher) Once(ctx context.Context) {
	due, err := d.Store.DueNotifications(ctx, time.Now(), 5*time.Minute, 20)
	if err != nil {
		d.Log.Warn("notifications", "err", err)
		return
	}
	for _, n := range due {
		err := d.send(ctx, n)
		give := errors.Is(err, ErrPermanent) || n.Attempts+1 >= max(d.Attempts, 1)
		retryAt := time.Now().Add(min(d.First<<n.Attempts, time.Hour))
		switch {
		case errors.Is(err, egress.ErrRefused):
			// Its address is refused, as at each of the build's events: said once.
			if !d.refusedBefore(ctx, n) {
				d.Log.Warn("a request's webhook is refused by the network guard: its build's events are not sent to it (logged once)", "build", n.BuildID, "to", n.Target, "err", err)
			}
		case err != nil:
			d.Log.Warn("notification not delivered", "build", n.BuildID, "kind", n.Kind, "to", n.Target, "attempt", n.Attempts+1, "given up", give, "err", err)
		}
		if rerr := d.Store.NotificationResult(context.WithoutCancel(ctx), n.ID, err, retryAt, give); rerr != nil {
			d.Log.Error("notification result", "err", rerr)
		}
	}
}

// refusedBefore says whether the network guard refused another of n's
// build's messages to n's target, as the store's record of its error says;
// the store, not this server, remembers, so servers sharing it log it once.
func (d *Dispatcher) refusedBefore(ctx context.Context, n *store.Notification) bool {
	ns, err := d.Store.Notifications(ctx, n.BuildID)
	if err != nil {
		return false
	}
	for _, o := range ns {
		if o.ID != n.ID && o.Kind == n.Kind && o.Target == n.Target && strings.Contains(o.Error, egress.ErrRefused.Error()) {
			return true
		}
	}
	return false
}

func (d *Dispatcher) send(ctx context.Context, n *store.Notification) error {
	b, err := d.Store.Get(ctx, n.BuildID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	switch n.Kind {
	case "email":
		if d.Mailer == nil {
			return fmt.Errorf("this server has no SMTP server to send email through (--smtp-host): %w", ErrPermanent)
		}
		return d.Mailer.Send(ctx, n.Target, Compose(b, n.Event, d.PublicURL, Tail(queue.LogPath(d.Data, b.ID), 30)))
	case "webhook":
		return d.Hook.Send(ctx, n.Target, Event{Event: n.Event, Build: b, URL: strings.TrimSuffix(d.PublicURL, "/") + "/api/v1/builds/" + b.ID})
	}
	return errors.New("unknown notification kind " + n.Kind)
}

// Tail is the last n lines of a file (a failure's email shows them).
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
