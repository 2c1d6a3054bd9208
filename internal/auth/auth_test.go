package auth

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLocalPath(t *testing.T) {
	for next, want := range map[string]string{"/builds/x?y=1": "/builds/x?y=1", "https://evil.example.org/": "/builds", "//evil.example.org": "/builds",
		"/\\evil.example.org": "/builds", "": "/builds", "builds": "/builds", "javascript:alert(1)": "/builds"} {
		if got := localPath(next); got != want {
			t.Errorf("%q: %q, want %q", next, got, want)
		}
	}
}

func TestMay(t *testing.T) {
	admins := Admins{Names: []string{"boss"}, Groups: []string{"releng"}}
	tests := []struct {
		name      string
		open      bool
		user      *User
		requester string
		want      bool
	}{
		{"open, nobody", true, nil, "qa", true},
		{"closed, nobody", false, nil, "", false},
		{"own", false, &User{Name: "qa"}, "qa", true},
		{"another's", false, &User{Name: "qa"}, "dev", false},
		{"nobody's", false, &User{Name: "qa"}, "", false},
		{"admin by name", false, &User{Name: "boss", Admin: admins.Is("boss", nil)}, "dev", true},
		{"admin by group", false, &User{Name: "x", Admin: admins.Is("x", []string{"qa", "releng"})}, "dev", true},
		{"not admin", false, &User{Name: "x", Admin: admins.Is("x", []string{"qa"})}, "dev", false},
	}
	for _, tc := range tests {
		if got := May(tc.open, tc.user, tc.requester); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}

func TestUserName(t *testing.T) {
	for _, tc := range []struct {
		claims map[string]any
		claim  string
		want   string
	}{
		{map[string]any{"preferred_username": "qa", "email": "qa@example.org", "sub": "1"}, "preferred_username", "qa"},
		{map[string]any{"preferred_username": "qa", "email": "qa@example.org"}, "email", "qa@example.org"},
		{map[string]any{"email": "qa@example.org", "sub": "1"}, "preferred_username", "qa@example.org"},
		{map[string]any{"sub": "1"}, "nickname", "1"},
		{map[string]any{"preferred_username": 7}, "preferred_username", ""},
	} {
		if got := userName(tc.claims, tc.claim); got != tc.want {
			t.Errorf("%v by %s: %q, want %q", tc.claims, tc.claim, got, tc.want)
		}
	}
}

// TestSessionKeys: servers starting at once share one key file, so each
// reads the others' cookies; cookies are Secure beyond loopback; a bad
// key file is said.
func TestSessionKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "session-keys")
	var wg sync.WaitGroup
	all := make([]*Sessions, 8)
	for i := range all {
		wg.Go(func() {
			var err error
			if all[i], err = NewSessions(path, time.Hour); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	rec := httptest.NewRecorder()
	all[0].Save(rec, httptest.NewRequest("GET", "http://127.0.0.1/", nil), &Session{User: "qa", CSRF: "t"})
	cookie := rec.Result().Cookies()[0]
	if cookie.Secure || !cookie.HttpOnly {
		t.Errorf("a loopback cookie: %+v", cookie)
	}
	for i, s := range all {
		req := httptest.NewRequest("GET", "http://127.0.0.1/", nil)
		req.AddCookie(cookie)
		if got := s.Get(req); got == nil || got.User != "qa" {
			t.Errorf("server %d reads %+v", i, got)
		}
	}
	rec = httptest.NewRecorder()
	all[0].Save(rec, httptest.NewRequest("GET", "http://fbs.example.org/", nil), &Session{User: "qa"})
	if c := rec.Result().Cookies()[0]; !c.Secure || !c.HttpOnly || c.SameSite != 2 {
		t.Errorf("a public cookie: %+v", c)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode())
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := NewSessions(path, time.Hour); err == nil || !strings.Contains(err.Error(), "remove the file") {
		t.Errorf("a short key file: %v", err)
	}
}

// TestSessionExpires: a cookie older than the TTL is no session (the
// codec's signed timestamp says how old).
func TestSessionExpires(t *testing.T) {
	s, err := NewSessions(filepath.Join(t.TempDir(), "session-keys"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.Save(rec, httptest.NewRequest("GET", "http://127.0.0.1/", nil), &Session{User: "qa"})
	req := httptest.NewRequest("GET", "http://127.0.0.1/", nil)
	req.AddCookie(rec.Result().Cookies()[0])
	if s.Get(req) == nil {
		t.Fatal("a fresh session is not read")
	}
	time.Sleep(2100 * time.Millisecond)
	if got := s.Get(req); got != nil {
		t.Errorf("an expired session is read: %+v", got)
	}
}
