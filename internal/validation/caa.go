package validation

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// CAAChecker applies RFC 8659 with the CA's identities (--caa-identity)
// and the RFC 8657 parameters accounturi and validationmethods.
type CAAChecker struct {
	Resolver   *Resolver
	Identities []string
}

// CAARequest is one name to check.
type CAARequest struct {
	Name       string // may be a wildcard
	AccountURI string
	Method     string // the validation method used for the name
}

// Check returns nil when CAA permits certd to issue for the name, a
// *Failure naming the record when it forbids, and another error when a
// lookup failed (RFC 8659 section 4: do not issue, retry later).
func (c *CAAChecker) Check(ctx context.Context, req CAARequest) error {
	wildcard := strings.HasPrefix(req.Name, "*.")
	name := strings.TrimPrefix(req.Name, "*.")
	set, at, err := c.relevantSet(ctx, name)
	if err != nil {
		return err
	}
	if len(set) == 0 {
		return nil // no CAA anywhere up the tree: anyone may issue
	}
	for _, rr := range set {
		if rr.Flag&128 != 0 && !knownTag(rr.Tag) {
			return failf(fmt.Sprintf("CAA at %s has a critical property certd does not understand: %s", at, rr.String()))
		}
	}
	tag := "issue"
	if wildcard && hasTag(set, "issuewild") {
		tag = "issuewild"
	}
	var props []*dns.CAA
	for _, rr := range set {
		if strings.EqualFold(rr.Tag, tag) {
			props = append(props, rr)
		}
	}
	if len(props) == 0 {
		return nil // no issue (or issuewild) property: issuance is not restricted
	}
	for _, rr := range props {
		if c.permits(rr.Value, req) {
			return nil
		}
	}
	return failf(fmt.Sprintf("CAA at %s does not authorize this CA (%s) for %s: %s", at, strings.Join(c.Identities, ", "), req.Name, describe(props)))
}

// relevantSet climbs the tree from name toward the root (RFC 8659
// section 3), top-level domain included, and returns the first non-empty
// CAA RRset and where it was found. CNAMEs are followed by the recursive
// resolver, whose answer then holds the target's CAA records.
func (c *CAAChecker) relevantSet(ctx context.Context, name string) ([]*dns.CAA, string, error) {
	labels := dns.SplitDomainName(name)
	for i := 0; i < len(labels); i++ {
		at := strings.Join(labels[i:], ".")
		rrs, err := c.Resolver.query(ctx, at, dns.TypeCAA)
		if err == ErrNXDomain {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		if len(rrs) > 0 {
			set := make([]*dns.CAA, len(rrs))
			for j, rr := range rrs {
				set[j] = rr.(*dns.CAA)
			}
			return set, at, nil
		}
	}
	return nil, "", nil
}

// permits parses an issue/issuewild value (RFC 8659 section 4.2:
// issuer-domain-name, then ";" and key=value parameters) and matches it
// against the CA's identities and the RFC 8657 parameters.
func (c *CAAChecker) permits(value string, req CAARequest) bool {
	parts := strings.Split(value, ";")
	issuer := strings.ToLower(strings.TrimSpace(parts[0]))
	if issuer == "" {
		return false // ";" alone: no CA may issue
	}
	ours := false
	for _, id := range c.Identities {
		if strings.EqualFold(strings.TrimSuffix(id, "."), strings.TrimSuffix(issuer, ".")) {
			ours = true
		}
	}
	if !ours {
		return false
	}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "accounturi":
			if strings.TrimSpace(v) != req.AccountURI {
				return false
			}
		case "validationmethods":
			found := false
			for _, m := range strings.Split(v, ",") {
				if strings.EqualFold(strings.TrimSpace(m), req.Method) {
					found = true
				}
			}
			if !found {
				return false
			}
		}
	}
	return true
}

func knownTag(tag string) bool {
	switch strings.ToLower(tag) {
	case "issue", "issuewild", "iodef", "issuemail", "issuevmc":
		return true
	}
	return false
}

func hasTag(set []*dns.CAA, tag string) bool {
	for _, rr := range set {
		if strings.EqualFold(rr.Tag, tag) {
			return true
		}
	}
	return false
}

func describe(props []*dns.CAA) string {
	var s []string
	for _, p := range props {
		s = append(s, fmt.Sprintf("%d %s %q", p.Flag, p.Tag, p.Value))
	}
	return strings.Join(s, "; ")
}
