package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"fbs/internal/auth"
	"fbs/internal/fbstest"
	"fbs/internal/store"
)

// loginServer is a web server whose users log in at a real OpenID
// provider (mockoidc, in this process): authorization code with PKCE,
// token exchange, ID token signed and checked.
func loginServer(t *testing.T) (*Server, *httptest.Server, *mockoidc.MockOIDC) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	s, _ := server(t)
	s.API.UserAuth = true
	s.API.Admins = auth.Admins{Names: []string{"boss"}, Groups: []string{"releng"}}
	cfg := m.Config()
	s.OIDC = &auth.OIDC{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Claim: "preferred_username", Scopes: []string{"profile", "email", "groups"},
		Admins: s.API.Admins, Sessions: s.Sessions}
	s.API.Sessions, s.API.UI = s.Sessions, s.Handler()
	h := httptest.NewServer(s.API.Handler())
	t.Cleanup(h.Close)
	return s, h, m
}

// logIn follows the login as a browser does: our login page, the
// provider, back with the code.
func (b *browser) logIn(m *mockoidc.MockOIDC, user *mockoidc.MockUser, next string) {
	b.t.Helper()
	m.QueueUser(user)
	resp, err := b.Get(b.base + "/login/start?next=" + url.QueryEscape(next))
	for err == nil && resp.StatusCode == http.StatusFound || err == nil && resp.StatusCode == http.StatusSeeOther {
		loc, _ := resp.Location()
		if loc.Path == next {
			return
		}
		resp, err = b.Get(loc.String())
	}
	b.t.Fatalf("login as %s: %v %v", user.PreferredUsername, resp.Status, err)
}

