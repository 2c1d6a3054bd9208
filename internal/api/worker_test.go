package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fbs/internal/auth"
	"fbs/internal/farm"
	"fbs/internal/fbstest"
	"fbs/internal/metrics"
	"fbs/internal/publish"
	"fbs/internal/queue"
	"fbs/internal/store"
)

func call(t *testing.T, method, url, token string, header map[string]string, body string) (int, string) {
	t.Helper()
	h := map[string]string{}
	for k, v := range header {
		h[k] = v
	}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return fbstest.Request(t, method, url, h, body)
}

// TestAuth: each API takes only its own kind of token.
func TestAuth(t *testing.T) {
	s, h := server(t)
	ctx := context.Background()
	wtok, _, _ := s.Store.CreateToken(ctx, store.WorkerToken, "b1")
	utok, _, _ := s.Store.CreateToken(ctx, store.UserToken, "qa")
	revoked, _, _ := s.Store.CreateToken(ctx, store.UserToken, "gone")
	s.Store.RevokeToken(ctx, "gone")
	closed := newServer(t)
	closed.UserAuth = true
	ch := httptest.NewServer(closed.Handler())
	defer ch.Close()
	cutok, _, _ := closed.Store.CreateToken(ctx, store.UserToken, "qa")
	claim := `{"arches":["s390x"],"wait_seconds":0}` // nothing to build: 204
	tests := map[string]struct {
		method, url, token, body string
		code                     int
		want                     string
	}{
		"worker api, no token":        {"POST", h.URL + "/api/worker/v1/claim", "", claim, 401, "needs a worker token"},
		"worker api, user token":      {"POST", h.URL + "/api/worker/v1/claim", utok, claim, 403, "a user token cannot call the worker API"},
		"worker api, bad token":       {"POST", h.URL + "/api/worker/v1/claim", "fbsw_nope", claim, 401, "unknown or revoked"},
		"worker api, worker token":    {"POST", h.URL + "/api/worker/v1/claim", wtok, claim, 204, ""},
		"worker api, other name":      {"POST", h.URL + "/api/worker/v1/claim", wtok, `{"name":"b2"}`, 403, "worker b1's, not b2's"},
		"drain, worker token":         {"POST", h.URL + "/api/worker/v1/drain", wtok, `{"arches":["s390x"]}`, 204, ""},
		"drain, other name":           {"POST", h.URL + "/api/worker/v1/drain", wtok, `{"name":"b2"}`, 403, "worker b1's, not b2's"},
		"drain, user token":           {"POST", h.URL + "/api/worker/v1/drain", utok, `{}`, 403, "a user token cannot call the worker API"},
		"open user api, no token":     {"POST", h.URL + "/api/v1/builds", "", liveJSON, 201, `"state":"queued"`},
		"open user api, user token":   {"POST", h.URL + "/api/v1/builds", utok, liveJSON, 201, `"requester":"qa"`},
		"open user api, worker token": {"POST", h.URL + "/api/v1/builds", wtok, liveJSON, 403, "a worker token cannot call the user API"},
		"open user api, revoked":      {"GET", h.URL + "/api/v1/builds", revoked, "", 401, "unknown or revoked"},
		"closed user api, no token":   {"GET", ch.URL + "/api/v1/builds", "", "", 401, "needs a user token"},
		"closed user api, user token": {"GET", ch.URL + "/api/v1/builds", cutok, "", 200, `"builds"`},
		"closed openapi, no token":    {"GET", ch.URL + "/api/v1/openapi.json", "", "", 200, "openapi"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, out := call(t, tc.method, tc.url, tc.token, map[string]string{"Content-Type": "application/json"}, tc.body)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("%d %s, want %d with %q", code, out, tc.code, tc.want)
			}
			if tc.token == "" && tc.code == 201 && strings.Contains(out, `"requester"`) {
				t.Errorf("an anonymous build has a requester: %s", out)
			}
		})
	}
}

