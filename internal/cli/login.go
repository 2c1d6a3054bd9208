package cli

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"fbs/internal/auth"
	"fbs/internal/store"
)

// loginFlags are the web login's settings: an OpenID Connect provider and
// who is an admin.
type loginFlags struct {
	issuer, clientID, secretFile, claim string
	scopes, admins, adminGroups         []string
	sessionTTL                          time.Duration
}

func (f *loginFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.issuer, "oidc-issuer", "", "OpenID Connect issuer URL that logs web users in (e.g. https://id.fedoraproject.org/openidc); turns user auth on")
	fl.StringVar(&f.clientID, "oidc-client-id", "", "this server's client id at the OpenID provider")
	fl.StringVar(&f.secretFile, "oidc-client-secret-file", "", "file holding the client secret (the provider's redirect URI for this server is PUBLIC-URL/login/callback)")
	fl.StringVar(&f.claim, "oidc-claim", "preferred_username", "ID token claim that names the user (as tokens name requesters)")
	fl.StringSliceVar(&f.scopes, "oidc-scope", []string{"profile", "email"}, "scopes asked for besides openid (add the one that brings the groups claim for --admin-group)")
	fl.StringSliceVar(&f.admins, "admin", nil, "users (login or token names) who see and cancel every build")
	fl.StringSliceVar(&f.adminGroups, "admin-group", nil, "OpenID groups (the groups claim) whose members are admins")
	fl.DurationVar(&f.sessionTTL, "session-ttl", 12*time.Hour, "how long a web login lasts")
}

// build makes the sessions (always: forms carry their CSRF token) and,
// with an issuer, the login. The session keys live in the data dir and
// the logged-in sessions in st, so servers sharing both share sessions.
func (f *loginFlags) build(data, publicURL string, st store.Store) (*auth.Sessions, *auth.OIDC, error) {
	sessions, err := auth.NewSessions(filepath.Join(data, "session-keys"), f.sessionTTL, st)
	if err != nil || f.issuer == "" {
		return sessions, nil, err
	}
	if f.clientID == "" || f.secretFile == "" {
		return nil, nil, usageError{fmt.Errorf("--oidc-issuer needs --oidc-client-id and --oidc-client-secret-file")}
	}
	secret, err := readToken(f.secretFile)
	if err != nil {
		return nil, nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
	}
	return sessions, &auth.OIDC{Issuer: f.issuer, ClientID: f.clientID, ClientSecret: secret, Claim: f.claim, Scopes: f.scopes,
		Admins: f.adminList(), PublicURL: publicURL, Sessions: sessions}, nil
}

func (f *loginFlags) adminList() auth.Admins {
	return auth.Admins{Names: f.admins, Groups: f.adminGroups}
}
