package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fbs/internal/api"
	"fbs/internal/auth"
	"fbs/internal/fbstest"
	"fbs/internal/queue"
	"fbs/internal/store"
)

func server(t *testing.T) (*Server, *httptest.Server) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "fbs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	data, log := t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil))
	q := &queue.Service{Store: st, Data: data, Lease: time.Minute, Log: log}
	sessions, err := auth.NewSessions(filepath.Join(data, "session-keys"), time.Hour, st)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Store: st, Queue: q, Data: data, Log: log, API: &api.Server{Store: st, Queue: q, Data: data, Log: log}, Sessions: sessions}
	h := httptest.NewServer(s.Handler())
	t.Cleanup(h.Close)
	return s, h
}

// browser keeps cookies as a browser does, and does not follow redirects.
type browser struct {
	*http.Client
	t    *testing.T
	base string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{&http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, t, base}
}

// page GETs path, answering its status and body.
func (b *browser) page(path string) (int, string) {
	b.t.Helper()
	resp, err := b.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf is the token the session's forms carry.
func (b *browser) csrf() string {
	b.t.Helper()
	_, page := b.page("/submit")
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatal("the submit page has no csrf field")
	}
	return m[1]
}

// post sends a multipart form: fields, and files by field name.
func (b *browser) post(path string, fields map[string]string, files map[string]string) (*http.Response, string) {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for k, v := range files {
		fw, _ := mw.CreateFormFile(k, k+".ks")
		fw.Write([]byte(v))
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp, string(page)
}

func get(t *testing.T, url string, header map[string]string) (int, string) {
	return fbstest.Request(t, "GET", url, header, "")
}

// TestPages: the builds, a build and the workers read without
// JavaScript, escape what builds carry, and refresh in parts for htmx.
func TestPages(t *testing.T) {
	s, h := server(t)
	ctx := context.Background()
	hostile := `{"type":"live","arch":"x86_64","release":"40","live":{"kickstart":"<script>alert(1)</script>"}}`
	b := &store.Build{Request: json.RawMessage(hostile), Type: "live", Arch: "x86_64", Release: "40", Requester: "qa"}
	s.Store.Create(ctx, b)
	queued := &store.Build{Request: json.RawMessage(`{}`), Type: "boot", Arch: "aarch64", Release: "41"}
	s.Store.Create(ctx, queued)
	_, l, _ := s.Store.Claim(ctx, store.Claim{Worker: "w1", Types: []string{"live"}, For: time.Minute})
	os.MkdirAll(filepath.Join(queue.Dir(s.Data, b.ID), "artifacts"), 0o755)
	os.WriteFile(queue.LogPath(s.Data, b.ID), []byte("=== stage packages\n<b>not markup</b>\n"), 0o644)
	s.Store.Finish(ctx, l, store.Result{State: store.Succeeded, Artifacts: json.RawMessage(`[{"name":"x.iso","size":3145728,"sha256":"abc","url":"/api/v1/builds/` + b.ID + `/artifacts/x.iso"},{"name":"x.manifest.json","size":10}]`),
		BootTests: json.RawMessage(`[{"firmware":"bios","accel":"tcg","line":"<i>Welcome</i>","seconds":12.5}]`)})
	s.Store.SeenWorker(ctx, &store.Worker{Name: "w1", Arches: []string{"x86_64"}, Slots: 2, Version: "v1"})

	tests := []struct {
		path   string
		header map[string]string
		want   []string
		not    []string
	}{
		{"/builds", nil, []string{"<html", b.ID, queued.ID, "succeeded", "no worker serves aarch64 boot builds for release 41", "runs open", `hx-trigger="every 5s"`}, nil},
		{"/builds?state=queued", nil, []string{queued.ID, `<option selected>queued</option>`}, []string{">" + b.ID + "<"}},
		{"/builds?requester=qa", nil, []string{b.ID, `name="requester" value="qa"`}, []string{">" + queued.ID + "<"}},
		{"/builds", map[string]string{"HX-Request": "true"}, []string{`id="builds"`, b.ID}, []string{"<html"}},
		{"/builds/" + b.ID, nil, []string{"succeeded", "x.iso", "3.0 MiB", "sha256 <code>abc</code>", "&lt;b&gt;not markup&lt;/b&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;", "worker w1"[7:],
			"Booted with bios firmware (tcg) in 12.5 s; the console said <code>&lt;i&gt;Welcome&lt;/i&gt;</code>"},
			[]string{"<script>alert(1)", "<b>not markup", "sse-connect", "Cancel this build"}},
		{"/builds/" + b.ID, map[string]string{"HX-Request": "true"}, []string{`id="status"`, "succeeded", "Booted with bios"}, []string{"<html", "not markup"}},
		{"/builds/" + queued.ID, nil, []string{"Cancel this build", "sse-connect=\"/api/v1/builds/" + queued.ID + "/log?html=1&amp;from=0\"", "no worker serves"}, nil},
		{"/workers", nil, []string{"w1", "x86_64", "idle", "v1"}, nil},
		{"/static/htmx-2.0.11.min.js", nil, []string{"htmx"}, nil},
	}
	for _, tc := range tests {
		code, body := get(t, h.URL+tc.path, tc.header)
		if code != 200 {
			t.Errorf("GET %s: %d", tc.path, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q", tc.path, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(body, n) {
				t.Errorf("GET %s has %q", tc.path, n)
			}
		}
	}
	if code, _ := get(t, h.URL+"/builds/nope", nil); code != 404 {
		t.Errorf("an unknown build: %d", code)
	}
}

// TestCancel: the cancel button works from the page's own origin, with
// its session's token, only.
func TestCancel(t *testing.T) {
	s, h := server(t)
	b := &store.Build{Request: json.RawMessage(`{}`), Type: "live", Arch: "x86_64", Release: "40"}
	s.Store.Create(context.Background(), b)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cross, _ := http.NewRequest("POST", h.URL+"/builds/"+b.ID+"/cancel", nil)
	cross.Header.Set("Origin", "https://evil.example.org")
	cross.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := client.Do(cross); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site cancel: %v %v", resp, err)
	}
	if got, _ := s.Store.Get(context.Background(), b.ID); got.State != store.Queued {
		t.Fatalf("cancelled from another site: %s", got.State)
	}
	if resp, err := client.PostForm(h.URL+"/builds/"+b.ID+"/cancel", url.Values{}); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cancel without the session's token: %v %v", resp, err)
	}
	br := newBrowser(t, h.URL)
	if resp, _ := br.post("/builds/"+b.ID+"/cancel", map[string]string{"csrf": "0123"}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cancel with a wrong token: %d", resp.StatusCode)
	}
	if got, _ := s.Store.Get(context.Background(), b.ID); got.State != store.Queued {
		t.Fatalf("cancelled without the token: %s", got.State)
	}
	resp, _ := br.post("/builds/"+b.ID+"/cancel", map[string]string{"csrf": br.csrf()}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/builds/"+b.ID {
		t.Fatalf("cancel: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got, _ := s.Store.Get(context.Background(), b.ID); got.State != store.Cancelled {
		t.Errorf("after cancel: %s", got.State)
	}
}

