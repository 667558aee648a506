package server_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/testutil"
)

var datePattern = regexp.MustCompile(`^\d{2}-(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)-\d{4}$`)

func TestOrderFlowJSON(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	r := e.do(req{method: "POST", path: "/order/ssl", headers: jsonCT(),
		body: orderBody(t, csrFor(t, "www.example.com"), map[string]any{"sans": "a.example.com, b.example.com"})})
	if r.status != http.StatusCreated {
		t.Fatalf("POST /order/ssl = %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.digicert.rest-v1+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	id := r.json(t)["order_id"].(string)
	if !regexp.MustCompile(`^\d{8}$`).MatchString(id) {
		t.Fatalf("order_id %q is not 8 digits", id)
	}

	r = e.do(req{method: "GET", path: "/order/" + strings.TrimLeft(id, "0")})
	if r.status != http.StatusOK {
		t.Fatalf("GET order = %d %s", r.status, r.body)
	}
	if r.header.Get("Etag") == "" {
		t.Error("GET order has no ETag")
	}
	details := r.json(t)["certificate_details"].(map[string]any)
	for _, key := range []string{"order_id", "status", "product_name", "validity", "org_unit", "common_name", "sans",
		"order_date", "valid_from", "valid_till", "server_type", "server_type_name", "site_seal_token", "is_renewal", "renewed_order_id", "business_unit"} {
		if _, ok := details[key]; !ok {
			t.Errorf("certificate_details lacks %q", key)
		}
	}
	want := map[string]any{"order_id": id, "status": "issued", "validity": "2 Year(s)", "common_name": "www.example.com",
		"server_type": "2", "server_type_name": "Apache", "product_name": "Unified Communications", "org_unit": ""}
	for k, v := range want {
		if details[k] != v {
			t.Errorf("%s = %v, want %v", k, details[k], v)
		}
	}
	if sans := details["sans"].([]any); len(sans) != 2 || sans[0] != "a.example.com" || sans[1] != "b.example.com" {
		t.Errorf("sans = %v", sans)
	}
	for _, k := range []string{"order_date", "valid_from", "valid_till"} {
		if !datePattern.MatchString(details[k].(string)) {
			t.Errorf("%s = %q, not like 03-FEB-2012", k, details[k])
		}
	}
	if len(details["site_seal_token"].(string)) != 8 {
		t.Errorf("site_seal_token = %q", details["site_seal_token"])
	}
	if rc, ok := r.json(t)["receipt"].(map[string]any); !ok || rc["order_total"] != "0.00" {
		t.Errorf("receipt = %v", r.json(t)["receipt"])
	}

	r = e.do(req{method: "GET", path: "/order/" + id + "/certificate"})
	if r.status != http.StatusOK {
		t.Fatalf("GET certificate = %d %s", r.status, r.body)
	}
	body := string(r.body)
	keys := []string{`"certificate"`, `"intermediate"`, `"root"`, `"pkcs7"`}
	for i := 1; i < len(keys); i++ {
		if strings.Index(body, keys[i-1]) > strings.Index(body, keys[i]) {
			t.Errorf("certs keys out of order: %s before %s", keys[i], keys[i-1])
		}
	}
	m := r.json(t)
	certs := m["certs"].(map[string]any)
	for _, k := range []string{"certificate", "intermediate", "root", "pkcs7"} {
		if s, _ := certs[k].(string); !strings.HasSuffix(s, "-----\n") {
			t.Errorf("%s does not end with a newline", k)
		}
	}
	leaf := verifyChain(t, certs["certificate"].(string), certs["intermediate"].(string), certs["root"].(string), "www.example.com")
	serial := m["serial"].(string)
	if serial != fmt.Sprintf("%X", leaf.SerialNumber.Bytes()) || len(serial) != 32 {
		t.Errorf("serial %q does not match certificate %X", serial, leaf.SerialNumber)
	}
	checkLeaf(t, leaf, e, []string{"www.example.com", "a.example.com", "b.example.com"})
	if leaf.Subject.Organization[0] != "Tampa Bay Cray LLC" || leaf.Subject.Country[0] != "US" || leaf.Subject.Province[0] != "FL" || leaf.Subject.Locality[0] != "Tampa" {
		t.Errorf("subject = %v", leaf.Subject)
	}
	checkPolicy(t, leaf, ca.OIDOrganizationValidated)
	checkPKCS7(t, certs["pkcs7"].(string), 3)
}

// checkLeaf checks what every TLS certificate from certd must have.
func checkLeaf(t *testing.T, leaf *x509.Certificate, e *env, names []string) {
	t.Helper()
	if strings.Join(leaf.DNSNames, ",") != strings.Join(names, ",") {
		t.Errorf("DNSNames = %v, want %v", leaf.DNSNames, names)
	}
	if leaf.Subject.CommonName != names[0] {
		t.Errorf("CN = %q", leaf.Subject.CommonName)
	}
	if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || len(leaf.UnknownExtKeyUsage) != 0 {
		t.Errorf("EKU = %v %v, want serverAuth only", leaf.ExtKeyUsage, leaf.UnknownExtKeyUsage)
	}
	if leaf.IsCA || len(leaf.SubjectKeyId) == 0 || len(leaf.AuthorityKeyId) == 0 {
		t.Errorf("IsCA=%v SKI=%x AKI=%x", leaf.IsCA, leaf.SubjectKeyId, leaf.AuthorityKeyId)
	}
	pki := strings.Replace(e.url, "https://", "http://", 1)
	if len(leaf.IssuingCertificateURL) != 1 || leaf.IssuingCertificateURL[0] != pki+"/ca/intermediate.crt" {
		t.Errorf("AIA = %v", leaf.IssuingCertificateURL)
	}
	if len(leaf.CRLDistributionPoints) != 1 || leaf.CRLDistributionPoints[0] != pki+"/crl/intermediate.crl" {
		t.Errorf("CRL DP = %v", leaf.CRLDistributionPoints)
	}
	if len(leaf.Subject.OrganizationalUnit) != 0 {
		t.Errorf("OU in a subscriber certificate: %v", leaf.Subject.OrganizationalUnit)
	}
	if leaf.SerialNumber.Sign() <= 0 || leaf.SerialNumber.BitLen() < 64 {
		t.Errorf("serial %x too small", leaf.SerialNumber)
	}
	if leaf.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("signature algorithm = %v", leaf.SignatureAlgorithm)
	}
	maxDays := ca.MaxLifetimeDays(time.Now())
	if life := leaf.NotAfter.Sub(leaf.NotBefore) + time.Second; life > time.Duration(maxDays)*24*time.Hour {
		t.Errorf("lifetime %v exceeds %d days", life, maxDays)
	}
	// The AIA location must serve the intermediate.
	resp, err := e.http.Get(leaf.IssuingCertificateURL[0])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pkix-cert" {
		t.Errorf("AIA fetch = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func checkPolicy(t *testing.T, leaf *x509.Certificate, want asn1.ObjectIdentifier) {
	t.Helper()
	for _, p := range leaf.Policies {
		if p.String() == want.String() {
			return
		}
	}
	t.Errorf("policies = %v, want %v", leaf.Policies, want)
}

func checkPKCS7(t *testing.T, p7 string, n int) {
	t.Helper()
	if !strings.HasPrefix(p7, "-----BEGIN PKCS7-----\n") {
		t.Fatalf("pkcs7 is not a PEM PKCS7: %.40q", p7)
	}
	if !testutil.HaveOpenSSL() {
		return
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p7.pem"), []byte(p7), 0o600); err != nil {
		t.Fatal(err)
	}
	out := testutil.OpenSSL(t, dir, "pkcs7", "-in", "p7.pem", "-print_certs", "-noout")
	if got := strings.Count(out, "subject="); got != n {
		t.Errorf("pkcs7 holds %d certificates, want %d:\n%s", got, n, out)
	}
}

func TestOrderFlowXML(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	csr := csrFor(t, "www.example.com")
	body := `<?xml version="1.0" encoding="UTF-8"?>
<request>
  <server_type>2</server_type><validity>1</validity><common_name>www.example.com</common_name>
  <sans><san>a.example.com</san></sans>
  <org_name>Tampa Bay Cray LLC</org_name><org_addr1>1234 Sesame Street</org_addr1><org_city>Tampa</org_city>
  <org_state>FL</org_state><org_zip>33615</org_zip><org_country>us</org_country>
  <org_contact_firstname>Joe</org_contact_firstname><org_contact_lastname>Bloggs</org_contact_lastname>
  <org_contact_email>joe@example.com</org_contact_email><org_contact_telephone>555-123-1234</org_contact_telephone>
  <csr>` + csr + `</csr>
</request>`
	r := e.do(req{method: "POST", path: "/order/ssl", body: body, headers: map[string]string{"Content-Type": "application/vnd.digicert.rest-v1+xml"}})
	if r.status != http.StatusCreated || r.header.Get("Content-Type") != "application/vnd.digicert.rest-v1+xml" {
		t.Fatalf("POST XML = %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var created struct {
		XMLName xml.Name `xml:"response"`
		OrderID string   `xml:"order_id"`
	}
	if err := xml.Unmarshal(r.body, &created); err != nil || len(created.OrderID) != 8 {
		t.Fatalf("created = %+v, %v: %s", created, err, r.body)
	}

	xmlAccept := map[string]string{"Accept": "application/vnd.digicert.rest-v1+xml"}
	r = e.do(req{method: "GET", path: "/order/" + created.OrderID, headers: xmlAccept})
	var view struct {
		Details struct {
			OrderID  string   `xml:"order_id"`
			Status   string   `xml:"status"`
			Validity string   `xml:"validity"`
			SANs     []string `xml:"sans>san"`
		} `xml:"certificate_details"`
		Receipt struct {
			Total string `xml:"order_total"`
		} `xml:"receipt"`
	}
	if err := xml.Unmarshal(r.body, &view); err != nil {
		t.Fatalf("GET XML: %v: %s", err, r.body)
	}
	if view.Details.Status != "issued" || view.Details.Validity != "1 Year(s)" || len(view.Details.SANs) != 1 || view.Details.SANs[0] != "a.example.com" || view.Receipt.Total != "0.00" {
		t.Errorf("XML view = %+v", view)
	}

	r = e.do(req{method: "GET", path: "/order/" + created.OrderID + "/certificate", headers: xmlAccept})
	var cert struct {
		OrderID string `xml:"order_id"`
		Serial  string `xml:"serial"`
		Certs   struct {
			Certificate  string `xml:"certificate"`
			Intermediate string `xml:"intermediate"`
			Root         string `xml:"root"`
			PKCS7        string `xml:"pkcs7"`
		} `xml:"certs"`
	}
	if err := xml.Unmarshal(r.body, &cert); err != nil {
		t.Fatalf("certificate XML: %v: %s", err, r.body)
	}
	verifyChain(t, cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root, "a.example.com")
	checkPKCS7(t, cert.Certs.PKCS7, 3)
}

func TestPendingUntilApproved(t *testing.T) {
	e := start(t, envOptions{})
	id := e.placeOrder(nil)
	o, err := e.client().Order(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if o.CertificateDetails.Status != "pending issuance" || o.Receipt != nil || o.CertificateDetails.ValidFrom != "" {
		t.Errorf("pending order = %+v", o)
	}
	r := e.do(req{method: "GET", path: "/order/" + id + "/certificate"})
	if r.status != http.StatusNotFound {
		t.Fatalf("certificate before issuance = %d", r.status)
	}
	if !strings.Contains(string(r.body), `"code":"cert_unavailable_processing","description":"Unable to download certificate, the certificate has not yet been issued.  Try back in a bit."`) {
		t.Errorf("body = %s", r.body)
	}
	if r.header.Get("Content-Type") != "application/vnd.digicert.error+json" {
		t.Errorf("error Content-Type = %q", r.header.Get("Content-Type"))
	}

	n := mustID(t, id)
	if _, err := e.srv.Data().Orders.Approve(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	cert, err := e.client().WaitForCertificate(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	verifyChain(t, cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root, "www.example.com")
	if _, err := e.srv.Data().Orders.Approve(context.Background(), n); !errors.Is(err, order.ErrNothingToApprove) {
		t.Fatalf("second approve: %v", err)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}

func TestReissue(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	c := e.client()
	ctx := context.Background()
	id := e.placeOrder(map[string]any{"sans": "a.example.com,x.example.com"})
	before, err := c.Certificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	newCSR := testutil.CSR(t, testutil.Key(t, "p256-reissue"), "www.example.com")

	t.Run("literal method", func(t *testing.T) {
		res, err := c.Reissue(ctx, id, client.ReissueRequest{CSR: newCSR, SANs: []string{"a.example.com", "c.example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(res.PendingNameChanges.AddedNames, ",") != "c.example.com" || strings.Join(res.PendingNameChanges.DroppedNames, ",") != "x.example.com" {
			t.Errorf("name changes = %+v", res.PendingNameChanges)
		}
		after, err := c.Certificate(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if after.Serial == before.Serial {
			t.Fatal("reissue did not replace the certificate")
		}
		leaf := verifyChain(t, after.Certs.Certificate, after.Certs.Intermediate, after.Certs.Root, "c.example.com")
		if strings.Join(leaf.DNSNames, ",") != "www.example.com,a.example.com,c.example.com" {
			t.Errorf("names = %v", leaf.DNSNames)
		}
		newKey := testutil.Key(t, "p256-reissue").Public().(interface{ Equal(crypto.PublicKey) bool })
		if !newKey.Equal(leaf.PublicKey) {
			t.Error("reissued certificate does not carry the new key")
		}
		// The old certificate stays on record.
		old, err := e.srv.Data().DB.GetCertificate(ctx, before.Serial)
		if err != nil || old.Status != store.CertIssued || len(old.DER) == 0 {
			t.Errorf("old certificate record = %+v, %v", old.Status, err)
		}
	})

	t.Run("method override", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/order/" + id, body: `{"comments":"","common_name":"www.example.com","sans":"a.example.com,b.example.com"}`,
			headers: map[string]string{"Content-Type": "application/vnd.digicert.rest-v1+json", "X-HTTP-Method-Override": "REISSUE"}})
		if r.status != http.StatusOK {
			t.Fatalf("override REISSUE = %d %s", r.status, r.body)
		}
		changes := r.json(t)["pending_name_changes"].(map[string]any)
		if changes["added_names"].([]any)[0] != "b.example.com" || changes["dropped_names"].([]any)[0] != "c.example.com" {
			t.Errorf("changes = %v", changes)
		}
	})

	t.Run("empty body rekeys nothing but reissues", func(t *testing.T) {
		r := e.do(req{method: "REISSUE", path: "/order/" + id})
		if r.status != http.StatusOK {
			t.Fatalf("REISSUE without body = %d %s", r.status, r.body)
		}
	})

	t.Run("bad csr", func(t *testing.T) {
		r := e.do(req{method: "REISSUE", path: "/order/" + id, body: `{"csr":"nope"}`, headers: jsonCT()})
		if r.status != 400 || r.codes(t)[0] != "invalid_param:csr" {
			t.Fatalf("= %d %s", r.status, r.body)
		}
	})
}

func TestReissuePendingAndRejected(t *testing.T) {
	e := start(t, envOptions{})
	ctx := context.Background()
	c := e.client()
	id := e.placeOrder(map[string]any{"sans": "a.example.com"})

	r := e.do(req{method: "REISSUE", path: "/order/" + id, body: `{"sans":"b.example.com"}`, headers: jsonCT()})
	if r.status != 400 || r.codes(t)[0] != "order_not_issued" {
		t.Fatalf("reissue of pending order = %d %s", r.status, r.body)
	}
	if _, err := e.srv.Data().Orders.Approve(ctx, mustID(t, id)); err != nil {
		t.Fatal(err)
	}
	first, err := c.Reissue(ctx, id, client.ReissueRequest{SANs: []string{"q.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if first.RejectedReissue != nil {
		t.Errorf("first reissue rejected %+v", first.RejectedReissue)
	}
	o, err := c.Order(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if o.PendingReissue == nil || strings.Join(o.PendingReissue.SANs, ",") != "q.example.com" || o.CertificateDetails.Status != "issued" {
		t.Fatalf("order with pending reissue = %+v %+v", o.CertificateDetails, o.PendingReissue)
	}
	second, err := c.Reissue(ctx, id, client.ReissueRequest{SANs: []string{"r.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if second.RejectedReissue == nil || strings.Join(second.RejectedReissue.SANs, ",") != "q.example.com" || second.RejectedReissue.CommonName != "www.example.com" {
		t.Fatalf("rejected_reissue = %+v", second.RejectedReissue)
	}
	if _, err := e.srv.Data().Orders.Approve(ctx, mustID(t, id)); err != nil {
		t.Fatal(err)
	}
	cert, err := c.Certificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	leaf := verifyChain(t, cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root, "r.example.com")
	if strings.Join(leaf.DNSNames, ",") != "www.example.com,r.example.com" {
		t.Errorf("names = %v", leaf.DNSNames)
	}
	o, _ = c.Order(ctx, id)
	if o.PendingReissue != nil {
		t.Errorf("pending reissue left after issuance: %+v", o.PendingReissue)
	}
}

func TestReissueXML(t *testing.T) {
	e := start(t, envOptions{})
	id := e.placeOrder(map[string]any{"sans": "a.example.com,x.example.com"})
	if _, err := e.srv.Data().Orders.Approve(context.Background(), mustID(t, id)); err != nil {
		t.Fatal(err)
	}
	xmlCT := map[string]string{"Content-Type": "application/vnd.digicert.rest-v1+xml"}
	send := func(sans string) reissueXML {
		t.Helper()
		r := e.do(req{method: "REISSUE", path: "/order/" + id, headers: xmlCT,
			body: `<request><comments>rotate</comments><sans>` + sans + `</sans><csr>` + testutil.CSR(t, testutil.Key(t, "p384"), "www.example.com") + `</csr></request>`})
		if r.status != 200 || r.header.Get("Content-Type") != "application/vnd.digicert.rest-v1+xml" {
			t.Fatalf("REISSUE XML = %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		var v reissueXML
		if err := xml.Unmarshal(r.body, &v); err != nil {
			t.Fatalf("%v: %s", err, r.body)
		}
		return v
	}
	first := send(`<san>a.example.com</san><san>c.example.com</san><san>d.example.com</san>`)
	if strings.Join(first.Added, ",") != "c.example.com,d.example.com" || strings.Join(first.Dropped, ",") != "x.example.com" || first.Rejected != nil {
		t.Errorf("first = %+v", first)
	}
	second := send(`f.example.com`)
	if second.Rejected == nil || strings.Join(second.Rejected.SANs, ",") != "a.example.com,c.example.com,d.example.com" {
		t.Errorf("second = %+v", second)
	}
	r := e.do(req{method: "GET", path: "/order/" + id, headers: map[string]string{"Accept": "application/xml"}})
	if !strings.Contains(string(r.body), "<pending_reissue><common_name>www.example.com</common_name><sans><san>f.example.com</san></sans></pending_reissue>") {
		t.Errorf("pending reissue in XML: %s", r.body)
	}
}

type reissueXML struct {
	Added    []string `xml:"pending_name_changes>added_names>added_name"`
	Dropped  []string `xml:"pending_name_changes>dropped_names>dropped_name"`
	Rejected *struct {
		CommonName string   `xml:"common_name"`
		SANs       []string `xml:"sans>san"`
	} `xml:"rejected_reissue"`
}
