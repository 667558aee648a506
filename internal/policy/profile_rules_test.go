package policy

import (
	"errors"
	"testing"
)

// Each name rule on its own, with its own cases (the profile test checks
// them together).

func TestIDNARule(t *testing.T) {
	for name, ok := range map[string]bool{
		"example.com":             true,
		"xn--bcher-kva.de":        true,
		"xn--zz.example.com":      false, // not Punycode
		"xn--a.example.com":       false, // decodes to a disallowed label
		"www.xn--bcher-kva.co.uk": true,
	} {
		if err := idnaRule(name); (err == nil) != ok || err != nil && !errors.Is(err, ErrIDNA) {
			t.Errorf("idnaRule(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestReservedRule(t *testing.T) {
	for name, ok := range map[string]bool{
		"www.example.com": true, "host.test": false, "a.example": false, "x.invalid": false, "localhost.localhost": false,
		"printer.local": false, "db.internal": false, "x.onion": false, "nas.home": false, "dc.corp": false, "1.in-addr.arpa": false,
	} {
		if err := reservedRule(name); (err == nil) != ok {
			t.Errorf("reservedRule(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestRegisteredTLDRule(t *testing.T) {
	for name, ok := range map[string]bool{
		"www.example.com": true, "example.co.uk": true, "example.dev": true, "x.notarealtld": false, "intranet.lan2": false,
	} {
		if err := registeredTLDRule(name); (err == nil) != ok {
			t.Errorf("registeredTLDRule(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestPublicSuffixRule(t *testing.T) {
	for name, ok := range map[string]bool{
		"example.com": true, "com": false, "co.uk": false, "*.co.uk": false, "example.co.uk": true, "*.example.co.uk": true,
		"github.io": false, "*.github.io": false, "me.github.io": true, "db.corp": true,
	} {
		if err := publicSuffixRule(name); (err == nil) != ok {
			t.Errorf("publicSuffixRule(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestIPAddressRule(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1": "10.0.0.1", "2001:DB8::1": "2001:db8::1", "[::1]": "::1", "::ffff:192.0.2.1": "192.0.2.1",
		"fe80::1%eth0": "", "example.com": "", "10.0.0": "",
	} {
		got, ok := ipAddress(in)
		if got != want || ok != (want != "") {
			t.Errorf("ipAddress(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
