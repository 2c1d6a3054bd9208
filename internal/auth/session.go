package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gorilla/securecookie"

	"fbs/internal/store"
)

// Session is what the session cookie carries, signed and encrypted. A
// session that names a user has an ID the store keeps (by its hash) until
// logout or expiry; one that names nobody (a visitor's, for its CSRF
// token) is the cookie alone.
type Session struct {
	ID   string
	User string
	// Groups are the user's groups that made them an admin at login: the
	// provider's full list could outgrow a cookie. Whether they still do
	// is asked at each request, so an admin dropped from the
	// configuration loses the rights at once.
	Groups []string
	CSRF   string // the token every form of the session sends back
}

// User is who the session is logged in as (nil: nobody), an admin as
// admins now say.
func (sess *Session) As(admins Admins) *User {
	if sess == nil || sess.User == "" {
		return nil
	}
	return &User{Name: sess.User, Admin: admins.Is(sess.User, sess.Groups)}
}

// Sessions reads and writes session cookies with keys kept in a file, so
// that a restarted server, and every server sharing the data dir, reads
// the cookies the others wrote; the logged-in sessions themselves are in
// the store, which servers sharing a database share.
type Sessions struct {
	codec *securecookie.SecureCookie
	store store.Store
	TTL   time.Duration
	now   func() time.Time // the store's clock: a test moves it on
}

const (
	cookieName = "fbs_session"
	keyLen     = 64 + 32 // HMAC-SHA256 key, AES-256 key
)

// NewSessions uses the keys in keyFile, making them when it does not
// exist, and keeps logged-in sessions in st.
func NewSessions(keyFile string, ttl time.Duration, st store.Store) (*Sessions, error) {
	key, err := loadKey(keyFile)
	if err != nil {
		return nil, fmt.Errorf("session keys %s: %w", keyFile, err)
	}
	codec := securecookie.New(key[:64], key[64:])
	codec.MaxAge(int(ttl.Seconds()))
	return &Sessions{codec: codec, store: st, TTL: ttl, now: time.Now}, nil
}

func loadKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, keyLen)
		rand.Read(key)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		// A temporary file of its own (CreateTemp: 0600), complete before
		// it is linked; link, not rename: of two starting at once, the
		// second takes the first one's keys.
		f, err := os.CreateTemp(filepath.Dir(path), ".session-keys-*")
		if err != nil {
			return nil, err
		}
		_, err = f.Write(key)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Link(f.Name(), path)
		}
		os.Remove(f.Name())
		if errors.Is(err, os.ErrExist) {
			return loadKey(path)
		}
		return key, err
	}
	if err == nil && len(key) != keyLen {
		err = fmt.Errorf("%d bytes, not %d: remove the file and fbs makes new keys (everyone logs in again)", len(key), keyLen)
	}
	return key, err
}

// decode is the session the request's cookie carries, or nil without a
// cookie this server signed within the TTL (the codec's own timestamp).
func (s *Sessions) decode(r *http.Request) *Session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	var sess Session
	if s.codec.Decode(cookieName, c.Value, &sess) != nil {
		return nil
	}
	return &sess
}

// Get is the request's session, or nil without a valid one. A user's
// session holds only while the store keeps it, so a copy of a cookie
// that logged out is refused; a cookie from before sessions were kept
// (no ID) is not logged in. The error is the store's: it failed to say.
func (s *Sessions) Get(r *http.Request) (*Session, error) {
	sess := s.decode(r)
	if sess == nil || sess.User == "" {
		return sess, nil
	}
	if sess.ID == "" {
		return nil, nil
	}
	kept, err := s.store.Session(r.Context(), sess.ID, s.now())
	if errors.Is(err, store.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s's session: %w", sess.User, err)
	}
	// The store says whose session it is: a cookie naming someone else
	// was not made here.
	if kept.User != sess.User {
		return nil, nil
	}
	return sess, nil
}

// Ensure is the request's session, or a new one that names nobody yet
// (for its CSRF token) set on the response.
func (s *Sessions) Ensure(w http.ResponseWriter, r *http.Request) (*Session, error) {
	sess, err := s.Get(r)
	if sess != nil || err != nil {
		return sess, err
	}
	sess = &Session{CSRF: random()}
	s.save(w, r, sess)
	return sess, nil
}

// Open logs user in: a new session (a new ID and CSRF token, whatever the
// visitor's were) filed in the store until the TTL ends, and its cookie.
// Expired sessions are swept here: each login adds one, so the store
// keeps no more than one TTL's logins.
func (s *Sessions) Open(w http.ResponseWriter, r *http.Request, user string, groups []string) error {
	now := s.now()
	if _, err := s.store.SweepSessions(r.Context(), now); err != nil {
		return fmt.Errorf("opening %s's session: %w", user, err)
	}
	sess := &Session{ID: random(), User: user, Groups: groups, CSRF: random()}
	if err := s.store.CreateSession(r.Context(), sess.ID, user, now.Add(s.TTL)); err != nil {
		return fmt.Errorf("opening %s's session: %w", user, err)
	}
	s.save(w, r, sess)
	return nil
}

// save sets the session's cookie: HTTP-only, SameSite=Lax (the provider's
// redirect back is a top-level navigation), and Secure unless the server
// is reached over plain HTTP on loopback (local mode).
func (s *Sessions) save(w http.ResponseWriter, r *http.Request, sess *Session) {
	value, err := s.codec.Encode(cookieName, sess)
	if err != nil {
		panic(err) // a Session always encodes
	}
	http.SetCookie(w, s.cookie(r, cookieName, value, int(s.TTL.Seconds())))
}

// End logs out: the browser's cookie is cleared, and the store forgets
// the session, so every copy of the cookie stops working at once, on
// every server sharing the store.
func (s *Sessions) End(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, s.cookie(r, cookieName, "", -1))
	if sess := s.decode(r); sess != nil && sess.ID != "" {
		if err := s.store.EndSession(r.Context(), sess.ID); err != nil {
			return fmt.Errorf("logging %s out: %w", sess.User, err)
		}
	}
	return nil
}

func (s *Sessions) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)}
}

func secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	ip := net.ParseIP(host)
	return host != "localhost" && (ip == nil || !ip.IsLoopback())
}

// ErrCSRF is a form sent without its session's token: from another site,
// or from a page older than the session.
var ErrCSRF = errors.New("this form's session token does not match (the page is older than your session, or the form came from another site): reload the page and send it again")

// CheckCSRF compares the form's csrf field with the session's token; the
// form must be parsed.
func (sess *Session) CheckCSRF(r *http.Request) error {
	got := r.PostFormValue("csrf")
	if sess == nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		return ErrCSRF
	}
	return nil
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
