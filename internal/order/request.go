package order

import (
	"crypto/x509"
	"fmt"
	"strconv"
	"strings"

	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
)

// MaxNames is the most names (common name included) one order may carry.
const MaxNames = policy.MaxNamesPerOrder

// SSLRequest is a POST /order/ssl body as the edge decoded it: every scalar
// as the text the client sent (numbers and booleans rendered as text), so
// that this package alone decides what is valid.
type SSLRequest struct {
	CSR        string
	Validity   string
	CommonName string
	// SANs holds the names when the client sent the sans field at all
	// (SANsGiven); an empty string or empty list means "no extra names".
	SANs          []string
	SANsGiven     bool
	ServerType    string
	SignatureHash string
	EV            string
	Contact       store.Contact
	// DCVMethod is certd's extension: how the domains are validated.
	DCVMethod string
}

// checkedSSL is a validated SSLRequest.
type checkedSSL struct {
	csr           *x509.CertificateRequest
	csrPEM        string
	validity      int
	names         []string // common name first
	serverType    int
	signatureHash string
	ev            bool
	contact       store.Contact
	dcvMethod     string
}

// field limits, from RFC 5280 appendix A's X.520 upper bounds where the
// field lands in a certificate subject, and generous bounds elsewhere.
var textLimits = []struct {
	name string
	max  int
	get  func(*store.Contact) string
}{
	{"org_name", 64, func(c *store.Contact) string { return c.OrgName }},
	{"org_unit", 64, func(c *store.Contact) string { return c.OrgUnit }},
	{"org_addr1", 128, func(c *store.Contact) string { return c.OrgAddr1 }},
	{"org_addr2", 128, func(c *store.Contact) string { return c.OrgAddr2 }},
	{"org_city", 128, func(c *store.Contact) string { return c.OrgCity }},
	{"org_state", 128, func(c *store.Contact) string { return c.OrgState }},
	{"org_zip", 40, func(c *store.Contact) string { return c.OrgZip }},
	{"org_contact_job_title", 64, func(c *store.Contact) string { return c.JobTitle }},
	{"org_contact_firstname", 64, func(c *store.Contact) string { return c.FirstName }},
	{"org_contact_lastname", 64, func(c *store.Contact) string { return c.LastName }},
}

var requiredFields = []struct {
	name, label string
	get         func(*store.Contact) string
}{
	{"org_name", "Organization name", func(c *store.Contact) string { return c.OrgName }},
	{"org_addr1", "Organization address", func(c *store.Contact) string { return c.OrgAddr1 }},
	{"org_city", "Organization city", func(c *store.Contact) string { return c.OrgCity }},
	{"org_state", "Organization state", func(c *store.Contact) string { return c.OrgState }},
	{"org_zip", "Organization postal code", func(c *store.Contact) string { return c.OrgZip }},
	{"org_country", "Organization country", func(c *store.Contact) string { return c.OrgCountry }},
	{"org_contact_firstname", "Contact first name", func(c *store.Contact) string { return c.FirstName }},
	{"org_contact_lastname", "Contact last name", func(c *store.Contact) string { return c.LastName }},
	{"org_contact_email", "Contact email", func(c *store.Contact) string { return c.Email }},
	{"org_contact_telephone", "Contact telephone", func(c *store.Contact) string { return c.ContactPhone }},
}

// Rules are the configurable checks every order passes: the key policy
// and the name profile. The zero value is the strict default (goodkey
// rules without lists, the public name profile).
type Rules struct {
	Keys  policy.KeyPolicy
	Names policy.NameProfile
}

// CheckSSL validates r completely and returns every problem found.
func (s *Service) CheckSSL(r SSLRequest) error {
	_, err := s.rules.checkSSL(r)
	return err
}

func (rl Rules) checkSSL(r SSLRequest) (checkedSSL, error) {
	var ps problem.List
	var c checkedSSL
	c.contact = trimContact(r.Contact)

	ev, evOK := parseBool(r.EV)
	c.ev = ev

	var csrNames []string
	csrCN := ""
	if strings.TrimSpace(r.CSR) == "" {
		ps = append(ps, problem.Required("csr", "CSR is required."))
	} else if csr, pemText, err := rl.parseCSR(r.CSR); err != nil {
		ps = append(ps, err)
	} else {
		c.csr, c.csrPEM = csr, pemText
		csrCN = csr.Subject.CommonName
		csrNames = csr.DNSNames
		if rl.Names == policy.ProfilePrivate {
			// An internal PKI certifies the addresses a CSR asks for; the
			// public profile never does, so it ignores them.
			for _, ip := range csr.IPAddresses {
				csrNames = append(csrNames, ip.String())
			}
		}
	}

	max := 3
	if c.ev {
		max = 2
	}
	if p := checkValidity(r.Validity, max, &c.validity); p != nil {
		ps = append(ps, p)
	}

	cn := strings.TrimSpace(r.CommonName)
	if cn == "" {
		cn = csrCN
		if cn == "" && len(csrNames) > 0 {
			cn = csrNames[0]
		}
	}
	sans := csrNames
	if r.SANsGiven {
		sans = r.SANs
	}
	if cn == "" {
		if c.csr != nil || strings.TrimSpace(r.CSR) == "" {
			ps = append(ps, problem.Required("common_name", "Common name is required when the CSR names none."))
		}
	} else {
		names, nps := rl.checkNames(cn, sans, c.ev)
		ps = append(ps, nps...)
		c.names = names
	}

	c.serverType = parseServerType(r.ServerType)

	switch h := strings.ToLower(strings.TrimSpace(r.SignatureHash)); h {
	case "", "sha1", "sha256", "sha384", "sha512":
		// Certificates are always signed with SHA-256 or better; the
		// requested hash is recorded, and sha1 is upgraded.
		c.signatureHash = h
	default:
		ps = append(ps, problem.Invalid("signature_hash", "Signature hash must be sha1, sha256, sha384 or sha512."))
	}

	ps = append(ps, checkContact(&c.contact, c.ev)...)
	if m, p := checkDCVMethod(r.DCVMethod); p != nil {
		ps = append(ps, p)
	} else {
		c.dcvMethod = m
	}
	if !evOK {
		ps = append(ps, problem.Invalid("ev", "EV must be true or false."))
	}
	return c, ps.Err()
}

