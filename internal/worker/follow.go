package worker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"time"

	"fbs/internal/farm"
)

// shipEvery is how often the log is sent on while a build runs.
const shipEvery = 500 * time.Millisecond

// maxShip bounds one log append.
const maxShip = 1 << 20

// follow sends the build's log at path to the server as it grows, placing
// it after the lines of earlier attempts, until the returned stop, which
// returns once all of it was sent (or could not be).
func (w *Worker) follow(ctx context.Context, job *farm.Job, path string, log *slog.Logger) (stop func()) {
	s := &shipper{q: w.Queue, lease: job.Lease, base: job.LogOffset, path: path}
	stopc, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(shipEvery)
		defer tick.Stop()
		for {
			select {
			case <-stopc:
				// What is left, trying for a while if the server is away.
				retry(ctx, log, "send the log", 30*time.Second, func() error { return s.ship(ctx) })
				return
			case <-tick.C:
				s.ship(ctx)
			}
		}
	}()
	return func() { close(stopc); <-done }
}

type shipper struct {
	q     Queue
	lease *farm.Lease
	base  int64 // where this attempt's lines begin in the server's log
	sent  int64 // how much of the local log the server has
	path  string
	gone  bool // the lease is lost: nothing more will be taken
}

// ship sends everything the local log has beyond what was sent.
func (s *shipper) ship(ctx context.Context) error {
	f, err := os.Open(s.path)
	if err != nil {
		return nil // the build has not begun its log
	}
	defer f.Close()
	buf := make([]byte, maxShip)
	for !s.gone {
		n, err := f.ReadAt(buf, s.sent)
		if n == 0 {
			if err == io.EOF {
				return nil
			}
			return err
		}
		_, err = s.q.AppendLog(ctx, s.lease, s.base+s.sent, buf[:n])
		var gap *farm.GapError
		switch {
		case errors.Is(err, farm.ErrLeaseLost):
			s.gone = true
		case errors.As(err, &gap):
			if gap.Size < s.base { // the server's log is shorter than it was
				s.base = gap.Size
			}
			s.sent = gap.Size - s.base
		case err != nil:
			return err
		default:
			s.sent += int64(n)
		}
	}
	return nil
}
