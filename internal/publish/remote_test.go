package publish

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"fbs/internal/fbstest"
)

func quiet(string, ...any) {}

var fast = Retry{Attempts: 3, First: 100 * time.Millisecond}

// s3Server is an S3-compatible store in the test process (gofakes3) with
// a bucket "media", and the settings that reach it.
func s3Server(t *testing.T) S3Config {
	backend := s3mem.New()
	if err := backend.CreateBucket("media"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(ts.Close)
	return S3Config{Endpoint: ts.URL, AccessKey: "fbs", SecretKey: "secret", Region: "us-east-1"}
}

func artifact(t *testing.T, size int) string {
	path := filepath.Join(t.TempDir(), "x.iso")
	if err := os.WriteFile(path, []byte(strings.Repeat("fbs", size/3+1)[:size]), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRemotes: each remote kind takes an upload under its name, leaves no
// temporary file, refuses a taken name, and reports where it put it.
func TestRemotes(t *testing.T) {
	ftp := fbstest.StartFTP(t)
	s3 := s3Server(t)
	for name, staging := range map[string]string{"ftp": ftp.URL("incoming/fbs"), "s3": "s3://media/fedora/40"} {
		t.Run(name, func(t *testing.T) {
			target, err := Parse(staging, s3)
			if err != nil {
				t.Fatal(err)
			}
			r := target.Remote
			ctx := context.Background()
			src := artifact(t, 3<<20)
			var last int64
			where, err := r.Put(ctx, src, "Live-20261127-010203.iso", func(n int64) { last = n })
			if err != nil {
				t.Fatal(err)
			}
			if last != 3<<20 || !strings.HasSuffix(where, "/Live-20261127-010203.iso") {
				t.Errorf("put at %s, progress %d", where, last)
			}
			if ok, err := r.Exists(ctx, "Live-20261127-010203.iso"); !ok || err != nil {
				t.Errorf("exists: %v %v", ok, err)
			}
			if ok, _ := r.Exists(ctx, ".Live-20261127-010203.iso.part"); ok {
				t.Error("the temporary name is left")
			}
			if _, err := Upload(ctx, r, fast, src, "Live-20261127-010203.iso", quiet); !errors.Is(err, ErrExists) {
				t.Errorf("a second upload of the name: %v", err)
			}
			if err := r.Remove(ctx, "Live-20261127-010203.iso"); err != nil {
				t.Error(err)
			}
		})
	}
	data, err := os.ReadFile(filepath.Join(ftp.Dir, "incoming", "fbs", "Live-20261127-010203.iso"))
	if err == nil || len(data) > 0 {
		t.Errorf("removed file still there: %d bytes %v", len(data), err)
	}
}

// TestFTPResume: an upload broken off is resumed from where it stopped.
func TestFTPResume(t *testing.T) {
	ftp := fbstest.StartFTP(t)
	src := artifact(t, 1<<20)
	data, _ := os.ReadFile(src)
	// What an attempt that broke off left: the first 300 KiB under the temporary name.
	os.WriteFile(filepath.Join(ftp.Dir, ".x.iso.part"), data[:300<<10], 0o644)
	target, _ := Parse(ftp.URL(""), S3Config{})
	var first int64 = -1
	if _, err := target.Remote.Put(context.Background(), src, "x.iso", func(n int64) {
		if first < 0 {
			first = n
		}
	}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(ftp.Dir, "x.iso"))
	if string(got) != string(data) || first <= 300<<10 {
		t.Errorf("resumed upload: %d bytes (want %d), first progress at %d", len(got), len(data), first)
	}
}

// TestFTPDown: a server that is down is retried with backoff, then the
// upload fails naming the server; one that comes back in time is used.
func TestFTPDown(t *testing.T) {
	ftp := fbstest.StartFTP(t)
	target, _ := Parse(ftp.URL("x"), S3Config{})
	src := artifact(t, 1<<20)
	ftp.Stop()
	start := time.Now()
	_, err := Upload(context.Background(), target.Remote, fast, src, "a.iso", quiet)
	if err == nil || !strings.Contains(err.Error(), "attempt 3 of 3") || !strings.Contains(err.Error(), ftp.Addr) {
		t.Errorf("error %v", err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("gave up after %s: no backoff", took)
	}
	go func() { time.Sleep(150 * time.Millisecond); ftp.Start(t) }()
	if _, err := Upload(context.Background(), target.Remote, Retry{Attempts: 5, First: 200 * time.Millisecond}, src, "b.iso", quiet); err != nil {
		t.Errorf("after the server came back: %v", err)
	}
}

// TestS3Refused: a bucket that does not exist is a permanent failure.
func TestS3Refused(t *testing.T) {
	target, _ := Parse("s3://nope/x", s3Server(t))
	_, err := Upload(context.Background(), target.Remote, fast, artifact(t, 10), "a.iso", quiet)
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "attempt 1 of 3") {
		t.Errorf("error %v", err)
	}
}

// TestFTPDownMidUpload: the server dies in the middle of an upload; the
// upload fails, and once the server is back the next attempt resumes where
// the first stopped, and the file is whole.
func TestFTPDownMidUpload(t *testing.T) {
	ftp := fbstest.StartFTP(t)
	target, _ := Parse(ftp.URL(""), S3Config{})
	src := artifact(t, 64<<20)
	killed := false
	_, err := target.Remote.Put(context.Background(), src, "big.iso", func(n int64) {
		if n > 16<<20 && !killed {
			killed = true
			ftp.Stop()
		}
	})
	if err == nil {
		t.Fatal("the upload went through a dead server")
	}
	ftp.Start(t)
	resumed := int64(-1)
	if _, err := target.Remote.Put(context.Background(), src, "big.iso", func(n int64) {
		if resumed < 0 {
			resumed = n
		}
	}); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(src)
	got, _ := os.ReadFile(filepath.Join(ftp.Dir, "big.iso"))
	if string(got) != string(want) || resumed < 1<<20 { // the first attempt got well past 1 MiB
		t.Errorf("%d bytes on the server (want %d); the second attempt began at %d", len(got), len(want), resumed)
	}
}
