package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"fbs/internal/auth"
	"fbs/internal/store"
)

// tokens is a logged-in user's API tokens, for the CLI and REST: made
// here (the secret shown once), listed, revoked.
func (s *Server) tokens(w http.ResponseWriter, r *http.Request) {
	s.renderTokens(w, r, http.StatusOK, "")
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, code int, secret string) {
	u := auth.From(r.Context())
	var mine []*store.Token
	if u != nil {
		all, err := s.Store.Tokens(r.Context())
		if err != nil {
			s.fail(w, r, http.StatusInternalServerError, err)
			return
		}
		mine = ownTokens(all, u.Name)
	}
	s.render(w, r, code, "tokens", map[string]any{"Tokens": mine, "Secret": secret, "Server": s.baseURL(r)})
}

func ownTokens(all []*store.Token, user string) []*store.Token {
	var mine []*store.Token
	for _, t := range all {
		if t.Kind == store.UserToken && t.Name == user {
			mine = append(mine, t)
		}
	}
	slices.Reverse(mine) // newest first
	return mine
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	u := auth.From(r.Context())
	if u == nil {
		s.fail(w, r, http.StatusForbidden, errors.New("this server runs open: there is no login to make a token for (an operator makes tokens with fbs token create --user NAME)"))
		return
	}
	secret, t, err := s.Store.CreateToken(r.Context(), store.UserToken, u.Name)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.Log.Info("token created from the web", "user", u.Name, "token", t.ID)
	w.Header().Set("Cache-Control", "no-store") // the secret stays out of caches
	s.renderTokens(w, r, http.StatusOK, secret)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	u := auth.From(r.Context())
	id := r.PathValue("id")
	own := false
	if u != nil {
		var err error
		if own, err = s.Store.RevokeOwnToken(r.Context(), id, store.UserToken, u.Name); err != nil {
			s.fail(w, r, http.StatusInternalServerError, err)
			return
		}
	}
	if !own {
		s.fail(w, r, http.StatusForbidden, fmt.Errorf("token %s is not one of yours", id))
		return
	}
	s.Log.Info("token revoked from the web", "user", u.Name, "token", id)
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
}

func (s *Server) baseURL(r *http.Request) string {
	public := ""
	if s.OIDC != nil {
		public = s.OIDC.PublicURL
	}
	return auth.BaseURL(public, r)
}
