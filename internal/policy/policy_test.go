package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/testutil"
)

func TestNormalizeDNSName(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"www.example.com", "www.example.com", nil},
		{"WWW.Example.COM", "www.example.com", nil},
		{"www.example.com.", "www.example.com", nil},
		{" a.example.com ", "a.example.com", nil},
		{"*.example.com", "*.example.com", nil},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", nil},
		{"bücher.example", "xn--bcher-kva.example", nil},
		{"a-b.example.com", "a-b.example.com", nil},
		{"", "", policy.ErrNameEmpty},
		{"localhost", "", policy.ErrSingleLabel},
		{"www.*.example.com", "", policy.ErrWildcardPosition},
		{"*.com", "", policy.ErrWildcardPosition},
		{"w*.example.com", "", policy.ErrWildcardPosition},
		{"a..example.com", "", policy.ErrLabelEmpty},
		{"-a.example.com", "", policy.ErrLabelHyphen},
		{"a-.example.com", "", policy.ErrLabelHyphen},
		{"a_b.example.com", "", policy.ErrLabelCharacters},
		{"a b.example.com", "", policy.ErrLabelCharacters},
		{strings.Repeat("a", 64) + ".example.com", "", policy.ErrLabelTooLong},
		{strings.Repeat("abcdefghi.", 26) + "com", "", policy.ErrNameTooLong},
		{"192.168.1.1", "", policy.ErrNumericTLD},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := policy.NormalizeDNSName(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("NormalizeDNSName(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Fatalf("NormalizeDNSName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidCountry(t *testing.T) {
	for code, want := range map[string]bool{"us": true, "US": true, "gb": true, "an": true, "cu": false, "ir": false, "usa": false, "": false, "zz": false} {
		if got := policy.ValidCountry(code); got != want {
			t.Errorf("ValidCountry(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestServerTypes(t *testing.T) {
	if name, ok := policy.ServerTypeName(2); !ok || name != "Apache" {
		t.Errorf("ServerTypeName(2) = %q, %v", name, ok)
	}
	if name, ok := policy.ServerTypeName(-1); !ok || name != "OTHER" {
		t.Errorf("ServerTypeName(-1) = %q, %v", name, ok)
	}
	if _, ok := policy.ServerTypeName(3); ok {
		t.Error("ServerTypeName(3) should be unknown")
	}
	if id, ok := policy.ServerTypeByName("apache"); !ok || id != 2 {
		t.Errorf("ServerTypeByName(apache) = %d, %v", id, ok)
	}
}

func TestValidEmail(t *testing.T) {
	tests := map[string]bool{
		"joe@example.com":        true,
		"joe.bloggs+x@a.example": true,
		"joe@localhost":          false,
		"joe":                    false,
		"Joe <joe@example.com>":  false,
		"joe@example.com.":       false,
		"":                       false,
		"joe@@example.com":       false,
	}
	for in, want := range tests {
		if got := policy.ValidEmail(in); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestValidPhone(t *testing.T) {
	tests := map[string]bool{
		"555-123-1234":      true,
		"+1 (555) 123.1234": true,
		"5551231234":        true,
		"1234":              false,
		"555-CALL-NOW":      false,
		"1+555":             false,
		"":                  false,
	}
	for in, want := range tests {
		if got := policy.ValidPhone(in); got != want {
			t.Errorf("ValidPhone(%q) = %v, want %v", in, got, want)
		}
	}
	if !policy.ValidPhoneExtension("123") || policy.ValidPhoneExtension("12a") || policy.ValidPhoneExtension("") {
		t.Error("ValidPhoneExtension misjudges")
	}
}

func TestValidText(t *testing.T) {
	if !policy.ValidText("Tampa Bay Cray LLC", 64) || !policy.ValidText("공공 와이파이", 10) {
		t.Error("plain text refused")
	}
	if policy.ValidText(strings.Repeat("a", 65), 64) || policy.ValidText("a\x00b", 64) || policy.ValidText("\xff", 64) {
		t.Error("bad text accepted")
	}
}

func TestParseCSR(t *testing.T) {
	rsaKey := testutil.Key(t, "rsa2048")
	ecKey := testutil.Key(t, "p256")
	good := testutil.CSR(t, ecKey, "www.example.com", "www.example.com", "a.example.com")
	body := good[strings.Index(good, "\n")+1 : strings.Index(good, "-----END")]
	tests := []struct {
		name string
		text string
		ok   bool
	}{
		{"pem", good, true},
		{"crlf", strings.ReplaceAll(good, "\n", "\r\n"), true},
		{"no line breaks", strings.ReplaceAll(good, "\n", ""), true},
		{"escaped newlines", strings.ReplaceAll(good, "\n", `\n`), true},
		{"new certificate request", strings.ReplaceAll(good, "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"), true},
		{"bare base64", body, true},
		{"sha1 rsa", testutil.LegacyCSR(t, rsaKey, "sha1", false, "www.example.com"), true},
		{"md5 rsa", testutil.LegacyCSR(t, rsaKey, "md5", false, "www.example.com"), true},
		{"sha1 ecdsa", testutil.LegacyCSR(t, ecKey, "sha1", false, "www.example.com"), true},
		{"sha1 rsa bad signature", testutil.LegacyCSR(t, rsaKey, "sha1", true, "www.example.com"), false},
		{"md5 rsa bad signature", testutil.LegacyCSR(t, rsaKey, "md5", true, "www.example.com"), false},
		{"sha1 ecdsa bad signature", testutil.LegacyCSR(t, ecKey, "sha1", true, "www.example.com"), false},
		{"empty", "", false},
		{"garbage", "hello world", false},
		{"certificate label", strings.ReplaceAll(good, "CERTIFICATE REQUEST", "CERTIFICATE"), false},
		{"no end", good[:strings.Index(good, "-----END")], false},
		{"truncated", good[:len(good)/2] + "\n-----END CERTIFICATE REQUEST-----\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csr, err := policy.ParseCSR(tt.text)
			if err == nil {
				err = policy.CheckCSRSignature(csr)
			}
			if tt.ok && err != nil {
				t.Fatalf("ParseCSR: %v", err)
			}
			if !tt.ok && err == nil {
				t.Fatal("ParseCSR accepted a bad CSR")
			}
			if tt.ok && csr.Subject.CommonName != "www.example.com" {
				t.Fatalf("CN = %q", csr.Subject.CommonName)
			}
		})
	}
}

func TestParseCSRTamperedSHA256(t *testing.T) {
	good := testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")
	csr, err := policy.ParseCSR(good)
	if err != nil {
		t.Fatal(err)
	}
	// Flip a bit inside the signature of a modern CSR.
	raw := append([]byte(nil), csr.Raw...)
	raw[len(raw)-3] ^= 0x01
	tampered, err := policy.ParseCSR(pemOf(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := policy.CheckCSRSignature(tampered); err == nil {
		t.Fatal("tampered CSR accepted")
	}
}
