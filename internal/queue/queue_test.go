package queue_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"fbs/internal/farm"
	"fbs/internal/queue"
	"fbs/internal/store"
	"fbs/internal/worker/queuetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func open(t *testing.T) *queue.Service {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "fbs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &queue.Service{Store: st, Data: t.TempDir(), Lease: time.Minute, Log: quiet}
}

// TestService: fbs serve's own slots call the queue directly.
func TestService(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queuetest.Farm {
		q := open(t)
		return queuetest.Farm{Queue: q, Server: q, Worker: farm.Worker{Name: "b1", Arches: []string{"x86_64"}, Slots: 1}}
	})
}

// heard records what the notifier is told.
type heard []string

func (h *heard) Changed(_ context.Context, b *store.Build, event string) {
	*h = append(*h, b.ID+" "+event)
}

// TestExpireNotifies: a build whose lease lapses is requeued, failed or,
// when a cancel was asked, cancelled; each change reaches the notifier.
func TestExpireNotifies(t *testing.T) {
	tests := map[string]struct {
		attempts int  // claims before the lease lapses
		cancel   bool // a cancel asked meanwhile
		want     store.State
	}{
		"requeued":  {1, false, store.Queued},
		"failed":    {2, false, store.Failed},
		"cancelled": {1, true, store.Cancelled},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			q := open(t)
			var h heard
			q.Notifier = &h
			b := &store.Build{Request: []byte(`{}`), Type: "live", Arch: "x86_64", Release: "40"}
			q.Store.Create(ctx, b)
			for i := range tc.attempts {
				if _, err := q.Claim(ctx, &farm.Worker{Name: "w"}, 0); err != nil {
					t.Fatal(err)
				}
				if i < tc.attempts-1 {
					q.Expire(ctx, time.Now().Add(2*q.Lease), 2)
				}
			}
			if tc.cancel {
				q.Store.Cancel(ctx, b.ID)
			}
			h = nil
			if err := q.Expire(ctx, time.Now().Add(2*q.Lease), 2); err != nil {
				t.Fatal(err)
			}
			if got, _ := q.Store.Get(ctx, b.ID); got.State != tc.want {
				t.Errorf("state %s, want %s", got.State, tc.want)
			}
			if len(h) != 1 || h[0] != b.ID+" "+string(tc.want) {
				t.Errorf("notifier heard %q, want %s %s", h, b.ID, tc.want)
			}
		})
	}
}
