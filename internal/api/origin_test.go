package api

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"fbs/internal/metrics"
	"fbs/internal/store"
)

// TestBrowserGuard: in local mode other sites' pages can neither post
// builds nor cancel them (Sec-Fetch-Site, Origin), a name that is not the
// server's (DNS rebinding) gets no answer at all, and clients that are not
// browsers (the CLI, the 2012 client's /rest) pass.
func TestBrowserGuard(t *testing.T) {
	s := newServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.Hosts, err = DefaultHosts(ln.Addr(), ""); err != nil {
		t.Fatal(err)
	}
	h := &httptest.Server{Listener: ln, Config: &http.Server{Handler: s.Handler()}}
	h.Start()
	defer h.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	build := &store.Build{Request: []byte(liveJSON), Type: "live", Arch: "x86_64", Release: "40"}
	if err := s.Store.Create(context.Background(), build); err != nil {
		t.Fatal(err)
	}
	seed := seedBody("[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=https://example.org/x.ks\n", nil, nil)
	ini := "[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=https://example.org/x.ks\n"
	tests := map[string]struct {
		method, path, host, body string
		header                   map[string]string
		code                     int
	}{
		"post from another site":      {"POST", "/api/v1/builds", "", ini, map[string]string{"Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"}, 403},
		"post from another origin":    {"POST", "/api/v1/builds", "", ini, map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example"}, 403},
		"cancel from another site":    {"POST", "/api/v1/builds/" + build.ID + "/cancel", "", "", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		"post from the server's page": {"POST", "/api/v1/builds", "", ini, map[string]string{"Content-Type": "text/plain", "Sec-Fetch-Site": "same-origin"}, 201},
		"post from the CLI":           {"POST", "/api/v1/builds", "", ini, map[string]string{"Content-Type": "text/plain"}, 201},
		"the 2012 client":             {"POST", "/rest", "", seed, nil, 201},
		"a rebound name":              {"GET", "/api/v1/builds/" + build.ID + "/log", "evil.example:" + port, "", nil, 421},
		"a rebound name, no port":     {"GET", "/api/v1/builds", "evil.example", "", nil, 421},
		"another port":                {"GET", "/api/v1/builds", "127.0.0.1:1", "", nil, 421},
		"localhost":                   {"GET", "/api/v1/builds", "localhost:" + port, "", nil, 200},
		"::1":                         {"GET", "/api/v1/builds", "[::1]:" + port, "", nil, 200},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, h.URL+tc.path, strings.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Errorf("%d, want %d", resp.StatusCode, tc.code)
			}
		})
	}
}

func TestHostAllowed(t *testing.T) {
	allowed := []string{"localhost:8080", "[::1]:8080", "fbs.example.org", "10.0.0.5:8080"}
	tests := map[string]struct {
		host string
		tls  bool
		ok   bool
	}{
		"loopback name":               {"localhost:8080", false, true},
		"loopback name, another port": {"localhost:9090", false, false},
		"upper case, trailing dot":    {"LOCALHOST.:8080", false, true},
		"ipv6":                        {"[::1]:8080", false, true},
		"public name, any port":       {"fbs.example.org", true, true},
		"public name with a port":     {"fbs.example.org:8443", false, true},
		"worker by address":           {"10.0.0.5:8080", false, true},
		"address, default port":       {"10.0.0.5", false, false},
		"other name":                  {"evil.example:8080", false, false},
		"suffix of a name":            {"example.org", false, false},
		"empty":                       {"", false, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := hostAllowed(allowed, tc.host, tc.tls); got != tc.ok {
				t.Errorf("hostAllowed(%q) = %v", tc.host, got)
			}
		})
	}
	if !hostAllowed([]string{"*"}, "anything:1", false) {
		t.Error(`"*" refused a host`)
	}
}

func TestDefaultHosts(t *testing.T) {
	tests := map[string]struct {
		addr      *net.TCPAddr
		publicURL string
		want      []string
	}{
		"local":         {&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "", []string{"localhost:8080", "127.0.0.1:8080", "[::1]:8080"}},
		"explicit":      {&net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 80}, "https://fbs.example.org/", []string{"fbs.example.org", "10.0.0.5:80"}},
		"every address": {&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "", []string{"127.0.0.1:8080"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := DefaultHosts(tc.addr, tc.publicURL)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("%v lacks %s", got, w)
				}
			}
		})
	}
}

// TestMetricsNeedAToken: with user tokens required, /metrics is too.
func TestMetricsNeedAToken(t *testing.T) {
	s := newServer(t)
	s.UserAuth = true
	s.Metrics = metrics.New(s.Store, time.Minute, s.Log)
	h := httptest.NewServer(s.Handler())
	defer h.Close()
	ctx := context.Background()
	utok, _, _ := s.Store.CreateToken(ctx, store.UserToken, "prometheus")
	wtok, _, _ := s.Store.CreateToken(ctx, store.WorkerToken, "b1")
	for token, want := range map[string]int{"": 401, utok: 200, wtok: 403} {
		if code, _ := call(t, "GET", h.URL+"/metrics", token, nil, ""); code != want {
			t.Errorf("token %q: %d, want %d", token, code, want)
		}
	}
}
