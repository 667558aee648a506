package policy_test

import (
	"errors"
	"testing"

	"github.com/certd/certd/internal/policy"
)

func TestNameProfiles(t *testing.T) {
	tests := []struct {
		name    string
		profile policy.NameProfile
		want    string
		isIP    bool
		err     error
	}{
		{"www.example.com", policy.ProfilePublic, "www.example.com", false, nil},
		{"*.example.co.uk", policy.ProfilePublic, "*.example.co.uk", false, nil},
		{"bücher.de", policy.ProfilePublic, "xn--bcher-kva.de", false, nil},
		{"xn--bcher-kva.de", policy.ProfilePublic, "xn--bcher-kva.de", false, nil},
		{"foo.github.io", policy.ProfilePublic, "foo.github.io", false, nil},
		// public suffixes, ICANN and private sections
		{"co.uk", policy.ProfilePublic, "", false, policy.ErrPublicSuffix},
		{"*.co.uk", policy.ProfilePublic, "", false, policy.ErrPublicSuffix},
		{"*.com", policy.ProfilePublic, "", false, policy.ErrWildcardPosition},
		{"github.io", policy.ProfilePublic, "", false, policy.ErrPublicSuffix},
		{"*.github.io", policy.ProfilePublic, "", false, policy.ErrPublicSuffix},
		// internal and reserved names
		{"intranet.corp", policy.ProfilePublic, "", false, policy.ErrReservedName},
		{"printer.local", policy.ProfilePublic, "", false, policy.ErrReservedName},
		{"db.internal", policy.ProfilePublic, "", false, policy.ErrReservedName},
		{"host.example", policy.ProfilePublic, "", false, policy.ErrReservedName},
		{"www.notarealtld", policy.ProfilePublic, "", false, policy.ErrInternalName},
		{"intranet", policy.ProfilePublic, "", false, policy.ErrSingleLabel},
		// IP addresses
		{"192.0.2.10", policy.ProfilePublic, "", false, policy.ErrIPAddress},
		{"2001:db8::1", policy.ProfilePublic, "", false, policy.ErrIPAddress},
		{"10.0.0.1", policy.ProfilePrivate, "10.0.0.1", true, nil},
		{"[2001:DB8::1]", policy.ProfilePrivate, "2001:db8::1", true, nil},
		{"::ffff:10.0.0.1", policy.ProfilePrivate, "10.0.0.1", true, nil},
		{"*.10.0.0.1", policy.ProfilePrivate, "", false, policy.ErrWildcardIP},
		// IDNA2008
		{"xn--zz.example.com", policy.ProfilePublic, "", false, policy.ErrIDNA},
		{"xn--a.example.com", policy.ProfilePublic, "", false, policy.ErrIDNA},
		{"a\u200db.example.com", policy.ProfilePublic, "", false, policy.ErrIDNA},
		// the private profile
		{"intranet", policy.ProfilePrivate, "intranet", false, nil},
		{"db.internal", policy.ProfilePrivate, "db.internal", false, nil},
		{"*.corp", policy.ProfilePrivate, "", false, policy.ErrWildcardPosition},
		{"*.svc.corp", policy.ProfilePrivate, "*.svc.corp", false, nil},
		{"co.uk", policy.ProfilePrivate, "", false, policy.ErrPublicSuffix},
		{"bad_name.internal", policy.ProfilePrivate, "", false, policy.ErrLabelCharacters},
	}
	for _, tt := range tests {
		t.Run(tt.profile.String()+"/"+tt.name, func(t *testing.T) {
			got, isIP, err := tt.profile.Normalize(tt.name)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Normalize(%q) error = %v, want %v", tt.name, err, tt.err)
			}
			if got != tt.want || isIP != tt.isIP {
				t.Fatalf("Normalize(%q) = %q, %v; want %q, %v", tt.name, got, isIP, tt.want, tt.isIP)
			}
		})
	}
}

func TestParseNameProfile(t *testing.T) {
	for in, want := range map[string]policy.NameProfile{"": policy.ProfilePublic, "public": policy.ProfilePublic, "PRIVATE": policy.ProfilePrivate} {
		if got, err := policy.ParseNameProfile(in); err != nil || got != want {
			t.Errorf("ParseNameProfile(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := policy.ParseNameProfile("internal"); err == nil {
		t.Error("ParseNameProfile(internal) accepted")
	}
}
