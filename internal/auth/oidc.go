package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDC logs users in with an OpenID Connect provider (Fedora's account
// system speaks it): the authorization code flow with PKCE, a nonce, and
// the ID token verified against the provider's keys.
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// Claim names the user: preferred_username by default (Fedora's
	// account name); email and sub when the provider gives no such claim.
	Claim string
	// Scopes asked for beyond openid: profile and email by default; one
	// that brings the groups claim when admins are named by group.
	Scopes []string
	Admins Admins
	// PublicURL is where browsers reach the server; the callback is under
	// it. Empty: the address the browser used.
	PublicURL string
	Sessions  *Sessions

	mu       sync.Mutex
	provider *oidc.Provider
}

// CallbackPath is where the provider sends the browser back.
const CallbackPath = "/login/callback"

const (
	loginCookie = "fbs_login"
	loginTTL    = 10 * time.Minute // from our login page to the provider's answer
)

// loginState is what the browser carries through the provider and back.
type loginState struct {
	State, Nonce, Verifier, Next string
	Expiry                       time.Time
}

// discover asks the issuer for its endpoints and keys once it answers; a
// provider that is down when the server starts is asked again at the
// next login.
func (o *OIDC) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, o.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OpenID provider %s: %w", o.Issuer, err)
	}
	o.provider = p
	return p, nil
}

// BaseURL is where browsers reach the server: public, or else the address
// the request came to.
func BaseURL(public string, r *http.Request) string {
	if public != "" {
		return strings.TrimSuffix(public, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (o *OIDC) config(r *http.Request, p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: BaseURL(o.PublicURL, r) + CallbackPath, Scopes: append([]string{oidc.ScopeOpenID}, o.Scopes...)}
}

// Start sends the browser to the provider; next is where it lands after.
func (o *OIDC) Start(w http.ResponseWriter, r *http.Request, next string) error {
	p, err := o.discover(r.Context())
	if err != nil {
		return err
	}
	st := loginState{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Next: localPath(next), Expiry: time.Now().Add(loginTTL)}
	value, err := o.Sessions.codec.Encode(loginCookie, st)
	if err != nil {
		return err
	}
	http.SetCookie(w, o.Sessions.cookie(r, loginCookie, value, int(loginTTL.Seconds())))
	url := o.config(r, p).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	http.Redirect(w, r, url, http.StatusFound)
	return nil
}

// LoginError is a login that did not go through, said so the user can act.
type LoginError struct{ Msg string }

func (e *LoginError) Error() string { return e.Msg }

// Finish takes the provider's answer: it checks the state, exchanges the
// code, verifies the ID token and its nonce, and opens the session. It
// gives where the browser goes next.
func (o *OIDC) Finish(w http.ResponseWriter, r *http.Request) (string, error) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return "", &LoginError{fmt.Sprintf("the OpenID provider refused the login: %s %s", e, q.Get("error_description"))}
	}
	var st loginState
	c, err := r.Cookie(loginCookie)
	if err != nil || o.Sessions.codec.Decode(loginCookie, c.Value, &st) != nil || time.Now().After(st.Expiry) {
		return "", &LoginError{"this login was started more than 10 minutes ago, or in another browser: log in again"}
	}
	http.SetCookie(w, o.Sessions.cookie(r, loginCookie, "", -1))
	if q.Get("state") != st.State {
		return "", &LoginError{"the provider's answer does not belong to this login (state differs): log in again"}
	}
	p, err := o.discover(r.Context())
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	tok, err := o.config(r, p).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return "", fmt.Errorf("exchanging the login code with %s: %w", o.Issuer, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return "", errors.New("the OpenID provider sent no ID token")
	}
	id, err := p.Verifier(&oidc.Config{ClientID: o.ClientID}).Verify(ctx, raw)
	if err != nil {
		return "", fmt.Errorf("the ID token: %w", err)
	}
	if id.Nonce != st.Nonce {
		return "", &LoginError{"the ID token is not this login's (nonce differs): log in again"}
	}
	var claims map[string]any
	if err := id.Claims(&claims); err != nil {
		return "", fmt.Errorf("the ID token's claims: %w", err)
	}
	name := userName(claims, o.Claim)
	if name == "" {
		return "", &LoginError{fmt.Sprintf("the OpenID provider named no user (no %q, email or sub claim)", o.Claim)}
	}
	var groups []string
	if l, ok := claims["groups"].([]any); ok {
		for _, g := range l {
			if s, ok := g.(string); ok {
				groups = append(groups, s)
			}
		}
	}
	var adminGroups []string
	for _, g := range groups {
		if o.Admins.Group(g) {
			adminGroups = append(adminGroups, g)
		}
	}
	if err := o.Sessions.Open(w, r, name, adminGroups); err != nil {
		return "", err
	}
	return st.Next, nil
}

func userName(claims map[string]any, claim string) string {
	for _, c := range []string{claim, "preferred_username", "email", "sub"} {
		if s, ok := claims[c].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// localPath keeps only a path on this server, so a login link cannot send
// the browser elsewhere afterwards.
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/builds"
	}
	return u.RequestURI()
}
