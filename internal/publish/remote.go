package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Remote is a server artifacts are published on (FTP, S3): an artifact goes up under a
// temporary name, is checked, and only then takes its own name, which it
// never takes from another file.
type Remote interface {
	// Exists reports whether name is taken.
	Exists(ctx context.Context, name string) (bool, error)
	// Put uploads the file at path as name (resuming an earlier partial
	// upload where the protocol allows); sent hears the bytes sent so far.
	// It returns where the artifact now is.
	Put(ctx context.Context, path, name string, sent func(int64)) (string, error)
	Remove(ctx context.Context, name string) error
}

// ErrExists is a published name that is taken already.
var ErrExists = errors.New("an artifact of that name is there already; nothing is overwritten")

// ErrPermanent marks an upload failure that retrying cannot mend (a refused
// login, a missing bucket, a name taken).
var ErrPermanent = errors.New("not retried")

// Retry is how often and how patiently an upload is tried.
type Retry struct {
	Attempts int
	First    time.Duration // the wait after the first failure; it doubles
}

// DefaultRetry rides out a server restart or a short network outage.
var DefaultRetry = Retry{Attempts: 5, First: 2 * time.Second}

// Upload puts path on r as name, retrying with backoff; progress goes to
// logf about every few seconds, with the rate.
func Upload(ctx context.Context, r Remote, retry Retry, path, name string, logf func(string, ...any)) (string, error) {
	f, size, err := openSized(path)
	if err != nil {
		return "", err
	}
	f.Close()
	wait := retry.First
	for attempt := 1; ; attempt++ {
		start, last := time.Now(), time.Now()
		where, err := r.Put(ctx, path, name, func(n int64) {
			if time.Since(last) >= 2*time.Second || n == size {
				last = time.Now()
				logf("upload %s: %.1f of %.1f MiB, %.1f MiB/s", name, float64(n)/(1<<20), float64(size)/(1<<20),
					float64(n)/(1<<20)/max(time.Since(start).Seconds(), 0.001))
			}
		})
		if err == nil {
			return where, nil
		}
		if errors.Is(err, ErrPermanent) || errors.Is(err, ErrExists) || ctx.Err() != nil || attempt >= retry.Attempts {
			return "", fmt.Errorf("upload %s (attempt %d of %d): %w", name, attempt, retry.Attempts, err)
		}
		logf("upload %s failed (attempt %d of %d): %v; again in %s", name, attempt, retry.Attempts, err, wait)
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// counter counts the bytes read through it.
type counter struct {
	r    io.Reader
	n    int64
	sent func(int64)
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.sent != nil && n > 0 {
		c.sent(c.n)
	}
	return n, err
}

// Staged reports whether the target (staging=) puts artifacts anywhere.
func (t Target) Staged() bool { return t.Dir != "" || t.Remote != nil }

func (t Target) String() string {
	if t.Remote != nil {
		return fmt.Sprint(t.Remote)
	}
	return "file://" + t.Dir
}

// openSized opens a file to upload (as one to publish is opened) and says
// how large it is.
func openSized(path string) (*os.File, int64, error) {
	f, err := open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}