func trimContact(c store.Contact) store.Contact {
	for _, f := range []*string{&c.OrgName, &c.OrgUnit, &c.OrgAddr1, &c.OrgAddr2, &c.OrgCity, &c.OrgState, &c.OrgZip,
		&c.OrgCountry, &c.Telephone, &c.JobTitle, &c.FirstName, &c.LastName, &c.Email, &c.ContactPhone, &c.ContactExt,
		&c.RegistrationNumber, &c.BusinessCategory, &c.JurisdictionCountry} {
		*f = strings.TrimSpace(*f)
	}
	c.OrgCountry = strings.ToLower(c.OrgCountry)
	c.JurisdictionCountry = strings.ToLower(c.JurisdictionCountry)
	return c
}

func checkContact(c *store.Contact, ev bool) problem.List {
	var ps problem.List
	for _, f := range requiredFields {
		if f.get(c) == "" {
			ps = append(ps, problem.Required(f.name, f.label+" is required."))
		}
	}
	if ev {
		if c.Telephone == "" {
			ps = append(ps, problem.Required("telephone", "Organization telephone is required for EV orders."))
		}
		if c.JobTitle == "" {
			ps = append(ps, problem.Required("org_contact_job_title", "Contact job title is required for EV orders."))
		}
		ps = append(ps, checkEVSubject(c)...)
	} else {
		c.RegistrationNumber, c.BusinessCategory, c.JurisdictionCountry = "", "", ""
	}
	for _, f := range textLimits {
		if v := f.get(c); v != "" && !policy.ValidText(v, f.max) {
			ps = append(ps, problem.Invalid(f.name, fmt.Sprintf("Must be at most %d characters of text without control characters.", f.max)))
		}
	}
	if c.OrgCountry != "" && !policy.ValidCountry(c.OrgCountry) {
		ps = append(ps, problem.Invalid("org_country", "Organization country must be a two-letter country code from the API's country list, such as us."))
	}
	if c.Email != "" && !policy.ValidEmail(c.Email) {
		ps = append(ps, problem.Invalid("org_contact_email", "Contact email must be a valid email address."))
	}
	if c.ContactPhone != "" && !policy.ValidPhone(c.ContactPhone) {
		ps = append(ps, problem.Invalid("org_contact_telephone", "Contact telephone must be a phone number: digits with spaces, hyphens, dots or parentheses."))
	}
	if c.Telephone != "" && !policy.ValidPhone(c.Telephone) {
		ps = append(ps, problem.Invalid("telephone", "Telephone must be a phone number: digits with spaces, hyphens, dots or parentheses."))
	}
	if c.ContactExt != "" && !policy.ValidPhoneExtension(c.ContactExt) {
		ps = append(ps, problem.Invalid("org_contact_telephone_ext", "Contact telephone extension must be 1 to 10 digits."))
	}
	return ps
}

// EV business categories (EV Guidelines 7.1.4.2.3).
var businessCategories = []string{"Private Organization", "Government Entity", "Business Entity", "Non-Commercial Entity"}

// checkEVSubject applies EV Guidelines 7.1.4.2: an EV certificate names
// the organization's registration number (serialNumber), its business
// category and its jurisdiction's country. These are certd's extension
// fields of the v1 API; the category defaults to Private Organization and
// the jurisdiction to the organization's country.
func checkEVSubject(c *store.Contact) problem.List {
	var ps problem.List
	if c.RegistrationNumber == "" {
		ps = append(ps, problem.Required("org_registration_number", "EV orders need the organization's registration number (org_registration_number)."))
	} else if !policy.ValidText(c.RegistrationNumber, 64) {
		ps = append(ps, problem.Invalid("org_registration_number", "Must be at most 64 characters of text without control characters."))
	}
	if c.BusinessCategory == "" {
		c.BusinessCategory = businessCategories[0]
	} else {
		found := false
		for _, b := range businessCategories {
			if strings.EqualFold(b, c.BusinessCategory) {
				c.BusinessCategory, found = b, true
			}
		}
		if !found {
			ps = append(ps, problem.Invalid("org_business_category", "Business category must be one of "+strings.Join(businessCategories, ", ")+"."))
		}
	}
	if c.JurisdictionCountry == "" {
		c.JurisdictionCountry = c.OrgCountry
	} else if !policy.ValidCountry(c.JurisdictionCountry) {
		ps = append(ps, problem.Invalid("org_jurisdiction_country", "Jurisdiction country must be a two-letter country code."))
	}
	return ps
}

