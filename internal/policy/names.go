package policy

import (
	"errors"
	"strings"

	"golang.org/x/net/idna"
)

// The errors NormalizeDNSName returns; each says what is wrong in words a
// subscriber understands.
var (
	ErrNameEmpty        = errors.New("the name is empty")
	ErrNameTooLong      = errors.New("the name is longer than 253 characters")
	ErrLabelEmpty       = errors.New("the name has an empty label")
	ErrLabelTooLong     = errors.New("a label is longer than 63 characters")
	ErrLabelCharacters  = errors.New("a label may contain only letters, digits and hyphens")
	ErrLabelHyphen      = errors.New("a label may not start or end with a hyphen")
	ErrWildcardPosition = errors.New("a wildcard may only be the whole leftmost label")
	ErrNumericTLD       = errors.New("the last label is numeric: IP addresses are not DNS names")
	ErrIDNA             = errors.New("the internationalized name cannot be converted to ASCII")
	ErrSingleLabel      = errors.New("the name needs at least two labels")
)

// NormalizeDNSName returns the lower-case A-label form of name, or an error
// saying why it is not a syntactically valid DNS name for a certificate.
//
// Sources: RFC 1034 section 3.5 and RFC 1123 section 2.1 (preferred name
// syntax: letters, digits, hyphens; labels of 1 to 63 octets; 255 octets in
// all, 253 characters in text form); RFC 5280 section 4.2.1.6 (dNSName in
// preferred name syntax); BRs section 7.1.4.2 and RFC 6125 section 6.4.3 (a
// wildcard is only the entire leftmost label); RFC 5891 (IDNA2008) for
// internationalized names, which are converted to their A-label form. A
// single trailing dot (the absolute form) is dropped.
func NormalizeDNSName(name string) (string, error) {
	name = strings.TrimSuffix(strings.TrimSpace(name), ".")
	if name == "" {
		return "", ErrNameEmpty
	}
	if !isASCII(name) {
		ascii, err := idna.Lookup.ToASCII(name)
		if err != nil {
			return "", ErrIDNA
		}
		name = ascii
	}
	name = strings.ToLower(name)
	if len(name) > 253 {
		return "", ErrNameTooLong
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return "", ErrSingleLabel
	}
	for i, label := range labels {
		if label == "*" {
			if i != 0 {
				return "", ErrWildcardPosition
			}
			continue
		}
		if err := checkLabel(label); err != nil {
			return "", err
		}
	}
	if isNumeric(labels[len(labels)-1]) {
		return "", ErrNumericTLD
	}
	if labels[0] == "*" && len(labels) < 3 {
		// "*.com" would cover a whole top-level domain.
		return "", ErrWildcardPosition
	}
	return name, nil
}

func checkLabel(label string) error {
	if label == "" {
		return ErrLabelEmpty
	}
	if len(label) > 63 {
		return ErrLabelTooLong
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			if c == '*' {
				return ErrWildcardPosition
			}
			return ErrLabelCharacters
		}
	}
	if label[0] == '-' || label[len(label)-1] == '-' {
		return ErrLabelHyphen
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
