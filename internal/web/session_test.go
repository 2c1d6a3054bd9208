package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"fbs/internal/api"
	"fbs/internal/auth"
)

// restarted is s started again: new sessions and handlers on the same
// store and data dir, as after a restart, or as a second server sharing
// them in the distributed mode.
func restarted(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	sessions, err := auth.NewSessions(filepath.Join(s.Data, "session-keys"), s.Sessions.TTL, s.Store)
	if err != nil {
		t.Fatal(err)
	}
	a := &api.Server{Store: s.Store, Queue: s.Queue, Data: s.Data, Log: s.Log, UserAuth: true, Admins: s.API.Admins, Sessions: sessions}
	o := s.OIDC
	a.UI = (&Server{Store: s.Store, Queue: s.Queue, Data: s.Data, Log: s.Log, API: a, Sessions: sessions,
		OIDC: &auth.OIDC{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, Claim: o.Claim, Scopes: o.Scopes, Admins: o.Admins, Sessions: sessions}}).Handler()
	h := httptest.NewServer(a.Handler())
	t.Cleanup(h.Close)
	return h
}

// TestSessionLogout: a session outlives a restart and is read by every
// server on its store; logout ends it there, so a copy of its cookie is
// refused at once, by the pages (sent to log in) and the API (401).
func TestSessionLogout(t *testing.T) {
	s, h, m := loginServer(t)
	alice := newBrowser(t, h.URL)
	alice.logIn(m, &mockoidc.MockUser{Subject: "1", PreferredUsername: "alice"}, "/builds")
	other := restarted(t, s)
	servers := map[string]string{"the login's server": h.URL, "restarted, or a second one": other.URL}
	// copies are browsers on each server with a copy of alice's cookie.
	copies := map[string]*browser{}
	for name, base := range servers {
		b := newBrowser(t, base)
		u, _ := url.Parse(base)
		b.Jar.SetCookies(u, alice.Jar.Cookies(u))
		copies[name] = b
	}
	check := func(when string, in bool) {
		t.Helper()
		for name, b := range copies {
			code, page := b.page("/builds")
			if in && (code != http.StatusOK || !strings.Contains(page, "alice")) || !in && code != http.StatusSeeOther {
				t.Errorf("%s, %s: the pages answer %d", when, name, code)
			}
			code, _ = b.page("/api/v1/builds")
			if in && code != http.StatusOK || !in && code != http.StatusUnauthorized {
				t.Errorf("%s, %s: the API answers %d", when, name, code)
			}
		}
	}
	check("logged in", true)
	if resp, _ := alice.post("/logout", map[string]string{"csrf": alice.csrf()}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	check("logged out", false)
	if code, _ := alice.page("/builds"); code != http.StatusSeeOther {
		t.Errorf("/builds after logout: %d", code)
	}
}
