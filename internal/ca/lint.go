package ca

import (
	"fmt"
	"sort"
	"strings"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3/lint"
)

// LintError refuses a certificate: the lints that found errors in it.
type LintError struct {
	Lints []string
}

func (e *LintError) Error() string {
	return "ca: the certificate fails lints: " + strings.Join(e.Lints, ", ")
}

// The lint sets, chosen per profile (docs/benchmarks.md has their cost):
// every certificate gets the RFC lints; publicly trusted TLS profiles
// add the CA/Browser Forum BRs and EV Guidelines and the root programs'
// policies; code signing adds the Code Signing BRs; internal
// certificates (certd's own TLS certificate, the private name profile)
// only the RFCs, since BR rules on names do not apply to them.
var (
	rfcSources = lint.SourceList{lint.RFC5280, lint.RFC5480, lint.RFC5891, lint.RFC8813}
	tlsSources = append(append(lint.SourceList{}, rfcSources...),
		lint.CABFBaselineRequirements, lint.CABFEVGuidelines, lint.MozillaRootStorePolicy, lint.ChromeRootStorePolicy, lint.AppleRootStorePolicy)
	codeSources = append(append(lint.SourceList{}, rfcSources...), lint.CABFCSBaselineRequirements)
)

type linters struct {
	tls, code, internal lint.Registry
}

func newLinters() (*linters, error) {
	filter := func(sources lint.SourceList) (lint.Registry, error) {
		return lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: sources})
	}
	var l linters
	var err error
	if l.tls, err = filter(tlsSources); err != nil {
		return nil, err
	}
	if l.code, err = filter(codeSources); err != nil {
		return nil, err
	}
	if l.internal, err = filter(rfcSources); err != nil {
		return nil, err
	}
	return &l, nil
}

// lint runs the profile's lints on a certificate (DER) and returns the
// names of those that warned; errors and fatals make a *LintError.
func (l *linters) lint(der []byte, r lint.Registry) ([]string, error) {
	c, err := zx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: lint: parse: %w", err)
	}
	// What zlint.LintCertificateEx does, without what it adds for
	// reports: a sorted copy of every lint name and a map of all 333
	// results, for each certificate. Each lint still runs through
	// CertificateLint.Execute (the framework's source filter, the lint's
	// configuration, CheckApplies, its effective dates, panic recovery).
	cfg := r.GetConfiguration()
	var errs, warns []string
	for _, l := range r.CertificateLints().Lints() {
		switch l.Execute(c, cfg).Status {
		case lint.Error, lint.Fatal:
			errs = append(errs, l.Name)
		case lint.Warn:
			warns = append(warns, l.Name)
		}
	}
	sort.Strings(errs)
	sort.Strings(warns)
	if len(errs) > 0 {
		return warns, &LintError{Lints: errs}
	}
	return warns, nil
}

func (l *linters) registry(p Profile, internal bool) lint.Registry {
	switch {
	case internal:
		return l.internal
	case p == ProfileCodeSigning:
		return l.code
	default:
		return l.tls
	}
}

// LintCA lints a CA certificate of the hierarchy with the TLS or code
// signing sources; it returns the lints that erred.
func (a *Authority) LintCA(der []byte, p Profile) ([]string, error) {
	_, err := a.lint.lint(der, a.lint.registry(p, false))
	if le, ok := err.(*LintError); ok {
		return le.Lints, nil
	}
	return nil, err
}
