package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/client"
)

func waiting(status string, dom client.DCVDomain) *client.Order {
	o := &client.Order{DCV: &client.DCV{Method: "dns-txt-token", Domains: []client.DCVDomain{dom}},
		Organization: &client.OrgValidation{Name: "Example LLC", Status: status}}
	o.CertificateDetails.OrderID, o.CertificateDetails.Status = "00000001", "pending issuance"
	return o
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    *client.Order
		want []string
	}{
		{"DNS to publish", waiting("pending", client.DCVDomain{Name: "www.example.com", Status: "pending", DNSRecord: "_dnsauth.www.example.com", DNSType: "TXT", Value: "abc", LastError: "no TXT record"}),
			[]string{"www.example.com: publish TXT record _dnsauth.www.example.com with the value abc (last check: no TXT record)", "organization Example LLC: waiting for the CA to validate it"}},
		{"HTTP", waiting("validated", client.DCVDomain{Name: "a.example.com", Status: "pending", HTTPURL: "http://a.example.com/.well-known/pki-validation/certd-1.txt", Value: "v"}),
			[]string{"a.example.com: serve the value v at http://a.example.com/.well-known/pki-validation/certd-1.txt", "organization Example LLC: validated"}},
		{"email", waiting("rejected", client.DCVDomain{Name: "m.example.com", Status: "pending", EmailAddresses: []string{"admin@m.example.com"}}),
			[]string{"m.example.com: confirm the mail sent to admin@m.example.com", "organization Example LLC: rejected by the CA (); correct the details and order again"}},
		{"valid through a parent, CAA hold", waiting("validated", client.DCVDomain{Name: "w.example.com", Status: "valid", ValidatedBy: "example.com", CAA: "CAA at example.com does not authorize this CA"}),
			[]string{"w.example.com: domain validated (through example.com)", "w.example.com: CAA: CAA at example.com does not authorize this CA", "organization Example LLC: validated"}},
		{"nothing known", &client.Order{CertificateDetails: client.CertificateDetails{OrderID: "00000009", Status: "pending issuance"}},
			[]string{"order 00000009: pending issuance, waiting for the CA"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Describe(tc.o)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestPrinter(t *testing.T) {
	t.Run("plain prints each change once, no escapes", func(t *testing.T) {
		var b bytes.Buffer
		p := New(&b, false, 0)
		p.Update([]string{"a: publish", "org: waiting"})
		p.Update([]string{"a: publish", "org: waiting"})
		p.Update([]string{"a: validated", "org: waiting"})
		p.Done("issued")
		want := "a: publish\norg: waiting\na: validated\nissued\n"
		if b.String() != want {
			t.Fatalf("%q", b.String())
		}
	})
	t.Run("terminal redraws in place", func(t *testing.T) {
		var b bytes.Buffer
		p := New(&b, true, 20)
		p.now = func() time.Time { return p.start.Add(3 * time.Second) }
		p.Update([]string{"a: publish a long record value"})
		p.Update([]string{"a: validated"})
		p.Done("issued")
		out := b.String()
		if strings.Count(out, "\x1b[2A\x1b[J") != 2 || !strings.HasSuffix(out, "\x1b[2A\x1b[Jissued\n") {
			t.Fatalf("%q", out)
		}
		if !strings.Contains(out, "a: publish a long …\n") {
			t.Fatalf("not cut to the width: %q", out)
		}
	})
}
