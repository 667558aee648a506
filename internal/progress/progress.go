// Package progress shows what an order waits for while certd's client
// waits for its certificate: on a terminal, one block redrawn in place;
// anywhere else (a pipe, a log file), plain lines, each printed once when
// it changes, so that the output stays readable as text.
package progress

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/certd/certd/client"
)

// Describe lists what an order waits for, one line per thing: each
// domain's validation with what to publish, CAA, the organization, a
// pending reissue, a hold by the linter.
func Describe(o *client.Order) []string {
	var lines []string
	d := o.CertificateDetails
	if o.Hold != "" {
		lines = append(lines, "held: the CA refused to sign: "+o.Hold)
	}
	if o.DCV != nil {
		for _, dom := range o.DCV.Domains {
			lines = append(lines, domainLine(dom))
			if dom.CAA != "" {
				lines = append(lines, dom.Name+": CAA: "+dom.CAA)
			}
		}
	}
	if org := o.Organization; org != nil {
		switch org.Status {
		case "validated":
			lines = append(lines, "organization "+org.Name+": validated")
		case "rejected":
			lines = append(lines, "organization "+org.Name+": rejected by the CA ("+org.Note+"); correct the details and order again")
		default:
			lines = append(lines, "organization "+org.Name+": waiting for the CA to validate it")
		}
	}
	if o.PendingReissue != nil {
		lines = append(lines, "reissue for "+strings.Join(append([]string{o.PendingReissue.CommonName}, o.PendingReissue.SANs...), ", ")+": waiting for issuance")
	}
	if len(lines) == 0 {
		lines = append(lines, "order "+d.OrderID+": "+d.Status+", waiting for the CA")
	}
	return lines
}

func domainLine(dom client.DCVDomain) string {
	switch {
	case dom.Status == "valid":
		by := ""
		if dom.ValidatedBy != "" && dom.ValidatedBy != dom.Name {
			by = " (through " + dom.ValidatedBy + ")"
		}
		return dom.Name + ": domain validated" + by
	case dom.Status == "invalid":
		return dom.Name + ": the validation value expired; order again"
	}
	var what string
	switch {
	case dom.DNSRecord != "":
		what = fmt.Sprintf("publish %s record %s with the value %s", dom.DNSType, dom.DNSRecord, dom.Value)
	case dom.HTTPURL != "":
		what = fmt.Sprintf("serve the value %s at %s", dom.Value, dom.HTTPURL)
	case len(dom.EmailAddresses) > 0:
		what = "confirm the mail sent to " + strings.Join(dom.EmailAddresses, ", ")
	default:
		what = "waiting for domain validation"
	}
	if dom.LastError != "" {
		what += " (last check: " + dom.LastError + ")"
	}
	return dom.Name + ": " + what
}

// Printer writes progress to a terminal or a plain stream.
type Printer struct {
	w     io.Writer
	tty   bool
	width int
	start time.Time
	now   func() time.Time
	shown map[string]bool
	drawn int
}

// New returns a printer on w; tty says w is a terminal of width columns
// (0 if unknown).
func New(w io.Writer, tty bool, width int) *Printer {
	return &Printer{w: w, tty: tty, width: width, start: time.Now(), now: time.Now, shown: map[string]bool{}}
}

// Update shows the current state.
func (p *Printer) Update(lines []string) {
	if !p.tty {
		for _, l := range lines {
			if !p.shown[l] {
				fmt.Fprintln(p.w, l)
			}
		}
		p.shown = map[string]bool{}
		for _, l := range lines {
			p.shown[l] = true
		}
		return
	}
	p.clear()
	elapsed := p.now().Sub(p.start).Round(time.Second)
	all := append(append([]string{}, lines...), fmt.Sprintf("waiting for the certificate (%s, Ctrl-C stops waiting; the order goes on)", elapsed))
	for _, l := range all {
		fmt.Fprintln(p.w, p.fit(l))
	}
	p.drawn = len(all)
}

// Done replaces the block (on a terminal) with a final line, if any.
func (p *Printer) Done(line string) {
	if p.tty {
		p.clear()
	}
	if line != "" {
		fmt.Fprintln(p.w, line)
	}
}

// clear erases the block drawn last: cursor up over it, erase below.
func (p *Printer) clear() {
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.drawn)
		p.drawn = 0
	}
}

// fit cuts a line to the terminal's width, so that the block's height
// (and so the redraw) stays right.
func (p *Printer) fit(l string) string {
	r := []rune(l)
	if p.width > 1 && len(r) >= p.width {
		return string(r[:p.width-2]) + "…"
	}
	return l
}
