package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fbs/internal/queue"
	"fbs/internal/store"
)

const liveJSON = `{"type":"live","arch":"x86_64","release":"40","live":{"kickstart":"repo --name=x --baseurl=http://x/\n"}}`

// newServer is a server on a fresh SQLite store.
func newServer(tb testing.TB) *Server {
	tb.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(tb.TempDir(), "fbs.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	data, log := tb.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil))
	return &Server{Store: st, Queue: &queue.Service{Store: st, Data: data, Lease: time.Minute, Log: log}, Data: data, Log: log}
}

func server(tb testing.TB) (*Server, *httptest.Server) {
	s := newServer(tb)
	h := httptest.NewServer(s.Handler())
	tb.Cleanup(h.Close)
	return s, h
}

func do(t *testing.T, method, url, ctype, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestSubmit(t *testing.T) {
	_, h := server(t)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("spec", "[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=mini.ks\n")
	mw.WriteField("kickstart", "repo --name=x --baseurl=http://x/\n")
	mw.Close()
	tests := map[string]struct {
		ctype, body string
		code        int
		want        string // in the error, or the type of the build
		field       string
	}{
		"json":          {"application/json", liveJSON, 201, "live", ""},
		"ini":           {"text/plain", "[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=https://example.org/mini.ks\n", 201, "live", ""},
		"multipart":     {mw.FormDataContentType(), form.String(), 201, "live", ""},
		"local ks":      {"text/plain", "[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=mini.ks\n", 400, "cannot name a local file", "config"},
		"file url":      {"application/json", `{"type":"live","arch":"x86_64","release":"40","live":{"config":"file:///etc/passwd"}}`, 400, "cannot name a local file", "config"},
		"unknown field": {"application/json", `{"type":"live","arch":"x86_64","release":"40","colour":1}`, 400, "unknown field", "colour"},
		"bad json":      {"application/json", "{", 400, "unexpected end", ""},
		"bad ini line":  {"text/plain", "[DEFAULT]\ntype=live\nnonsense\n", 400, "expected key=value", ""},
		"bad type":      {"image/png", "x", 400, "Content-Type", ""},
		"too big":       {"application/json", `{"type":"` + strings.Repeat("x", MaxBody) + `"}`, 413, "larger than", ""},

		// A scheme is case-insensitive (RFC 3986 3.1); FILE: reads a file as file: does.
		"FILE url":                   {"application/json", `{"type":"live","arch":"x86_64","release":"40","live":{"config":"FILE:///etc/passwd"}}`, 400, "cannot name a local file", "config"},
		"File url in the INI":        {"text/plain", "[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=File:///etc/passwd\n", 400, "cannot name a local file", "config"},
		"file: path beside the text": {"application/json", `{"type":"live","arch":"x86_64","release":"40","live":{"config":"file:/etc/passwd","kickstart":"repo --name=x --baseurl=http://x/\n"}}`, 400, "cannot name a local file", "config"},
		"FILE: path beside the text": {"application/json", `{"type":"live","arch":"x86_64","release":"40","live":{"config":"FILE:/etc/passwd","kickstart":"repo --name=x --baseurl=http://x/\n"}}`, 400, "cannot name a local file", "config"},
		"HTTPS url":                  {"text/plain", "[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=HTTPS://example.org/mini.ks\n", 201, "live", ""},
		"Webhook in capitals":        {"application/json", `{"type":"live","arch":"x86_64","release":"40","webhook":"HTTPS://example.org/hook","live":{"config":"https://example.org/mini.ks"}}`, 201, "live", ""},
		"webhook not http":           {"application/json", `{"type":"live","arch":"x86_64","release":"40","webhook":"FILE:///etc/passwd","live":{"config":"https://example.org/mini.ks"}}`, 400, "not an http or https URL", "webhook"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, out := do(t, "POST", h.URL+"/api/v1/builds", tc.ctype, tc.body)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %v", code, tc.code, out)
			}
			if code == 201 {
				if out["type"] != tc.want || out["state"] != "queued" || out["id"] == "" {
					t.Errorf("build %v", out)
				}
				return
			}
			if !strings.Contains(out["error"].(string), tc.want) || tc.field != "" && out["field"] != tc.field {
				t.Errorf("error %v, want %q (field %q)", out, tc.want, tc.field)
			}
		})
	}
	if code, out := do(t, "GET", h.URL+"/api/v1/builds?limit=2", "", ""); code != 200 || len(out["builds"].([]any)) != 2 {
		t.Errorf("list: %d %v", code, out)
	}
	if code, _ := do(t, "GET", h.URL+"/api/v1/builds?limit=lots", "", ""); code != 400 {
		t.Errorf("bad limit: %d", code)
	}
}

