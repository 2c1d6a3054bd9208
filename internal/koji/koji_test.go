package koji

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fbs/internal/buildlog"
	"fbs/internal/demo"
	"fbs/internal/fbstest"
	"fbs/internal/kojitest"
	"fbs/internal/runner"
)

// server serves a build of three RPMs (one of them debuginfo), one that is
// still building, and one on another volume.
func server(t *testing.T) *kojitest.Server {
	t.Helper()
	_, err := exec.LookPath("rpmbuild")
	fbstest.Need(t, err == nil, "rpmbuild", "apt-get install rpm")
	var log bytes.Buffer
	out := t.TempDir()
	files, err := demo.BuildRPMs(context.Background(), runner.New(buildlog.New(&log)), t.TempDir(), out, []demo.RPM{
		{Name: "hello", Version: "2.0", Release: "1.fc40", Files: map[string]string{"/usr/share/hello/greeting": "hello\n"}},
		{Name: "hello-data", Version: "2.0", Release: "1.fc40", Arch: "noarch", Files: map[string]string{"/usr/share/hello/data": "data\n"}},
		{Name: "hello-debuginfo", Version: "2.0", Release: "1.fc40", Files: map[string]string{"/usr/lib/debug/hello": "x\n"}},
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	s := kojitest.New()
	t.Cleanup(s.Close)
	s.Add(kojitest.Build{ID: 42, Name: "hello", Version: "2.0", Release: "1.fc40", State: 1, RPMs: files})
	s.Add(kojitest.Build{ID: 43, Name: "hello", Version: "2.1", Release: "1.fc40", State: 0})
	s.Add(kojitest.Build{ID: 44, Name: "hello", Version: "1.0", Release: "1.fc40", State: 1, Volume: "archive", RPMs: files[:1]})
	return s
}

func TestGetBuild(t *testing.T) {
	s := server(t)
	c := &Client{Hub: s.Hub(), TopURL: s.TopURL()}
	ctx := context.Background()
	tests := map[string]struct {
		ref  any
		want string // error text, "" for success
		bad  bool
	}{
		"by NVR":       {ref: "hello-2.0-1.fc40"},
		"by id":        {ref: 42},
		"unknown NVR":  {ref: "nope-1-1", want: "koji build nope-1-1: Koji knows no such build", bad: true},
		"unknown id":   {ref: 99, want: "koji build 99: Koji knows no such build", bad: true},
		"not complete": {ref: 43, want: "koji build 43: hello-2.1-1.fc40 is BUILDING, not COMPLETE", bad: true},
		"fault":        {ref: "broken", want: "koji build broken: Koji says: invalid format: broken (fault 1000)", bad: true},
	}
	s.FaultOn = "broken"
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := c.GetBuild(ctx, tc.ref)
			if tc.want == "" {
				if err != nil || b.ID != 42 || b.NVR != "hello-2.0-1.fc40" {
					t.Errorf("build %+v, %v", b, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || err.Error() != tc.want || e.BadInput() != tc.bad {
				t.Errorf("error %v, want %s", err, tc.want)
			}
		})
	}
	c.Hub = "http://127.0.0.1:1/kojihub"
	_, err := c.GetBuild(ctx, 42)
	var e *Error
	if !errors.As(err, &e) || e.BadInput() || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("hub down: %v", err)
	}
}

func TestFetch(t *testing.T) {
	s := server(t)
	c := &Client{Hub: s.Hub(), TopURL: s.TopURL()}
	cache := t.TempDir()
	got, err := c.Fetch(context.Background(), []any{"hello-2.0-1.fc40", 44}, "x86_64", cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || strings.Join(got[0].Names(), " ") != "hello hello-data" || len(got[1].Files) != 1 {
		t.Fatalf("fetched %+v", got)
	}
	if want := filepath.Join(cache, "hello-2.0-1.fc40", "hello-data-2.0-1.fc40.noarch.rpm"); got[0].Files[1] != want {
		t.Errorf("file %s, want %s", got[0].Files[1], want)
	}
	if c.URL(got[1].Build, got[1].RPMs[0]) != s.URL+"/vol/archive/packages/hello/1.0/1.fc40/x86_64/hello-2.0-1.fc40.x86_64.rpm" {
		t.Errorf("volume URL %s", c.URL(got[1].Build, got[1].RPMs[0]))
	}
	downloads := s.Requests
	if _, err := c.Fetch(context.Background(), []any{42}, "x86_64", cache, nil); err != nil {
		t.Fatal(err)
	}
	if s.Requests != downloads {
		t.Errorf("a second fetch downloaded %d files again", s.Requests-downloads)
	}
	if _, err := c.Fetch(context.Background(), []any{42}, "aarch64", t.TempDir(), nil); err != nil {
		t.Errorf("noarch RPMs serve any arch: %v", err)
	}
}

func TestNoRPMForArch(t *testing.T) {
	s := server(t)
	c := &Client{Hub: s.Hub(), TopURL: s.TopURL()}
	_, err := c.Fetch(context.Background(), []any{44}, "aarch64", t.TempDir(), nil)
	if err == nil || err.Error() != "koji build hello-1.0-1.fc40: has no RPM for aarch64 or noarch" {
		t.Errorf("error %v", err)
	}
}

// BenchmarkFetch measures download throughput from a hub on 127.0.0.1:
// a 32 MiB build of incompressible data, fetched into a fresh cache each time.
func BenchmarkFetch(b *testing.B) {
	if _, err := exec.LookPath("rpmbuild"); err != nil {
		b.Skip("rpmbuild missing: apt-get install rpm")
	}
	random := make([]byte, 32<<20)
	rand.Read(random)
	var log bytes.Buffer
	files, err := demo.BuildRPMs(context.Background(), runner.New(buildlog.New(&log)), b.TempDir(), b.TempDir(), []demo.RPM{
		{Name: "big", Version: "1", Release: "1", Files: map[string]string{"/usr/share/big/a": string(random[:16<<20]), "/usr/share/big/b": string(random[16<<20:])}},
	})
	if err != nil {
		b.Fatalf("%v\n%s", err, log.String())
	}
	s := kojitest.New()
	defer s.Close()
	s.Add(kojitest.Build{ID: 7, Name: "big", Version: "1", Release: "1", State: 1, RPMs: files})
	st, _ := os.Stat(files[0])
	b.SetBytes(st.Size())
	c := &Client{Hub: s.Hub(), TopURL: s.TopURL()}
	for b.Loop() {
		if _, err := c.Fetch(context.Background(), []any{7}, "x86_64", b.TempDir(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
