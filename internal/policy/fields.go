package policy

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ValidCountry reports whether code is one of the v1 reference's appendix
// A.4 codes. The reference documents lowercase codes but every sample sends
// "US", so the comparison ignores case.
func ValidCountry(code string) bool {
	return countryCodes[strings.ToLower(code)]
}

// ServerTypeName returns the appendix A.1 name of a server type id.
func ServerTypeName(id int) (string, bool) {
	name, ok := serverTypes[id]
	return name, ok
}

// ServerTypeByName finds a server type id from its appendix A.1 name,
// ignoring case; one real client sent "Apache" instead of "2".
func ServerTypeByName(name string) (int, bool) {
	for id, n := range serverTypes {
		if strings.EqualFold(n, strings.TrimSpace(name)) {
			return id, true
		}
	}
	return 0, false
}

// ValidEmail accepts a bare RFC 5322 addr-spec whose domain has at least
// two labels: what the v1 reference calls "valid email".
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\t\r\n") {
		return false
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// ValidPhone accepts a telephone number written as people write them: an
// optional leading "+", digits, and the usual separators (space, hyphen,
// dot, parentheses), with 5 to 20 digits. The reference calls the field a
// "numeric string" but its own samples use "555-123-1234".
func ValidPhone(s string) bool {
	if len(s) > 40 {
		return false
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= 5 && digits <= 20
}

// ValidPhoneExtension accepts 1 to 10 digits.
func ValidPhoneExtension(s string) bool {
	if len(s) == 0 || len(s) > 10 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ValidText accepts a free-text field of at most max characters that is
// valid UTF-8 without control characters. Subject fields have the X.520
// upper bounds of RFC 5280 appendix A (ub-organization-name 64, ub-locality-
// name 128, and so on), which the caller passes as max.
func ValidText(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// ValidLanguage reports whether code is one of the reference's appendix
// A.5 ISO 639-2 codes, which Wi-Fi friendly names and logos are tagged
// with.
func ValidLanguage(code string) bool { return languageCodes[strings.ToLower(code)] }

// CodeSigningPlatform returns the appendix A.2 (EV: A.3) name of a code
// signing platform id.
func CodeSigningPlatform(id int, ev bool) (string, bool) {
	if ev {
		name, ok := evCodeSigningPlatforms[id]
		return name, ok
	}
	name, ok := codeSigningPlatforms[id]
	return name, ok
}

// DCVReuseDays is how long a domain validation may be reused for
// issuance at t: the BRs' reuse period (section 4.2.1, ballot SC-081v3:
// 398 days before 2026-03-15, 200 from then, 100 from 2027-03-15, 10 from
// 2029-03-15).
func DCVReuseDays(t time.Time) int {
	switch t = t.UTC(); {
	case !t.Before(time.Date(2029, 3, 15, 0, 0, 0, 0, time.UTC)):
		return 10
	case !t.Before(time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC)):
		return 100
	case !t.Before(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)):
		return 200
	default:
		return 398
	}
}