// checkNames normalizes the common name and SANs into one list, common
// name first, without duplicates.
func (rl Rules) checkNames(cn string, sans []string, ev bool) ([]string, problem.List) {
	var ps problem.List
	ncn, _, err := rl.Names.Normalize(cn)
	if err != nil {
		ps = append(ps, problem.Invalid("common_name", fmt.Sprintf("Common name %q cannot be certified: %v.", truncate(cn, 80), err)))
	} else if len(ncn) > 64 {
		// RFC 5280 appendix A: ub-common-name is 64.
		ps = append(ps, problem.Invalid("common_name", "Common name must be at most 64 characters; put longer names in sans."))
	}
	names := []string{ncn}
	seen := map[string]bool{ncn: true}
	for _, s := range sans {
		if strings.TrimSpace(s) == "" {
			continue
		}
		n, _, err := rl.Names.Normalize(s)
		if err != nil {
			ps = append(ps, problem.Invalid("sans", fmt.Sprintf("SAN %q cannot be certified: %v.", truncate(s, 80), err)))
			continue
		}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	if len(names) > MaxNames {
		ps = append(ps, problem.Invalid("sans", fmt.Sprintf("An order may name at most %d domains, this one names %d.", MaxNames, len(names))))
	}
	if ev {
		for _, n := range names {
			if strings.HasPrefix(n, "*.") {
				// EV Guidelines section 9.8.1: no wildcards in EV certificates.
				ps = append(ps, problem.Invalid("sans", "EV certificates cannot contain wildcard names."))
				break
			}
		}
	}
	return names, ps
}

func (rl Rules) parseCSR(text string) (*x509.CertificateRequest, string, *problem.Problem) {
	return rl.parseCSRFor(ProductSSL, text)
}

// parseCSRFor parses a CSR and applies the key policy of the product's
// certificate profile.
func (rl Rules) parseCSRFor(product, text string) (*x509.CertificateRequest, string, *problem.Problem) {
	csr, err := policy.ParseCSR(text)
	if err != nil {
		return nil, "", problem.Invalid("csr", fmt.Sprintf("The CSR cannot be used: %v.", err))
	}
	keys := rl.Keys
	if product == ProductCode {
		keys.MinRSABits = 3072 // Code Signing BRs section 6.1.5
	}
	if err := keys.Check(csr.PublicKey); err != nil {
		return nil, "", problem.Invalid("csr", fmt.Sprintf("The CSR's key is not allowed: %v.", err))
	}
	// The key is judged first: a weak key is refused for what it is,
	// whatever its signature.
	if err := policy.CheckCSRSignature(csr); err != nil {
		return nil, "", problem.Invalid("csr", fmt.Sprintf("The CSR cannot be used: %v.", err))
	}
	return csr, csrPEM(csr.Raw), nil
}

// checkValidity reads a term of 1 to max whole years into dst.
func checkValidity(v string, max int, dst *int) *problem.Problem {
	v = strings.TrimSpace(v)
	if v == "" {
		return problem.Required("validity", "Validity is required.")
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return problem.Invalid("validity", fmt.Sprintf("Validity must be a whole number of years from 1 to %d.", max))
	}
	*dst = n
	return nil
}

// maxValidity is the longest term, in years, a product may be ordered for.
func maxValidity(product string, ev bool) int {
	if ev && product != ProductCode {
		return 2
	}
	return 3
}

// ServerTypeOf is the server type id that a submitted server_type value
// stands for.
func ServerTypeOf(s string) int { return parseServerType(s) }

// BoolOf reads a submitted boolean as the service does (false when
// invalid).
func BoolOf(s string) bool {
	b, _ := parseBool(s)
	return b
}

// parseServerType follows the reference: an absent or unknown value is -1
// (OTHER). Numbers may arrive as "2", "2.0" or "-1", and one real client
// sent the name ("Apache").
func parseServerType(s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return -1
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		n := int(f)
		if float64(n) == f {
			if _, ok := policy.ServerTypeName(n); ok {
				return n
			}
		}
		return -1
	}
	if id, ok := policy.ServerTypeByName(s); ok {
		return id
	}
	return -1
}

// parseBool accepts what clients send for a boolean: true/false in any
// case, 1/0, yes/no; empty means false.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "0", "no":
		return false, true
	case "true", "1", "yes":
		return true, true
	}
	return false, false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