func TestLogin(t *testing.T) {
	s, h, m := loginServer(t)
	ctx := context.Background()
	ids := map[string]string{}
	for _, who := range []string{"alice", "bob"} {
		b := &store.Build{Request: json.RawMessage(`{}`), Type: "live", Arch: "x86_64", Release: "41", Requester: who}
		s.Store.Create(ctx, b)
		ids[who] = b.ID
	}
	alice := newBrowser(t, h.URL)
	// Not logged in: every page sends to the login page, htmx refreshes
	// by HX-Redirect; the API wants a token.
	if code, _ := alice.page("/builds?state=queued"); code != http.StatusSeeOther {
		t.Errorf("/builds before login: %d", code)
	}
	req, _ := http.NewRequest("GET", h.URL+"/builds", nil)
	req.Header.Set("HX-Request", "true")
	if resp, _ := alice.Do(req); resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("HX-Redirect"), "/login?next=") {
		t.Errorf("an htmx refresh before login: %d %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
	if code, page := alice.page("/login?next=/builds"); code != 200 || !strings.Contains(page, "Log in with "+m.Config().Issuer) {
		t.Errorf("the login page: %d %s", code, page)
	}

	alice.logIn(m, &mockoidc.MockUser{Subject: "1", PreferredUsername: "alice", Email: "alice@example.org"}, "/builds")
	code, page := alice.page("/builds")
	if code != 200 || !strings.Contains(page, "Your builds") || !strings.Contains(page, ids["alice"]) || strings.Contains(page, ids["bob"]) || !strings.Contains(page, "Log out") {
		t.Errorf("alice's builds: %d %s", code, page)
	}
	if code, _ := alice.page("/builds/" + ids["bob"]); code != http.StatusForbidden {
		t.Errorf("bob's build to alice: %d", code)
	}
	if code, _ := alice.page("/api/v1/builds/" + ids["bob"]); code != http.StatusForbidden {
		t.Errorf("bob's build to alice's session over the API: %d", code)
	}
	if resp, _ := alice.post("/builds/"+ids["bob"]+"/cancel", map[string]string{"csrf": alice.csrf()}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("alice cancelling bob's build: %d", resp.StatusCode)
	}
	resp, _ := alice.post("/submit", map[string]string{"csrf": alice.csrf(), "type": "live", "arch": "x86_64", "release": "41"}, map[string]string{"live.kickstart_file": miniKS})
	b, err := s.Store.Get(ctx, strings.TrimPrefix(resp.Header.Get("Location"), "/builds/"))
	if err != nil || b.Requester != "alice" {
		t.Errorf("alice's submission: %v %v", b, err)
	}
	// The session lasts across a restart: the keys are in the data dir.
	again, err := auth.NewSessions(filepath.Join(s.Data, "session-keys"), s.Sessions.TTL, s.Store)
	if err != nil {
		t.Fatal(err)
	}
	*s.Sessions = *again
	if code, _ := alice.page("/builds/" + ids["alice"]); code != 200 {
		t.Errorf("alice's build after new sessions: %d", code)
	}
	// Out: the cookie is cleared, the pages ask for a login again.
	if resp, _ := alice.post("/logout", map[string]string{"csrf": alice.csrf()}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if code, _ := alice.page("/builds"); code != http.StatusSeeOther {
		t.Errorf("/builds after logout: %d", code)
	}

	// An admin by group sees everyone's builds.
	carol := newBrowser(t, h.URL)
	carol.logIn(m, &mockoidc.MockUser{Subject: "3", PreferredUsername: "carol", Groups: []string{"qa", "releng", "packager"}}, "/builds")
	if _, page := carol.page("/builds"); !strings.Contains(page, ids["bob"]) || !strings.Contains(page, "carol (admin)") {
		t.Errorf("an admin's builds: %s", page)
	}
	// Dropped from the admins' groups: no longer an admin, at once.
	s.API.Admins.Groups = nil
	if _, page := carol.page("/builds"); strings.Contains(page, ids["bob"]) || strings.Contains(page, "(admin)") {
		t.Errorf("a former admin's builds: %s", page)
	}

	// Logins that do not go through say why.
	for name, tc := range map[string]struct {
		query string
		want  string
	}{
		"refused":          {"?error=access_denied&error_description=no+consent", "refused the login: access_denied no consent"},
		"no login started": {"?code=x&state=y", "log in again"},
	} {
		code, page := newBrowser(t, h.URL).page("/login/callback" + tc.query)
		if code != http.StatusBadRequest || !strings.Contains(page, tc.want) {
			t.Errorf("%s: %d %s", name, code, page)
		}
	}
	mallory := newBrowser(t, h.URL)
	mallory.Get(h.URL + "/login/start")
	if code, page := mallory.page("/login/callback?code=stolen&state=forged"); code != http.StatusBadRequest || !strings.Contains(page, "state differs") {
		t.Errorf("a forged state: %d %s", code, page)
	}
}

// TestTokens: a logged-in user makes API tokens for the CLI (the secret
// shown once), which act as them, and revokes only their own.
func TestTokens(t *testing.T) {
	s, h, m := loginServer(t)
	ctx := context.Background()
	_, other, _ := s.Store.CreateToken(ctx, store.UserToken, "bob")
	alice := newBrowser(t, h.URL)
	alice.logIn(m, &mockoidc.MockUser{Subject: "1", PreferredUsername: "alice"}, "/tokens")
	if _, page := alice.page("/tokens"); !strings.Contains(page, "No tokens yet") || strings.Contains(page, other.ID) {
		t.Errorf("alice's tokens before: %s", page)
	}
	resp, page := alice.post("/tokens", map[string]string{"csrf": alice.csrf()}, nil)
	m1 := regexp.MustCompile(`<pre id="secret" tabindex="0">(fbsu_[A-Za-z0-9_-]+)</pre>`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || m1 == nil || !strings.Contains(page, "--server "+h.URL) {
		t.Fatalf("make a token: %d %s", resp.StatusCode, page)
	}
	code, out := fbstest.Request(t, "POST", h.URL+"/api/v1/builds", map[string]string{"Authorization": "Bearer " + m1[1], "Content-Type": "application/json"},
		`{"type":"live","arch":"x86_64","release":"41","live":{"kickstart":"repo --name=x --baseurl=http://x/\n"}}`)
	if code != 201 || !strings.Contains(out, `"requester":"alice"`) {
		t.Errorf("a build with alice's token: %d %s", code, out)
	}
	if _, page := alice.page("/tokens"); strings.Contains(page, m1[1]) || !strings.Contains(page, "active") {
		t.Errorf("the secret shown again, or the token not listed: %s", page)
	}
	if resp, _ := alice.post("/tokens/"+other.ID+"/revoke", map[string]string{"csrf": alice.csrf()}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("alice revoking bob's token: %d", resp.StatusCode)
	}
	all, _ := s.Store.Tokens(ctx)
	mine := ownTokens(all, "alice")
	if resp, _ := alice.post("/tokens/"+mine[0].ID+"/revoke", map[string]string{"csrf": alice.csrf()}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("revoke: %d", resp.StatusCode)
	}
	if code, _ := fbstest.Request(t, "GET", h.URL+"/api/v1/builds", map[string]string{"Authorization": "Bearer " + m1[1]}, ""); code != 401 {
		t.Errorf("a revoked token: %d", code)
	}
	if all, _ := s.Store.Tokens(ctx); all[0].Revoked != nil {
		t.Error("bob's token was revoked")
	}
}

// TestLoginProviderDown: a provider that does not answer is said on the
// login page, and asked again at the next login.
func TestLoginProviderDown(t *testing.T) {
	s, _ := server(t)
	s.API.UserAuth = true
	s.OIDC = &auth.OIDC{Issuer: "http://127.0.0.1:1/openidc", ClientID: "fbs", ClientSecret: "x", Sessions: s.Sessions}
	h := httptest.NewServer(s.Handler())
	defer h.Close()
	code, page := newBrowser(t, h.URL).page("/login/start?next=/builds")
	if code != http.StatusBadGateway || !strings.Contains(page, "The login provider cannot be reached now") || !strings.Contains(page, "127.0.0.1:1") {
		t.Errorf("%d %s", code, page)
	}
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	cfg := m.Config()
	s.OIDC.Issuer, s.OIDC.ClientID, s.OIDC.ClientSecret = cfg.Issuer, cfg.ClientID, cfg.ClientSecret
	newBrowser(t, h.URL).logIn(m, &mockoidc.MockUser{Subject: "1", PreferredUsername: "alice"}, "/builds")
}
