package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"fbs/internal/auth"
	"fbs/internal/store"
)

type tokenKey struct{}

// tokenOf is the token the request came with, if any.
func tokenOf(r *http.Request) *store.Token {
	t, _ := r.Context().Value(tokenKey{}).(*store.Token)
	return t
}

// authed checks the request's bearer token: the worker API takes only
// worker tokens; the user API takes only user tokens, and needs one when
// UserAuth is set (when open, a token still names the requester). A web
// session's cookie stands for a user token in reading calls (the pages'
// log stream and downloads); a cookie never changes anything here, the
// pages' own forms do, with their CSRF token.
func (s *Server) authed(pattern string, h http.HandlerFunc) http.HandlerFunc {
	kind, need := store.UserToken, s.UserAuth
	if strings.Contains(pattern, " /api/worker/") {
		kind, need = store.WorkerToken, true
	}
	if strings.HasSuffix(pattern, "/openapi.json") {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" && kind == store.UserToken && s.Sessions != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			sess, err := s.Sessions.Get(r)
			if err != nil {
				fail(w, http.StatusInternalServerError, err)
				return
			}
			if u := sess.As(s.Admins); u != nil {
				h(w, r.WithContext(auth.With(r.Context(), u)))
				return
			}
		}
		if header == "" && !need {
			h(w, r)
			return
		}
		secret, ok := strings.CutPrefix(header, "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fbs"`)
			fail(w, http.StatusUnauthorized, fmt.Errorf("this API needs a %s token: send Authorization: Bearer <token> (fbs token create --%s NAME makes one)", kind, kind))
			return
		}
		t, err := s.Store.Authenticate(r.Context(), strings.TrimSpace(secret))
		switch {
		case errors.Is(err, store.ErrBadToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="fbs", error="invalid_token"`)
			fail(w, http.StatusUnauthorized, err)
			return
		case err != nil:
			fail(w, http.StatusInternalServerError, err)
			return
		case t.Kind != kind:
			fail(w, http.StatusForbidden, fmt.Errorf("a %s token cannot call the %s API", t.Kind, kind))
			return
		}
		ctx := context.WithValue(r.Context(), tokenKey{}, t)
		if t.Kind == store.UserToken {
			ctx = auth.With(ctx, &auth.User{Name: t.Name, Admin: s.Admins.Is(t.Name, nil)})
		}
		h(w, r.WithContext(ctx))
	}
}
