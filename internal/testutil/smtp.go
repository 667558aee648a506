package testutil

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is a message the test SMTP server received.
type Mail struct {
	From string
	To   []string
	Data string
}

// SMTP is a real SMTP server (emersion/go-smtp) on loopback that keeps
// what it receives, as a mail relay would pass it on. Recipients whose
// address starts with "reject" are refused.
type SMTP struct {
	mu   sync.Mutex
	mail []Mail
	addr string
}

// NewSMTP starts an SMTP server for the test's lifetime.
func NewSMTP(t testing.TB) *SMTP {
	t.Helper()
	s := &SMTP{}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Addr is the server's HOST:PORT.
func (s *SMTP) Addr() string { return s.addr }

// Received returns the messages received so far.
func (s *SMTP) Received() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

// NewSession implements smtp.Backend.
func (s *SMTP) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s}, nil }

type smtpSession struct {
	srv *SMTP
	cur Mail
}

func (x *smtpSession) Reset()        { x.cur = Mail{} }
func (x *smtpSession) Logout() error { return nil }

func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	x.cur.From = from
	return nil
}

func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "reject") {
		return &smtp.SMTPError{Code: 550, Message: "no such mailbox"}
	}
	x.cur.To = append(x.cur.To, to)
	return nil
}

func (x *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.cur.Data = string(b)
	x.srv.mu.Lock()
	x.srv.mail = append(x.srv.mail, x.cur)
	x.srv.mu.Unlock()
	return nil
}
