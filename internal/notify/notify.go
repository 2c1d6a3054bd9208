// Package notify tells people and systems about builds: email to the
// addresses a request names (when it is accepted, and when it ends) and
// webhooks (each change of state, signed). Messages are filed in the
// store and sent by a Dispatcher, with retries, never in a build's way.
package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"fbs/internal/spec"
	"fbs/internal/store"
)

// Events: a build's states, and "accepted" for the email on submission.
const Accepted = "accepted"

// Notifier files the messages a change of a build's state calls for.
type Notifier struct {
	Store store.Store
	// Webhooks are called on every change of every build.
	Webhooks []string
	Log      *slog.Logger
}

// Changed files the messages for build b's new state (or Accepted).
func (n *Notifier) Changed(ctx context.Context, b *store.Build, event string) {
	if n == nil {
		return
	}
	var req spec.Request
	json.Unmarshal(b.Request, &req)
	var ns []*store.Notification
	if event == Accepted || store.State(event).Done() {
		for _, to := range req.Email {
			ns = append(ns, &store.Notification{BuildID: b.ID, Kind: "email", Target: strings.TrimSpace(to), Event: event})
		}
	}
	hooks := n.Webhooks
	if req.Webhook != "" {
		hooks = append(append([]string{}, hooks...), req.Webhook)
	}
	if event != Accepted {
		for _, url := range hooks {
			ns = append(ns, &store.Notification{BuildID: b.ID, Kind: "webhook", Target: url, Event: event})
		}
	}
	if len(ns) == 0 {
		return
	}
	if err := n.Store.AddNotifications(ctx, ns); err != nil {
		n.Log.Error("file notifications", "build", b.ID, "event", event, "err", err)
	}
}
