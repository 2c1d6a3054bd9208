package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"fbs/internal/api"
	"fbs/internal/auth"
)

type sessionKey struct{}

func sessionOf(r *http.Request) *auth.Session {
	s, _ := r.Context().Value(sessionKey{}).(*auth.Session)
	return s
}

// guard gives every page request a session (for its forms' CSRF token),
// sends those not logged in to the login page when there is a login, and
// takes a form only with its session's token.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.Sessions.Ensure(w, r)
		if err != nil {
			s.Log.Error("session", "err", err)
			s.fail(w, r, http.StatusInternalServerError, err)
			return
		}
		if s.OIDC != nil && sess.User == "" {
			login := "/login?next=" + url.QueryEscape(r.URL.RequestURI())
			if r.Header.Get("HX-Request") == "true" {
				// A live part refreshing after the session ended: htmx
				// follows this header with a full page load.
				w.Header().Set("HX-Redirect", login)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, login, http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, api.MaxBody)
			if err := r.ParseMultipartForm(api.MaxBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
				s.fail(w, r, http.StatusBadRequest, errors.New("the form could not be read: "+err.Error()))
				return
			}
			if err := sess.CheckCSRF(r); err != nil {
				s.fail(w, r, http.StatusForbidden, err)
				return
			}
		}
		ctx := context.WithValue(auth.With(r.Context(), sess.As(s.API.Admins)), sessionKey{}, sess)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// open says that anyone who reaches the server may see, submit and cancel
// builds (local mode: no login): the API's rule, which the pages follow.
func (s *Server) open() bool { return !s.API.UserAuth }

// onlyOwn says whether the user's lists hold only their own builds.
func (s *Server) onlyOwn(r *http.Request) (string, bool) {
	u := auth.From(r.Context())
	if s.open() || u == nil || u.Admin {
		return "", false
	}
	return u.Name, true
}
