package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"fbs/internal/farm"
)

// Remote is the worker API of one or more fbs servers on one database:
// any of them will do, so one that cannot be reached is passed over for
// the next.
type Remote struct {
	Servers []string
	Token   string
	Client  *http.Client
	Log     *slog.Logger

	mu  sync.Mutex
	cur int
}

// statusError is a server's answer other than success.
type statusError struct {
	Status int
	Msg    string `json:"error"`
	Size   int64  `json:"size"` // a log append's: where to resend from
}

func (e *statusError) Error() string { return fmt.Sprintf("server: %s (%d)", e.Msg, e.Status) }

// transient errors are worth retrying: the server, or the way to it, failed.
func transient(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == http.StatusTooManyRequests
	}
	return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, farm.ErrLeaseLost)
}

// body makes a request body afresh for each try.
type body func() (io.Reader, int64, error)

func jsonBody(v any) body {
	data, err := json.Marshal(v)
	return func() (io.Reader, int64, error) { return bytes.NewReader(data), int64(len(data)), err }
}

// call makes one call; when a server cannot be reached, the next one is
// tried, each once. A 410 is farm.ErrLeaseLost.
func (r *Remote) call(ctx context.Context, method, path string, header http.Header, b body, out any) (int, error) {
	var err error
	for range r.Servers {
		r.mu.Lock()
		base := strings.TrimSuffix(r.Servers[r.cur], "/")
		r.mu.Unlock()
		var code int
		code, err = r.try(ctx, method, base+path, header, b, out)
		var se *statusError
		if err == nil || errors.As(err, &se) || ctx.Err() != nil {
			return code, err
		}
		r.mu.Lock()
		if strings.TrimSuffix(r.Servers[r.cur], "/") == base {
			r.cur = (r.cur + 1) % len(r.Servers)
		}
		r.mu.Unlock()
		if len(r.Servers) > 1 {
			r.Log.Warn("server unreachable; trying the next", "server", base, "err", err)
		}
	}
	return 0, err
}

func (r *Remote) try(ctx context.Context, method, url string, header http.Header, b body, out any) (int, error) {
	var rd io.Reader
	var n int64
	if b != nil {
		var err error
		if rd, n, err = b(); err != nil {
			return 0, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	req.ContentLength = n
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+r.Token)
	if c, ok := rd.(io.Closer); ok {
		defer c.Close()
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		e := &statusError{Status: resp.StatusCode}
		if json.NewDecoder(resp.Body).Decode(e) != nil || e.Msg == "" {
			e.Msg = resp.Status
		}
		if e.Status == http.StatusGone {
			return e.Status, fmt.Errorf("%s: %w", e.Msg, farm.ErrLeaseLost)
		}
		return e.Status, e
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, nil
}

// retry calls f until it succeeds, fails for good, or giveUp passes.
func retry(ctx context.Context, log *slog.Logger, what string, giveUp time.Duration, f func() error) error {
	wait, end := 500*time.Millisecond, time.Now().Add(giveUp)
	for {
		err := f()
		if !transient(err) || time.Now().Add(wait).After(end) {
			return err
		}
		log.Warn(what+": retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

func leaseHeader(l *farm.Lease) http.Header { return http.Header{farm.LeaseHeader: {l.Token}} }

func buildPath(l *farm.Lease, rest string) string {
	return "/api/worker/v1/builds/" + url.PathEscape(l.BuildID) + "/" + rest
}

func (r *Remote) Claim(ctx context.Context, w *farm.Worker, wait time.Duration) (*farm.Job, error) {
	var job farm.Job
	code, err := r.call(ctx, "POST", "/api/worker/v1/claim", nil, jsonBody(farm.ClaimRequest{Worker: *w, Wait: wait.Seconds()}), &job)
	switch {
	case err != nil:
		return nil, err
	case code == http.StatusNoContent:
		return nil, farm.ErrNoJob
	}
	job.Lease.Worker = w.Name
	return &job, nil
}

func (r *Remote) Heartbeat(ctx context.Context, l *farm.Lease, stage string) (bool, error) {
	var reply farm.HeartbeatReply
	_, err := r.call(ctx, "POST", buildPath(l, "heartbeat"), leaseHeader(l), jsonBody(farm.HeartbeatRequest{Stage: stage}), &reply)
	return reply.Cancel, err
}

// AppendLog makes one call; a 416 is the server's log size as a
// *farm.GapError.
func (r *Remote) AppendLog(ctx context.Context, l *farm.Lease, offset int64, data []byte) (int64, error) {
	var reply struct {
		Size int64 `json:"size"`
	}
	_, err := r.call(ctx, "POST", buildPath(l, "log?offset="+strconv.FormatInt(offset, 10)), leaseHeader(l),
		func() (io.Reader, int64, error) { return bytes.NewReader(data), int64(len(data)), nil }, &reply)
	var se *statusError
	if errors.As(err, &se) && se.Status == http.StatusRequestedRangeNotSatisfiable {
		return se.Size, &farm.GapError{Size: se.Size}
	}
	return reply.Size, err
}

// PutArtifact makes one upload (from the start again on the next server
// when rd can seek back).
func (r *Remote) PutArtifact(ctx context.Context, l *farm.Lease, name string, size int64, sum string, rd io.Reader) error {
	h := leaseHeader(l)
	h.Set(farm.SHA256Header, sum)
	h.Set("Content-Type", "application/octet-stream")
	_, err := r.call(ctx, "PUT", buildPath(l, "artifacts/"+url.PathEscape(name)), h, func() (io.Reader, int64, error) {
		if s, ok := rd.(io.Seeker); ok {
			if _, err := s.Seek(0, io.SeekStart); err != nil {
				return nil, 0, err
			}
		}
		return io.NopCloser(rd), size, nil
	}, nil)
	return err
}

// Finish reports the outcome; it keeps trying through server restarts for
// a while, not past a lost lease.
func (r *Remote) Finish(ctx context.Context, l *farm.Lease, o farm.Outcome) error {
	return retry(ctx, r.Log, "finish", 5*time.Minute, func() error {
		_, err := r.call(ctx, "POST", buildPath(l, "finish"), leaseHeader(l), jsonBody(o), nil)
		return err
	})
}

func (r *Remote) Release(ctx context.Context, l *farm.Lease) error {
	return retry(ctx, r.Log, "release", 10*time.Second, func() error {
		_, err := r.call(ctx, "POST", buildPath(l, "release"), leaseHeader(l), nil, nil)
		return err
	})
}

func (r *Remote) Drain(ctx context.Context, w *farm.Worker) error {
	return retry(ctx, r.Log, "drain", 10*time.Second, func() error {
		_, err := r.call(ctx, "POST", "/api/worker/v1/drain", nil, jsonBody(w), nil)
		return err
	})
}