func TestBuildLifecycle(t *testing.T) {
	s, h := server(t)
	_, out := do(t, "POST", h.URL+"/api/v1/builds", "application/json", liveJSON)
	id := out["id"].(string)
	for _, bad := range []string{"nope", "..%2F..%2Fetc", "x%00y"} {
		if code, _ := do(t, "GET", h.URL+"/api/v1/builds/"+bad, "", ""); code != 404 {
			t.Errorf("GET build %q: %d", bad, code)
		}
	}
	ctx := context.Background()
	_, lease, err := s.Store.Claim(ctx, store.Claim{Worker: "w", For: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	dir := queue.Dir(s.Data, id)
	os.MkdirAll(filepath.Join(dir, "artifacts"), 0o755)
	os.WriteFile(filepath.Join(dir, "build.log"), []byte("line 1\nline 2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "artifacts", "x.iso"), []byte("0123456789"), 0o644)

	// Follow the log over SSE while the build runs and ends.
	events := make(chan []string, 1)
	go func() {
		req, _ := http.NewRequest("GET", h.URL+"/api/v1/builds/"+id+"/log", nil)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Last-Event-ID", "7") // after "line 1\n"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			events <- nil
			return
		}
		defer resp.Body.Close()
		var got []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				got = append(got, d)
			}
		}
		events <- got
	}()
	time.Sleep(2 * pollEvery)
	f, _ := os.OpenFile(filepath.Join(dir, "build.log"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("line 3\n")
	f.Close()
	time.Sleep(2 * pollEvery)
	if code, out := do(t, "POST", h.URL+"/api/v1/builds/"+id+"/cancel", "", ""); code != 200 || out["cancel_requested"] != true {
		t.Errorf("cancel running: %d %v", code, out)
	}
	s.Store.Finish(ctx, lease, store.Result{State: store.Cancelled, Error: "cancelled"})
	select {
	case got := <-events:
		if strings.Join(got, "|") != "line 2|line 3|cancelled" {
			t.Errorf("events %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the event stream did not end with the build")
	}
	if code, _ := do(t, "POST", h.URL+"/api/v1/builds/"+id+"/cancel", "", ""); code != 409 {
		t.Errorf("cancel of a finished build: %d", code)
	}

	req, _ := http.NewRequest("GET", h.URL+"/api/v1/builds/"+id+"/artifacts/x.iso", nil)
	req.Header.Set("Range", "bytes=4-")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || string(body) != "456789" {
		t.Errorf("range: %d %q", resp.StatusCode, body)
	}
	for _, bad := range []string{"..%2Fbuild.log", ".hidden", "nope.iso"} {
		if code, _ := do(t, "GET", h.URL+"/api/v1/builds/"+id+"/artifacts/"+bad, "", ""); code != 404 {
			t.Errorf("artifact %q: %d", bad, code)
		}
	}
}

// TestOpenAPIMatchesRoutes: every route the server has is in the document, and no other.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	s, h := server(t)
	routes := map[string]bool{}
	for r := range s.routes() {
		routes[r] = true
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			r := strings.ToUpper(method) + " " + path
			if !routes[r] {
				t.Errorf("the document has %s, which the server does not serve", r)
			}
			delete(routes, r)
		}
	}
	for r := range routes {
		t.Errorf("the server serves %s, which the document lacks", r)
	}
	if code, _ := do(t, "GET", h.URL+"/api/v1/openapi.json", "", ""); code != 200 {
		t.Errorf("openapi.json: %d", code)
	}
}

// seedBody makes the 2012 client's body: each value json.dumps'd, then the object.
func seedBody(config string, ksName, ks *string) string {
	enc := func(s *string) any {
		if s == nil {
			return nil
		}
		b, _ := json.Marshal(*s)
		return string(b)
	}
	body, _ := json.Marshal(map[string]any{"config": enc(&config), "ksfname": enc(ksName), "ks": enc(ks)})
	return string(body)
}

func TestSeedREST(t *testing.T) {
	s, h := server(t)
	name, ks := "mini.ks", "repo --name=x --baseurl=http://x/\n"
	live := "[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=mini.ks\n"
	code, out := do(t, "POST", h.URL+"/rest", "application/json", seedBody(live, &name, &ks))
	if code != 201 || out["type"] != "live" {
		t.Fatalf("live: %d %v", code, out)
	}
	b, _ := s.Store.Get(context.Background(), out["id"].(string))
	if !strings.Contains(string(b.Request), `"kickstart":"repo --name=x`) {
		t.Errorf("stored request %s", b.Request)
	}
	boot := "[DEFAULT]\ntype=boot\narch=x86_64\nrelease=40\n[boot]\n40_url=http://x/\n"
	if code, out := do(t, "POST", h.URL+"/rest", "application/json", seedBody(boot, nil, nil)); code != 201 || out["type"] != "boot" {
		t.Errorf("boot with null ksfname and ks: %d %v", code, out)
	}
	for name, body := range map[string]string{
		"not double-encoded": `{"config": "[DEFAULT]"}`,
		"unknown field":      `{"config": "\"x\"", "colour": 1}`,
		"no kickstart":       seedBody(live, nil, nil),
	} {
		if code, out := do(t, "POST", h.URL+"/rest", "application/json", body); code != 400 {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}
}

// FuzzSubmit: whatever the body, the API answers 201 or a 4xx with a JSON
// error; never a 500, never a panic.
func FuzzSubmit(f *testing.F) {
	f.Add("application/json", liveJSON)
	f.Add("text/plain", "[DEFAULT]\ntype=boot\narch=x86_64\nrelease=40\n[boot]\n40_url=http://x/\n")
	f.Add("application/json", `{"type":"dvd","arch":"x86_64","release":"40","dvd":{"kickstart":"%packages\n%end\n"}}`)
	f.Add("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n[DEFAULT]\r\n--x--\r\n")
	h := newServer(f).Handler()
	f.Fuzz(func(t *testing.T, ctype, body string) {
		for _, path := range []string{"/api/v1/builds", "/rest"} {
			req := httptest.NewRequest("POST", path, strings.NewReader(body))
			req.Header.Set("Content-Type", ctype)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 201 && (rec.Code < 400 || rec.Code >= 500) {
				t.Fatalf("%s answered %d: %s", path, rec.Code, rec.Body)
			}
			var e map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("%s answered no JSON: %q", path, rec.Body)
			}
		}
	})
}

// BenchmarkSubmit and BenchmarkGet measure the API on SQLite over loopback.
func BenchmarkSubmit(b *testing.B) {
	_, h := server(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := http.Post(h.URL+"/api/v1/builds", "application/json", strings.NewReader(liveJSON))
			if err != nil || resp.StatusCode != 201 {
				b.Fatal(err, resp)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

func BenchmarkGet(b *testing.B) {
	_, h := server(b)
	resp, _ := http.Post(h.URL+"/api/v1/builds", "application/json", strings.NewReader(liveJSON))
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	url := h.URL + "/api/v1/builds/" + out["id"].(string)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := http.Get(url)
			if err != nil || resp.StatusCode != 200 {
				b.Fatal(err, resp)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// TestBuildPaths: ids and artifact names in URLs reach no file outside
// the build's dir.
func TestBuildPaths(t *testing.T) {
	s, h := server(t)
	_, out := do(t, "POST", h.URL+"/api/v1/builds", "application/json", liveJSON)
	id := out["id"].(string)
	os.WriteFile(filepath.Join(s.Data, "secret"), []byte("s3cret"), 0o600)
	for _, path := range []string{
		"/api/v1/builds/..%2Fsecret",
		"/api/v1/builds/" + strings.Repeat("a", 65),
		"/api/v1/builds/ID%00",
		"/api/v1/builds/" + id + "/artifacts/..%2F..%2Fsecret",
		"/api/v1/builds/" + id + "/artifacts/.hidden",
		"/api/v1/builds/" + id + "/artifacts/%2Fetc%2Fpasswd",
		"/api/v1/builds/" + id + "/log/../../secret",
	} {
		code, body := call(t, "GET", h.URL+path, "", nil, "")
		if code < 400 || code >= 500 || strings.Contains(body, "s3cret") || strings.Contains(body, "root:") {
			t.Errorf("GET %s: %d %q", path, code, body)
		}
	}
}
