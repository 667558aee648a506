package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// NameProfile says which names certificates may carry.
type NameProfile int

// The name profiles.
const (
	// ProfilePublic (the default) allows only names under ICANN
	// top-level domains that are not themselves public suffixes: what a
	// publicly trusted CA may certify.
	ProfilePublic NameProfile = iota
	// ProfilePrivate also allows internal names (single labels, private
	// top-level domains) and IP addresses, for an internal PKI.
	ProfilePrivate
)

// MaxNamesPerOrder is the most names (common name included) an order may
// carry, in both profiles.
const MaxNamesPerOrder = 250

// ParseNameProfile reads the --name-profile setting.
func ParseNameProfile(s string) (NameProfile, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "public":
		return ProfilePublic, nil
	case "private":
		return ProfilePrivate, nil
	}
	return 0, fmt.Errorf("unknown name profile %q: use public or private", s)
}

func (p NameProfile) String() string {
	if p == ProfilePrivate {
		return "private"
	}
	return "public"
}

// Errors of the profile rules.
var (
	ErrIPAddress    = errors.New("IP addresses are not allowed in this CA's public profile")
	ErrInternalName = errors.New("internal names (no registered top-level domain) are not allowed in this CA's public profile")
	ErrReservedName = errors.New("the name is under a top-level domain reserved for special use (RFC 6761)")
	ErrPublicSuffix = errors.New("the name is a public suffix, under which anyone may register domains")
	ErrWildcardIP   = errors.New("a wildcard cannot cover an IP address")
)

// Normalize checks one requested name under the profile and returns its
// canonical form: a lower-case A-label DNS name, or, in the private
// profile, an IP address in its canonical text form (isIP true).
func (p NameProfile) Normalize(name string) (canonical string, isIP bool, err error) {
	trimmed := strings.TrimSpace(name)
	if ip, ok := ipAddress(trimmed); ok {
		if p != ProfilePrivate {
			return "", false, ErrIPAddress
		}
		return ip, true, nil
	}
	if strings.HasPrefix(trimmed, "*.") {
		if _, ok := ipAddress(trimmed[2:]); ok {
			return "", false, ErrWildcardIP
		}
	}
	if p == ProfilePrivate {
		n, err := normalizeInternal(trimmed)
		if err == nil {
			err = publicSuffixRule(n)
		}
		if err != nil {
			return "", false, err
		}
		return n, false, nil
	}
	n, err := NormalizeDNSName(trimmed)
	if err != nil {
		return "", false, err
	}
	for _, rule := range []func(string) error{idnaRule, reservedRule, registeredTLDRule, publicSuffixRule} {
		if err := rule(n); err != nil {
			return "", false, err
		}
	}
	return n, false, nil
}

// ipAddress: RFC 5280 section 4.2.1.6 iPAddress entries; canonical text
// form (RFC 5952 for IPv6). Zones are not addresses.
func ipAddress(s string) (string, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", false
	}
	return a.Unmap().String(), true
}

// normalizeInternal is NormalizeDNSName without the two-label minimum:
// an internal PKI certifies single-label hosts ("intranet").
func normalizeInternal(name string) (string, error) {
	n, err := NormalizeDNSName(name)
	if errors.Is(err, ErrSingleLabel) {
		n, err = NormalizeDNSName(name + ".invalid")
		if err == nil {
			return strings.TrimSuffix(n, ".invalid"), nil
		}
	}
	if err != nil {
		return "", err
	}
	return n, idnaRule(n)
}

// idnaRule: RFC 5891 (IDNA2008) section 5.4, as the BRs (7.1.4.2) require:
// every A-label must decode to a valid U-label under the registration
// rules (which also refuse the bidi and joiner misuse that enable
// confusables); fake A-labels ("xn--" that is not valid Punycode) fail.
func idnaRule(name string) error {
	for _, label := range strings.Split(name, ".") {
		if !strings.HasPrefix(label, "xn--") {
			continue
		}
		if _, err := idnaRegistration.ToUnicode(label); err != nil {
			return fmt.Errorf("%w: %q is not a valid IDNA2008 A-label", ErrIDNA, label)
		}
	}
	return nil
}

var idnaRegistration = idna.New(idna.ValidateForRegistration(), idna.BidiRule(), idna.CheckJoiners(true), idna.CheckHyphens(true))

// reservedTLDs are the special-use top-level domains of RFC 6761 (test,
// example, invalid, localhost), RFC 6762 (local), RFC 7686 (onion), ICANN's
// reservation of internal and its decision never to delegate home, corp and
// lan (name-collision risk), and arpa, which is infrastructure.
var reservedTLDs = map[string]bool{"test": true, "example": true, "invalid": true, "localhost": true, "local": true, "onion": true, "internal": true, "home": true, "corp": true, "lan": true, "arpa": true}

// reservedRule: BRs 7.1.4.2.1 forbid Reserved IP addresses and Internal
// Names; the special-use domains can never be registered.
func reservedRule(name string) error {
	if reservedTLDs[tld(name)] {
		return ErrReservedName
	}
	return nil
}

// registeredTLDRule: BRs 7.1.4.2.1 (Internal Names): the top-level domain
// must be one ICANN delegates, as the public suffix list records.
func registeredTLDRule(name string) error {
	t := tld(name)
	if _, icann := publicsuffix.PublicSuffix(t); !icann {
		return ErrInternalName
	}
	return nil
}

// publicSuffixRule: BRs 3.2.2.6 and 3.2.2.4: a public suffix (ICANN or
// private section of the list) is not a domain anyone controls, so
// neither it nor a wildcard directly over it may be certified.
func publicSuffixRule(name string) error {
	base := strings.TrimPrefix(name, "*.")
	if _, icann := publicsuffix.PublicSuffix(tld(base)); !icann {
		return nil // an internal top-level domain: not on the list
	}
	suffix, _ := publicsuffix.PublicSuffix(base)
	if suffix == base {
		return ErrPublicSuffix
	}
	return nil
}

func tld(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}