// TestWorkerUploads: log appends are taken once and in order, uploads are
// checked, and nothing is taken without the lease.
func TestWorkerUploads(t *testing.T) {
	s, h := server(t)
	ctx := context.Background()
	tok, job := claimed(t, s, h.URL)
	base := h.URL + "/api/worker/v1/builds/" + job.Build.ID
	lease := map[string]string{farm.LeaseHeader: job.Lease.Token}
	off := func(n int64) string { return fmt.Sprintf("?offset=%d", job.LogOffset+n) }
	data := "iso content"
	sum := sha256.Sum256([]byte(data))
	hexSum := hex.EncodeToString(sum[:])
	tests := []struct {
		name, method, path string
		header             map[string]string
		body               string
		code               int
		want               string
	}{
		{"append", "POST", "/log" + off(0), lease, "one\n", 200, ""},
		{"append again", "POST", "/log" + off(0), lease, "one\n", 200, ""},
		{"append overlapping", "POST", "/log" + off(2), lease, "e\ntwo\n", 200, ""},
		{"append past the end", "POST", "/log" + off(100), lease, "x\n", 416, `"size"`},
		{"append without lease", "POST", "/log" + off(8), nil, "x\n", 410, "no longer held"},
		{"append, no offset", "POST", "/log", lease, "x\n", 400, "offset"},
		{"upload", "PUT", "/artifacts/x.iso", map[string]string{farm.LeaseHeader: job.Lease.Token, farm.SHA256Header: hexSum}, data, 201, ""},
		{"upload again", "PUT", "/artifacts/x.iso", map[string]string{farm.LeaseHeader: job.Lease.Token, farm.SHA256Header: hexSum}, data, 201, ""},
		{"upload other content", "PUT", "/artifacts/x.iso", map[string]string{farm.LeaseHeader: job.Lease.Token, farm.SHA256Header: hexSum}, "other", 400, "does not match"},
		{"upload bad name", "PUT", "/artifacts/..x", map[string]string{farm.LeaseHeader: job.Lease.Token, farm.SHA256Header: hexSum}, data, 400, "plain file name"},
		{"finish, missing artifact", "POST", "/finish", lease, `{"state":"succeeded","artifacts":[{"name":"y.iso","size":3}]}`, 400, "not uploaded"},
		{"finish, not final", "POST", "/finish", lease, `{"state":"running"}`, 400, "not a final state"},
		{"heartbeat", "POST", "/heartbeat", lease, `{"stage":"squashfs"}`, 200, `"cancel":false`},
		{"finish", "POST", "/finish", lease, `{"state":"succeeded","artifacts":[{"name":"x.iso","size":11,"sha256":"` + hexSum + `"}]}`, 204, ""},
		{"heartbeat after finish", "POST", "/heartbeat", lease, `{}`, 410, "no longer held"},
	}
	for _, tc := range tests {
		code, out := call(t, tc.method, base+tc.path, tok, tc.header, tc.body)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, code, out, tc.code, tc.want)
		}
	}
	_, logText := call(t, "GET", h.URL+"/api/v1/builds/"+job.Build.ID+"/log", "", nil, "")
	if !strings.HasSuffix(logText, "took the build\none\ntwo\n") {
		t.Errorf("log %q", logText)
	}
	b, _ := s.Store.Get(ctx, job.Build.ID)
	if b.State != store.Succeeded || !strings.Contains(string(b.Artifacts), "/api/v1/builds/"+b.ID+"/artifacts/x.iso") {
		t.Errorf("build %+v", b)
	}
}

// TestMetrics: /metrics speaks Prometheus's format with the queue as the
// store has it.
func TestMetrics(t *testing.T) {
	s := newServer(t)
	s.Metrics = metrics.New(s.Store, time.Minute, s.Log)
	h := httptest.NewServer(s.Handler())
	defer h.Close()
	do(t, "POST", h.URL+"/api/v1/builds", "application/json", liveJSON)
	code, out := call(t, "GET", h.URL+"/metrics", "", nil, "")
	for _, want := range []string{`fbs_queue_depth{arch="x86_64",release="40",type="live"} 1`, `fbs_builds{state="queued"} 1`, `fbs_workers{state="lost"} 0`, "fbs_lease_expiries_total 0"} {
		if code != 200 || !strings.Contains(out, want) {
			t.Errorf("/metrics %d lacks %q", code, want)
		}
	}
}

