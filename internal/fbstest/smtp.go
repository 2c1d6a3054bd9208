package fbstest

import (
	"io"
	"mime/quotedprintable"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// Mailbox is an SMTP server on 127.0.0.1 (emersion/go-smtp) that keeps
// what it is sent, or refuses every recipient for good (550).
type Mailbox struct {
	Addr   string
	refuse bool
	mu     sync.Mutex
	got    []string
}

// StartSMTP starts one; it stops when the test ends.
func StartSMTP(t testing.TB, refuse bool) *Mailbox {
	m := &Mailbox{refuse: refuse}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return session{m}, nil }))
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.Addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return m
}

// Messages are the messages received, quoted-printable decoded and their
// headers unfolded, as a reader sees them.
func (m *Mailbox) Messages() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string{}, m.got...)
}

type session struct{ m *Mailbox }

func (s session) Reset()                               {}
func (s session) Logout() error                        { return nil }
func (s session) Mail(string, *smtp.MailOptions) error { return nil }

func (s session) Rcpt(string, *smtp.RcptOptions) error {
	if s.m.refuse {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	}
	return nil
}

func (s session) Data(r io.Reader) error {
	b, _ := io.ReadAll(quotedprintable.NewReader(r))
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.got = append(s.m.got, strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n ", " "))
	return nil
}
