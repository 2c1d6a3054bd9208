package web

import (
	"errors"
	"net/http"

	"fbs/internal/auth"
)

// loginPage says who logs users in, and why a login failed.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if s.OIDC == nil {
		http.Redirect(w, r, "/builds", http.StatusSeeOther)
		return
	}
	next := r.URL.Query().Get("next")
	s.render(w, r, code, "login", map[string]any{"Issuer": s.OIDC.Issuer, "Next": next, "Error": msg, "Out": r.URL.Query().Has("out")})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	s.loginPage(w, r, http.StatusOK, "")
}

func (s *Server) loginStart(w http.ResponseWriter, r *http.Request) {
	if s.OIDC == nil {
		http.Redirect(w, r, "/builds", http.StatusSeeOther)
		return
	}
	if err := s.OIDC.Start(w, r, r.URL.Query().Get("next")); err != nil {
		s.Log.Error("login", "err", err)
		s.loginPage(w, r, http.StatusBadGateway, "The login provider cannot be reached now: "+err.Error())
	}
}

func (s *Server) loginCallback(w http.ResponseWriter, r *http.Request) {
	if s.OIDC == nil {
		http.Redirect(w, r, "/builds", http.StatusSeeOther)
		return
	}
	next, err := s.OIDC.Finish(w, r)
	var le *auth.LoginError
	switch {
	case errors.As(err, &le):
		s.Log.Info("login refused", "err", err)
		s.loginPage(w, r, http.StatusBadRequest, le.Msg)
	case err != nil:
		s.Log.Error("login", "err", err)
		s.loginPage(w, r, http.StatusBadGateway, "The login did not go through: "+err.Error())
	default:
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

// logout ends the session in the store, so a copy of its cookie stops
// working too (a form, so with its CSRF token: another site cannot log a
// user out).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.Sessions.End(w, r); err != nil {
		s.Log.Error("logout", "err", err)
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	http.Redirect(w, r, "/login?out=1", http.StatusSeeOther)
}
