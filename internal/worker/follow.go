package worker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"fbs/internal/queue"
	"fbs/internal/store"
)

// shipEvery is how often the log is sent on while a build runs.
const shipEvery = 500 * time.Millisecond

// maxShip bounds one log append.
const maxShip = 1 << 20

// Follow sends the build's log to the server as it grows, placing it
// after the lines of earlier attempts; a part sent twice (a retry after a
// lost answer) is taken once.
func (r *Remote) Follow(ctx context.Context, job *queue.Job, path string) func() {
	s := &shipper{r: r, lease: job.Lease, base: job.LogOffset, path: path}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(shipEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				s.last(ctx)
				return
			case <-tick.C:
				s.ship(ctx)
			}
		}
	}()
	return func() { close(stop); <-done }
}

type shipper struct {
	r     *Remote
	lease *store.Lease
	base  int64 // where this attempt's lines begin in the server's log
	sent  int64 // how much of the local log the server has
	path  string
	gone  bool // the lease is lost: nothing more will be taken
}

// last sends what is left, trying for a while if the server is away.
func (s *shipper) last(ctx context.Context) {
	s.r.retry(ctx, "send the log", 30*time.Second, func() error { return s.ship(ctx) })
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
		chunk := buf[:n]
		_, err = s.r.call(ctx, "POST", buildPath(s.lease, "log?offset="+strconv.FormatInt(s.base+s.sent, 10)), leaseHeader(s.lease),
			func() (io.Reader, int64, error) { return bytes.NewReader(chunk), int64(len(chunk)), nil }, nil)
		var se *statusError
		switch {
		case errors.Is(err, store.ErrLeaseLost):
			s.gone = true
		case errors.As(err, &se) && se.Status == http.StatusRequestedRangeNotSatisfiable:
			if se.Size < s.base { // the server's log is shorter than it was
				s.base = se.Size
			}
			s.sent = se.Size - s.base
		case err != nil:
			return err
		default:
			s.sent += int64(n)
		}
	}
	return nil
}
