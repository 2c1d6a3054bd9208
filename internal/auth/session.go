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
)

// Session is what the session cookie carries, signed and encrypted.
type Session struct {
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
// the cookies the others wrote.
type Sessions struct {
	codec *securecookie.SecureCookie
	TTL   time.Duration
}

const (
	cookieName = "fbs_session"
	keyLen     = 64 + 32 // HMAC-SHA256 key, AES-256 key
)

// NewSessions uses the keys in keyFile, making them when it does not exist.
func NewSessions(keyFile string, ttl time.Duration) (*Sessions, error) {
	key, err := loadKey(keyFile)
	if err != nil {
		return nil, fmt.Errorf("session keys %s: %w", keyFile, err)
	}
	codec := securecookie.New(key[:64], key[64:])
	codec.MaxAge(int(ttl.Seconds()))
	return &Sessions{codec: codec, TTL: ttl}, nil
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

// Get is the request's session, or nil without a valid one.
func (s *Sessions) Get(r *http.Request) *Session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	var sess Session
	// The codec refuses a cookie older than the TTL: its own signed timestamp.
	if s.codec.Decode(cookieName, c.Value, &sess) != nil {
		return nil
	}
	return &sess
}

// Ensure is the request's session, or a new one that names nobody yet
// (for its CSRF token) set on the response.
func (s *Sessions) Ensure(w http.ResponseWriter, r *http.Request) *Session {
	if sess := s.Get(r); sess != nil {
		return sess
	}
	sess := &Session{CSRF: random()}
	s.Save(w, r, sess)
	return sess
}

// Save sets the session's cookie: HTTP-only, SameSite=Lax (the provider's
// redirect back is a top-level navigation), and Secure unless the server
// is reached over plain HTTP on loopback (local mode).
func (s *Sessions) Save(w http.ResponseWriter, r *http.Request, sess *Session) {
	value, err := s.codec.Encode(cookieName, sess)
	if err != nil {
		panic(err) // a Session always encodes
	}
	http.SetCookie(w, s.cookie(r, cookieName, value, int(s.TTL.Seconds())))
}

// Clear ends the session.
func (s *Sessions) Clear(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.cookie(r, cookieName, "", -1))
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