// TestSubmitINI: a pasted request (with a browser's CRLFs) and its
// uploaded kickstart become a build and lead to its page; a bad one comes
// back with the error by its field and the text kept.
func TestSubmitINI(t *testing.T) {
	s, h := server(t)
	br := newBrowser(t, h.URL)
	csrf := br.csrf()
	post := func(specText, ks string) (*http.Response, string) {
		// A browser sends the empty file input too.
		return br.post("/submit", map[string]string{"csrf": csrf, "form": "ini", "spec": specText}, map[string]string{"kickstart": ks, "specfile": ""})
	}
	good := strings.ReplaceAll("[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=mini.ks\n", "\n", "\r\n")
	resp, _ := post(good, "repo --name=x --baseurl=http://x/\n")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/builds/") {
		t.Fatalf("submit: %d %s", resp.StatusCode, loc)
	}
	b, err := s.Store.Get(context.Background(), strings.TrimPrefix(loc, "/builds/"))
	if err != nil || !strings.Contains(string(b.Request), "repo --name=x") {
		t.Errorf("the build: %+v %v", b, err)
	}
	for name, tc := range map[string]struct{ spec, ks, want string }{
		"bad key":               {"[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\ncolour=blue\n[live]\nconfig=mini.ks\n", "x", "<strong>colour</strong> (line 5)"},
		"local kickstart":       {"[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=mini.ks\n", "", "cannot name a local file"},
		"staging on the server": {"[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\nstaging=file:///etc\n[live]\nconfig=https://x/k.ks\n", "", "stages into no local dir"},
	} {
		resp, page := post(tc.spec, tc.ks)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, tc.want) || !strings.Contains(page, "release=40") {
			t.Errorf("%s: %d, page lacks %q or the text", name, resp.StatusCode, tc.want)
		}
	}
}
