package validation

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// ConstructedLocalParts are the mailboxes BRs 3.2.2.4.4 (Constructed
// Email to Domain Contact) allow, at the Authorization Domain Name.
var ConstructedLocalParts = []string{"admin", "administrator", "webmaster", "hostmaster", "postmaster"}

// ConstructedAddresses returns the addresses a validation mail for
// domain goes to.
func ConstructedAddresses(domain string) []string {
	domain = strings.TrimPrefix(domain, "*.")
	out := make([]string, len(ConstructedLocalParts))
	for i, lp := range ConstructedLocalParts {
		out[i] = lp + "@" + domain
	}
	return out
}

// Mailer sends validation mail through an SMTP relay (--smtp-relay).
type Mailer struct {
	Relay   string // HOST:PORT
	From    string
	Timeout time.Duration
}

// Send mails the random value and the confirmation link to the
// constructed addresses of domain. It succeeds when the relay accepted
// the mail for at least one of them.
func (m *Mailer) Send(ctx context.Context, domain, link, value string) error {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", m.Relay)
	if err != nil {
		return fmt.Errorf("connect to the SMTP relay: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	host, _, _ := net.SplitHostPort(m.Relay)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP relay: %w", err)
	}
	defer c.Close()
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("SMTP MAIL FROM: %w", err)
	}
	var accepted []string
	for _, rcpt := range ConstructedAddresses(domain) {
		if c.Rcpt(rcpt) == nil {
			accepted = append(accepted, rcpt)
		}
	}
	if len(accepted) == 0 {
		return failf("the SMTP relay accepted none of the addresses " + strings.Join(ConstructedAddresses(domain), ", "))
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	msg := strings.Join([]string{
		"From: " + m.From,
		"To: " + strings.Join(accepted, ", "),
		"Subject: Confirm the certificate request for " + domain,
		"Date: " + time.Now().UTC().Format(time.RFC1123Z),
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"",
		"A certificate was requested for " + domain + ".",
		"",
		"If you control this domain and approve, open this link and press the",
		"Confirm button on the page (opening the link alone confirms nothing):",
		"",
		link,
		"",
		"Random value: " + value,
		"",
		"If you did not expect this, ignore this mail: nothing is issued without",
		"a confirmation.",
	}, "\r\n")
	if _, err := w.Write([]byte(msg + "\r\n")); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	return c.Quit()
}
