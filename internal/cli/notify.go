package cli

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"fbs/internal/egress"
	"fbs/internal/notify"
	"fbs/internal/store"
)

// notifyFlags are the server's email and webhook settings.
type notifyFlags struct {
	smtpHost, smtpSecurity, smtpUser, smtpPasswordFile, smtpFrom string
	smtpPort                                                     int
	webhooks                                                     []string
	webhookSecretFile, publicURL                                 string
	attempts                                                     int
}

// register adds the flags of the server; registerSend those fbs build has too.
func (f *notifyFlags) register(cmd *cobra.Command) {
	f.registerSend(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.publicURL, "public-url", "", "the server's URL as users reach it, for links in email (default: the listen address)")
	fl.IntVar(&f.attempts, "notify-attempts", 8, "how often a message is tried before it is given up on (backing off from 5 s to an hour)")
}

func (f *notifyFlags) registerSend(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.smtpHost, "smtp-host", "", "SMTP server for email to requesters (none: email= addresses get nothing, and their status says so)")
	fl.IntVar(&f.smtpPort, "smtp-port", 587, "SMTP port")
	fl.StringVar(&f.smtpSecurity, "smtp-security", "starttls", "starttls, tls (implicit, port 465) or none")
	fl.StringVar(&f.smtpUser, "smtp-user", "", "SMTP login")
	fl.StringVar(&f.smtpPasswordFile, "smtp-password-file", "", "file holding the SMTP password")
	fl.StringVar(&f.smtpFrom, "smtp-from", "", "sender address (default fbs@<host name>)")
	fl.StringSliceVar(&f.webhooks, "webhook", nil, "URL that hears every change of every build's state (JSON; repeat for several)")
	fl.StringVar(&f.webhookSecretFile, "webhook-secret-file", "", "file holding the secret webhook bodies are signed with (HMAC-SHA256, header Fbs-Signature)")
}

// senders are the mailer (nil without --smtp-host) and the webhook
// caller, which calls a request's webhook where pol allows.
func (f *notifyFlags) senders(pol *egress.Policy) (*notify.Mailer, *notify.Hook, error) {
	if f.smtpSecurity != "starttls" && f.smtpSecurity != "tls" && f.smtpSecurity != "none" {
		return nil, nil, usageError{fmt.Errorf("--smtp-security %q: starttls, tls or none", f.smtpSecurity)}
	}
	hook := &notify.Hook{Client: &http.Client{Timeout: 30 * time.Second}, Trusted: f.webhooks, Egress: pol}
	if f.webhookSecretFile != "" {
		secret, err := readToken(f.webhookSecretFile)
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("--webhook-secret-file: %w", err)}
		}
		hook.Secret = []byte(secret)
	}
	if f.smtpHost == "" {
		return nil, hook, nil
	}
	m := &notify.Mailer{Host: f.smtpHost, Port: f.smtpPort, Security: f.smtpSecurity, User: f.smtpUser, From: f.smtpFrom}
	if m.From == "" {
		host, _ := os.Hostname()
		m.From = "fbs@" + host
	}
	if f.smtpPasswordFile != "" {
		pw, err := readToken(f.smtpPasswordFile)
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("--smtp-password-file: %w", err)}
		}
		m.Password = pw
	}
	return m, hook, nil
}

func (f *notifyFlags) build(st store.Store, data string, log *slog.Logger, pol *egress.Policy) (*notify.Notifier, *notify.Dispatcher, error) {
	m, hook, err := f.senders(pol)
	if err != nil {
		return nil, nil, err
	}
	d := &notify.Dispatcher{Store: st, Data: data, Log: log, PublicURL: f.publicURL, Attempts: f.attempts, First: 5 * time.Second, Mailer: m, Hook: hook}
	return &notify.Notifier{Store: st, Webhooks: f.webhooks, Log: log}, d, nil
}

// local is the sender fbs build uses; a request's webhook is held to the
// default egress policy.
func (f *notifyFlags) local(logf func(string, ...any)) (*notify.Local, error) {
	m, hook, err := f.senders(nil)
	if err != nil {
		return nil, err
	}
	return &notify.Local{Mailer: m, Hook: hook, Webhooks: f.webhooks, Attempts: 3, Logf: logf}, nil
}