// TestStagingAllowed: a request over the network stages to FTP and S3,
// and into a local dir only under the operator's roots.
func TestStagingAllowed(t *testing.T) {
	roots := []string{"/srv/staging", "/data/media/"}
	for staging, ok := range map[string]bool{
		"":                               true,
		"ftp://ftp.example.org/incoming": true,
		"ftp.example.org":                true,
		"s3://bucket/prefix":             true,
		"file:///srv/staging":            true,
		"file:///srv/staging/qa/40":      true,
		"file:///data/media/x":           true,
		"file:///srv/staging/../../etc":  false,
		"file:///srv/stagingx":           false,
		"file:///etc/cron.d":             false,
		"file:///":                       false,
		"gopher://x/y":                   false,
	} {
		if err := stagingAllowed(staging, roots, publish.S3Config{}); (err == nil) != ok {
			t.Errorf("stagingAllowed(%q) = %v, want ok=%v", staging, err, ok)
		}
	}
	if err := stagingAllowed("file:///srv/staging", nil, publish.S3Config{}); err == nil || !strings.Contains(err.Error(), "--staging-root") {
		t.Errorf("no roots: %v", err)
	}
}

// TestRetention: retention removes a finished build's artifacts and log
// from the store, keeps its record, and the API says so.
func TestRetention(t *testing.T) {
	s, h := server(t)
	ctx := context.Background()
	var ids []string
	for range 3 {
		_, out := do(t, "POST", h.URL+"/api/v1/builds", "application/json", liveJSON)
		id := out["id"].(string)
		_, l, err := s.Store.Claim(ctx, store.Claim{Worker: "w", For: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(queue.Dir(s.Data, id), "artifacts"), 0o755)
		os.WriteFile(filepath.Join(queue.Dir(s.Data, id), "artifacts", "x.iso"), []byte("iso"), 0o644)
		os.WriteFile(queue.LogPath(s.Data, id), []byte("log\n"), 0o644)
		s.Store.Finish(ctx, l, store.Result{State: store.Succeeded, Artifacts: json.RawMessage(`[{"name":"x.iso","size":3}]`)})
		ids = append(ids, id)
	}
	if err := s.Queue.Retain(ctx, 1, 0); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		code, body := call(t, "GET", h.URL+"/api/v1/builds/"+id+"/artifacts/x.iso", "", nil, "")
		_, statErr := os.Stat(queue.Dir(s.Data, id))
		if i < 2 && (code != 410 || !strings.Contains(body, "removed by retention") || statErr == nil) {
			t.Errorf("old build %d: %d %s (dir: %v)", i, code, body, statErr)
		}
		if i == 2 && (code != 200 || body != "iso") {
			t.Errorf("newest build: %d %s", code, body)
		}
		if _, out := do(t, "GET", h.URL+"/api/v1/builds/"+id, "", ""); out["state"] != "succeeded" {
			t.Errorf("record %d: %v", i, out)
		}
	}
	if code, _ := call(t, "GET", h.URL+"/api/v1/builds/"+ids[0]+"/log", "", nil, ""); code != 410 {
		t.Errorf("a purged log: %d", code)
	}
}

// TestLogForPages: the stream a web page follows starts after what the
// page shows and sends each line as escaped HTML.
func TestLogForPages(t *testing.T) {
	s, h := server(t)
	ctx := context.Background()
	_, out := do(t, "POST", h.URL+"/api/v1/builds", "application/json", liveJSON)
	id := out["id"].(string)
	_, l, _ := s.Store.Claim(ctx, store.Claim{Worker: "w", For: time.Minute})
	os.MkdirAll(queue.Dir(s.Data, id), 0o755)
	os.WriteFile(queue.LogPath(s.Data, id), []byte("shown\n<b>new</b>\n"), 0o644)
	s.Store.Finish(ctx, l, store.Result{State: store.Succeeded})
	code, body := call(t, "GET", h.URL+"/api/v1/builds/"+id+"/log?html=1&from=6", "", map[string]string{"Accept": "text/event-stream"}, "")
	if code != 200 || !strings.Contains(body, "data: <div>&lt;b&gt;new&lt;/b&gt;</div>") || strings.Contains(body, "shown") || !strings.Contains(body, "event: end") {
		t.Errorf("%d %q", code, body)
	}
}

