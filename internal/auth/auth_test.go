package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fbs/internal/store"
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

// newStore is an empty store for the sessions, in SQLite.
func newStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "fbs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// logIn opens a session for user and gives its cookie.
func logIn(t *testing.T, s *Sessions, url, user string) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := s.Open(rec, httptest.NewRequest("GET", url, nil), user, nil); err != nil {
		t.Fatal(err)
	}
	return rec.Result().Cookies()[0]
}

// get reads the session of a request carrying cookie.
func get(s *Sessions, cookie *http.Cookie) (*Session, error) {
	req := httptest.NewRequest("GET", "http://127.0.0.1/", nil)
	req.AddCookie(cookie)
	return s.Get(req)
}

// TestSessionKeys: servers starting at once share one key file, so each
// reads the others' cookies; cookies are Secure beyond loopback; a bad
// key file is said.
func TestSessionKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "session-keys")
	st := newStore(t)
	var wg sync.WaitGroup
	all := make([]*Sessions, 8)
	for i := range all {
		wg.Go(func() {
			var err error
			if all[i], err = NewSessions(path, time.Hour, st); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	cookie := logIn(t, all[0], "http://127.0.0.1/", "qa")
	if cookie.Secure || !cookie.HttpOnly {
		t.Errorf("a loopback cookie: %+v", cookie)
	}
	for i, s := range all {
		if got, err := get(s, cookie); got == nil || got.User != "qa" || err != nil {
			t.Errorf("server %d reads %+v %v", i, got, err)
		}
	}
	if c := logIn(t, all[0], "http://fbs.example.org/", "qa"); !c.Secure || !c.HttpOnly || c.SameSite != 2 {
		t.Errorf("a public cookie: %+v", c)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode())
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := NewSessions(path, time.Hour, st); err == nil || !strings.Contains(err.Error(), "remove the file") {
		t.Errorf("a short key file: %v", err)
	}
}

// TestSessionExpires: a cookie older than the TTL is no session (the
// codec's signed timestamp says how old).
func TestSessionExpires(t *testing.T) {
	s, err := NewSessions(filepath.Join(t.TempDir(), "session-keys"), time.Second, newStore(t))
	if err != nil {
		t.Fatal(err)
	}
	cookie := logIn(t, s, "http://127.0.0.1/", "qa")
	if got, err := get(s, cookie); got == nil || err != nil {
		t.Fatalf("a fresh session is not read: %v", err)
	}
	time.Sleep(2100 * time.Millisecond)
	if got, err := get(s, cookie); got != nil || err != nil {
		t.Errorf("an expired session is read: %+v %v", got, err)
	}
}

// TestSessionKept: a user's session holds only while the store keeps it
// live, so a copied cookie stops working at logout or at the store's
// expiry, whatever the cookie says; a visitor's session needs no store.
func TestSessionKept(t *testing.T) {
	st := newStore(t)
	s, err := NewSessions(filepath.Join(t.TempDir(), "session-keys"), time.Hour, st)
	if err != nil {
		t.Fatal(err)
	}
	// cookie encodes sess as this server's codec does.
	cookie := func(sess *Session) *http.Cookie {
		value, err := s.codec.Encode(cookieName, sess)
		if err != nil {
			t.Fatal(err)
		}
		return &http.Cookie{Name: cookieName, Value: value}
	}
	loggedOut := logIn(t, s, "http://127.0.0.1/", "qa")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "http://127.0.0.1/logout", nil)
	req.AddCookie(loggedOut)
	if err := s.End(rec, req); err != nil {
		t.Fatal(err)
	}
	if c := rec.Result().Cookies()[0]; c.Name != cookieName || c.MaxAge >= 0 {
		t.Errorf("logout leaves the browser's cookie: %+v", c)
	}
	live := logIn(t, s, "http://127.0.0.1/", "qa")
	var liveSess Session
	s.codec.Decode(cookieName, live.Value, &liveSess)
	other := &Session{ID: liveSess.ID, User: "boss", CSRF: "t"}
	tests := map[string]struct {
		cookie *http.Cookie
		clock  time.Duration // how far the store's clock moved on
		user   string        // "": no session
	}{
		"live":                      {live, 0, "qa"},
		"live, near its end":        {live, 59 * time.Minute, "qa"},
		"a copy of one logged out":  {loggedOut, 0, ""},
		"expired in the store":      {live, time.Hour + time.Second, ""},
		"from before kept sessions": {cookie(&Session{User: "qa", CSRF: "t"}), 0, ""},
		"never opened":              {cookie(&Session{ID: "made-up", User: "qa", CSRF: "t"}), 0, ""},
		"another user's id":         {cookie(other), 0, ""},
		"forged":                    {&http.Cookie{Name: cookieName, Value: "forged"}, 0, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s.now = func() time.Time { return time.Now().Add(tc.clock) }
			got, err := get(s, tc.cookie)
			if err != nil || got == nil && tc.user != "" || got != nil && got.User != tc.user {
				t.Errorf("got %+v %v, want user %q", got, err, tc.user)
			}
		})
	}
	// A visitor (a CSRF token, nobody logged in) is the cookie alone.
	s.now = time.Now
	rec = httptest.NewRecorder()
	visitor, err := s.Ensure(rec, httptest.NewRequest("GET", "http://127.0.0.1/", nil))
	if err != nil || visitor.User != "" || visitor.ID != "" || visitor.CSRF == "" {
		t.Fatalf("a visitor's session: %+v %v", visitor, err)
	}
	if got, err := get(s, rec.Result().Cookies()[0]); err != nil || got == nil || got.CSRF != visitor.CSRF {
		t.Errorf("a visitor's cookie reads %+v %v", got, err)
	}
	// A store that cannot answer is said, not taken for a logout.
	st.Close()
	if got, err := get(s, live); got != nil || err == nil {
		t.Errorf("with the store closed: %+v %v", got, err)
	}
}
