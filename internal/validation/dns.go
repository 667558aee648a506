package validation

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Resolver asks one recursive DNS resolver (--dns-resolver) over UDP,
// retrying over TCP when an answer is truncated.
type Resolver struct {
	addr    string
	timeout time.Duration
}

// NewResolver returns a Resolver for HOST:PORT.
func NewResolver(addr string, timeout time.Duration) *Resolver {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return &Resolver{addr: addr, timeout: timeout}
}

// ErrNXDomain is returned for a name that does not exist.
var ErrNXDomain = fmt.Errorf("no such domain")

// query asks for name's records of type qtype and returns the answer
// section's records of that type (the resolver follows CNAMEs and
// includes the chain; only the final records are kept).
func (r *Resolver) query(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(4096, true)
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	c := &dns.Client{Net: "udp", Timeout: r.timeout}
	resp, _, err := c.ExchangeContext(ctx, m, r.addr)
	if err == nil && resp.Truncated {
		c.Net = "tcp"
		resp, _, err = c.ExchangeContext(ctx, m, r.addr)
	}
	if err != nil {
		return nil, fmt.Errorf("DNS query %s %s: %w", dns.TypeToString[qtype], name, err)
	}
	switch resp.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, ErrNXDomain
	default:
		return nil, fmt.Errorf("DNS query %s %s: %s", dns.TypeToString[qtype], name, dns.RcodeToString[resp.Rcode])
	}
	var out []dns.RR
	for _, rr := range resp.Answer {
		if rr.Header().Rrtype == qtype {
			out = append(out, rr)
		}
	}
	return out, nil
}

// LookupIP returns the IPv4 and IPv6 addresses of name.
func (r *Resolver) LookupIP(ctx context.Context, name string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		rrs, err := r.query(ctx, name, t)
		if err == ErrNXDomain {
			return nil, failf(fmt.Sprintf("%s does not exist in DNS", name))
		}
		if err != nil {
			return nil, err
		}
		for _, rr := range rrs {
			switch v := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
					out = append(out, a)
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(v.AAAA); ok {
					out = append(out, a)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, failf(fmt.Sprintf("%s has no A or AAAA record", name))
	}
	return out, nil
}

// TXT returns the TXT strings at name (each record's strings joined, as
// RFC 7208 does for long values).
func (r *Resolver) TXT(ctx context.Context, name string) ([]string, error) {
	rrs, err := r.query(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range rrs {
		out = append(out, strings.Join(rr.(*dns.TXT).Txt, ""))
	}
	return out, nil
}

// CheckDNS is BRs 3.2.2.4.7: the TXT record at _dnsauth.<domain> must
// hold the random value. For a wildcard the base domain is checked.
func (r *Resolver) CheckDNS(ctx context.Context, domain, value string) error {
	name := DNSPrefix + "." + strings.TrimPrefix(domain, "*.")
	txts, err := r.TXT(ctx, name)
	if err == ErrNXDomain {
		return failf(fmt.Sprintf("no TXT record at %s", name))
	}
	if err != nil {
		return err
	}
	for _, t := range txts {
		if strings.TrimSpace(t) == value {
			return nil
		}
	}
	if len(txts) == 0 {
		return failf(fmt.Sprintf("no TXT record at %s", name))
	}
	return failf(fmt.Sprintf("the TXT records at %s do not hold the random value", name))
}