// TestOwnership: with user auth each user sees and cancels only their own
// builds, an admin all; a web session's cookie reads but never changes.
func TestOwnership(t *testing.T) {
	s := newServer(t)
	s.UserAuth, s.Admins = true, auth.Admins{Names: []string{"boss"}}
	sessions, err := auth.NewSessions(filepath.Join(t.TempDir(), "session-keys"), time.Hour, s.Store)
	if err != nil {
		t.Fatal(err)
	}
	s.Sessions = sessions
	h := httptest.NewServer(s.Handler())
	defer h.Close()
	ctx := context.Background()
	tok := map[string]string{}
	for _, name := range []string{"qa", "dev", "boss"} {
		tok[name], _, _ = s.Store.CreateToken(ctx, store.UserToken, name)
	}
	id := map[string]string{}
	for _, name := range []string{"qa", "dev"} {
		code, out := call(t, "POST", h.URL+"/api/v1/builds", tok[name], map[string]string{"Content-Type": "application/json"}, liveJSON)
		var b store.Build
		json.Unmarshal([]byte(out), &b)
		if code != 201 || b.Requester != name {
			t.Fatalf("submit as %s: %d %s", name, code, out)
		}
		id[name] = b.ID
	}
	rec := httptest.NewRecorder()
	if err := sessions.Open(rec, httptest.NewRequest("GET", h.URL, nil), "qa", nil); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0].String()
	tests := []struct {
		name, method, path, token, cookie string
		code                              int
		want, notWant                     string
	}{
		{"own list", "GET", "/api/v1/builds", tok["qa"], "", 200, id["qa"], id["dev"]},
		{"another's list", "GET", "/api/v1/builds?requester=dev", tok["qa"], "", 403, "only admins", ""},
		{"another's build", "GET", "/api/v1/builds/" + id["dev"], tok["qa"], "", 403, "not yours (you are qa)", ""},
		{"another's log", "GET", "/api/v1/builds/" + id["dev"] + "/log", tok["qa"], "", 403, "not yours", ""},
		{"another's cancel", "POST", "/api/v1/builds/" + id["dev"] + "/cancel", tok["qa"], "", 403, "not yours", ""},
		{"own build", "GET", "/api/v1/builds/" + id["qa"], tok["qa"], "", 200, `"requester":"qa"`, ""},
		{"admin list", "GET", "/api/v1/builds", tok["boss"], "", 200, id["dev"], ""},
		{"admin cancel", "POST", "/api/v1/builds/" + id["dev"] + "/cancel", tok["boss"], "", 200, `"cancelled"`, ""},
		{"session list", "GET", "/api/v1/builds", "", cookie, 200, id["qa"], id["dev"]},
		{"session another's", "GET", "/api/v1/builds/" + id["dev"], "", cookie, 403, "not yours", ""},
		{"session cancel", "POST", "/api/v1/builds/" + id["qa"] + "/cancel", "", cookie, 401, "needs a user token", ""},
		{"forged cookie", "GET", "/api/v1/builds", "", "fbs_session=forged", 401, "needs a user token", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := map[string]string{}
			if tc.cookie != "" {
				header["Cookie"] = tc.cookie
			}
			code, out := call(t, tc.method, h.URL+tc.path, tc.token, header, "")
			if code != tc.code || !strings.Contains(out, tc.want) || tc.notWant != "" && strings.Contains(out, tc.notWant) {
				t.Errorf("%d %s, want %d with %q without %q", code, out, tc.code, tc.want, tc.notWant)
			}
		})
	}
}

// claimedJob is a claim's answer, as the tests read it.
type claimedJob struct {
	Build     store.Build
	Lease     store.Lease
	LogOffset int64 `json:"log_offset"`
}

// claimed submits a live build to the server at url and claims it as
// worker b1, whose token it returns with the job.
func claimed(t *testing.T, s *Server, url string) (string, claimedJob) {
	t.Helper()
	tok, _, _ := s.Store.CreateToken(context.Background(), store.WorkerToken, "b1")
	do(t, "POST", url+"/api/v1/builds", "application/json", liveJSON)
	code, out := call(t, "POST", url+"/api/worker/v1/claim", tok, nil, `{"wait_seconds":1}`)
	if code != 200 {
		t.Fatalf("claim %d %s", code, out)
	}
	var job claimedJob
	json.Unmarshal([]byte(out), &job)
	return tok, job
}
