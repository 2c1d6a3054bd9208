package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"

	"fbs/internal/egress"
	"fbs/internal/store"
)

// Mailer sends email through an SMTP server.
type Mailer struct {
	Host     string
	Port     int
	Security string // starttls (the default), tls, or none
	User     string
	Password string
	From     string
}

// ErrPermanent is a message the server refused for good (5xx).
var ErrPermanent = errors.New("refused for good")

// Send sends one message to to.
func (m *Mailer) Send(ctx context.Context, to string, msg Message) error {
	e := mail.NewMsg()
	if err := e.From(m.From); err != nil {
		return fmt.Errorf("from %q: %w: %w", m.From, err, ErrPermanent)
	}
	if err := e.To(to); err != nil {
		return fmt.Errorf("to %q: %w: %w", to, err, ErrPermanent)
	}
	e.Subject(msg.Subject)
	e.SetMessageID()
	e.SetDate()
	e.SetGenHeader("X-Fbs-Build", msg.BuildID)
	e.SetBodyString(mail.TypeTextPlain, msg.Text)
	e.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	opts := []mail.Option{mail.WithPort(m.Port), mail.WithTimeout(30 * time.Second)}
	host, _, _ := strings.Cut(m.Host, ":")
	switch m.Security {
	case "tls":
		opts = append(opts, mail.WithSSL(), mail.WithTLSConfig(&tls.Config{ServerName: host}))
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithTLSConfig(&tls.Config{ServerName: host}))
	}
	if m.User != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(m.User), mail.WithPassword(m.Password))
	}
	c, err := mail.NewClient(host, opts...)
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, e); err != nil {
		var se *mail.SendError
		if errors.As(err, &se) && !se.IsTemp() {
			return fmt.Errorf("%w: %w", err, ErrPermanent)
		}
		return err
	}
	return nil
}

// Hook calls webhooks: a JSON event, signed with HMAC-SHA256 over the body
// in the Fbs-Signature header (sha256=<hex>) when there is a secret.
type Hook struct {
	Secret []byte
	Client *http.Client
	// Trusted are the operator's webhooks, called with Client. Any other
	// URL came with a request and is called only where Egress allows (not
	// the server's own machine, link-local such as cloud metadata, private
	// networks the operator did not allow), checked on each address dialled.
	Trusted []string
	Egress  *egress.Policy

	once    sync.Once
	guarded *http.Client
}

// client is the HTTP client for url: the operator's for a trusted URL,
// else one whose every connection Egress checks.
func (h *Hook) client(url string) *http.Client {
	if slices.Contains(h.Trusted, url) {
		return h.Client
	}
	h.once.Do(func() { h.guarded = h.Egress.Client(h.Client.Timeout) })
	return h.guarded
}

// SignatureHeader carries a webhook body's signature.
const SignatureHeader = "Fbs-Signature"

// Sign is the signature header's value for body.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Event is a webhook's body.
type Event struct {
	Event string       `json:"event"`
	Build *store.Build `json:"build"`
	URL   string       `json:"url"`
}

func (h *Hook) Send(ctx context.Context, url string, ev Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", err, ErrPermanent)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "fbs")
	if len(h.Secret) > 0 {
		req.Header.Set(SignatureHeader, Sign(h.Secret, body))
	}
	resp, err := h.client(url).Do(req)
	if errors.Is(err, egress.ErrRefused) {
		return fmt.Errorf("a request's webhook: %w: %w", err, ErrPermanent)
	}
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
