package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/testutil"
)

// codeBody is the reference's code signing sample with overrides.
func codeBody(t *testing.T, overrides map[string]any) string {
	t.Helper()
	m := map[string]any{
		"validity": "1", "platform": "51",
		"org_name": "My Company", "org_addr1": "19 Windsor Court", "org_addr2": "", "org_city": "Tampa", "org_state": "FL",
		"org_zip": "33615", "org_country": "US", "telephone": "555-555-1234", "org_contact_firstname": "Gary",
		"org_contact_lastname": "McCoy", "org_contact_job_title": "CTO", "org_contact_email": "gm@example.com",
		"org_contact_telephone": "555-555-1234", "org_registration_number": "FL-123456",
	}
	for k, v := range overrides {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func codeCSR(t *testing.T) string {
	return testutil.CSR(t, testutil.Key(t, "rsa3072"), "")
}

func TestCodeSigningRules(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	ship := map[string]any{"ship_name": "Gary McCoy", "ship_addr1": "1 Dock", "ship_city": "Tampa", "ship_state": "FL", "ship_zip": "33615", "ship_country": "us"}
	with := func(base map[string]any, more map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range more {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name   string
		over   map[string]any
		status int
		codes  []string
	}{
		{"plain with csr", map[string]any{"csr": codeCSR(t)}, 201, nil},
		{"plain without csr", nil, 201, nil},
		{"every A.2 platform id string", map[string]any{"platform": "64"}, 201, nil},
		{"platform as number", map[string]any{"platform": 55}, 201, nil},
		{"platform missing", map[string]any{"platform": nil}, 400, []string{"required_param:platform"}},
		{"platform from the EV table", map[string]any{"platform": "2"}, 400, []string{"invalid_param:platform"}},
		{"platform not a number", map[string]any{"platform": "Authenticode"}, 400, []string{"invalid_param:platform"}},
		{"provisioning for non-EV", map[string]any{"cs_provisioning_method": "client_app"}, 400, []string{"invalid_param:cs_provisioning_method"}},
		{"ev without provisioning", map[string]any{"ev": "true", "platform": "2"}, 400, []string{"required_param:cs_provisioning_method"}},
		{"ev bad provisioning", map[string]any{"ev": "true", "platform": "2", "cs_provisioning_method": "mail"}, 400, []string{"invalid_param:cs_provisioning_method"}},
		{"ev client_app (the reference's sample)", map[string]any{"ev": "true", "platform": "2", "cs_provisioning_method": "client_app"}, 201, nil},
		{"ev client_app with an A.2 platform", map[string]any{"ev": "true", "platform": "51", "cs_provisioning_method": "client_app"}, 400, []string{"invalid_param:platform"}},
		{"ev client_app without platform", map[string]any{"ev": "true", "platform": nil, "cs_provisioning_method": "client_app"}, 400, []string{"required_param:platform"}},
		{"ev ship_token without platform or address", map[string]any{"ev": "true", "platform": nil, "cs_provisioning_method": "ship_token"}, 201, nil},
		{"ev ship_token with address and method", with(ship, map[string]any{"ev": true, "platform": nil, "cs_provisioning_method": "ship_token", "cs_ship_method": "expedited"}), 201, nil},
		{"ev ship_token partial address", map[string]any{"ev": true, "platform": nil, "cs_provisioning_method": "ship_token", "ship_name": "Gary", "ship_addr1": "1 Dock"},
			400, []string{"required_param:ship_city", "required_param:ship_state", "required_param:ship_zip", "required_param:ship_country"}},
		{"ship country unknown", with(ship, map[string]any{"ev": true, "platform": nil, "cs_provisioning_method": "ship_token", "ship_country": "zz"}), 400, []string{"invalid_param:ship_country"}},
		{"ship method without a token", map[string]any{"cs_ship_method": "standard"}, 400, []string{"invalid_param:cs_ship_method"}},
		{"ship method unknown", map[string]any{"ev": true, "platform": nil, "cs_provisioning_method": "ship_token", "cs_ship_method": "overnight"}, 400, []string{"invalid_param:cs_ship_method"}},
		{"ship address without a token", ship, 400, []string{"invalid_param:ship_name"}},
		{"csr with ship_token", map[string]any{"ev": true, "platform": nil, "cs_provisioning_method": "ship_token", "csr": codeCSR(t)}, 400, []string{"invalid_param:csr"}},
		{"csr with a 2048-bit key", map[string]any{"csr": testutil.CSR(t, testutil.Key(t, "rsa2048"), "")}, 400, []string{"invalid_param:csr"}},
		{"csr with P-256", map[string]any{"csr": testutil.CSR(t, testutil.Key(t, "p256"), "")}, 201, nil},
		{"telephone and title required", map[string]any{"telephone": nil, "org_contact_job_title": nil}, 400, []string{"required_param:telephone", "required_param:org_contact_job_title"}},
		{"validity", map[string]any{"validity": "4"}, 400, []string{"invalid_param:validity"}},
		{"organization required", map[string]any{"org_name": nil, "org_country": nil}, 400, []string{"required_param:org_name", "required_param:org_country"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/order/code", headers: jsonCT(), body: codeBody(t, tt.over)})
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.codes != nil {
				got, want := r.codes(t), append([]string(nil), tt.codes...)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("codes = %v, want %v", got, want)
				}
			}
		})
	}
}

func TestCodeSigningCertificates(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	ctx := context.Background()
	c := e.client()

	checkCode := func(t *testing.T, id string, ev bool) *x509.Certificate {
		t.Helper()
		cert, err := c.Certificate(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		leaf := parsePEMCert(t, cert.Certs.Certificate)
		inter := parsePEMCert(t, cert.Certs.Intermediate)
		roots, inters := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(parsePEMCert(t, cert.Certs.Root))
		inters.AddCert(inter)
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}); err != nil {
			t.Fatalf("verify for code signing: %v", err)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
			t.Fatal("a code signing certificate verifies for TLS")
		}
		testutil.OpenSSLVerifyPurpose(t, "", cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root)
		if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageCodeSigning || leaf.KeyUsage != x509.KeyUsageDigitalSignature {
			t.Errorf("usage = %v %v", leaf.ExtKeyUsage, leaf.KeyUsage)
		}
		if len(inter.ExtKeyUsage) != 1 || inter.ExtKeyUsage[0] != x509.ExtKeyUsageCodeSigning {
			t.Errorf("intermediate EKU = %v", inter.ExtKeyUsage)
		}
		if len(leaf.DNSNames) != 0 || leaf.Subject.CommonName != "My Company" || leaf.Subject.Organization[0] != "My Company" || leaf.Subject.Country[0] != "US" {
			t.Errorf("subject %v, names %v", leaf.Subject, leaf.DNSNames)
		}
		want := ca.OIDCodeSigning
		if ev {
			want = ca.OIDEVCodeSigning
		}
		checkPolicy(t, leaf, want)
		if life := leaf.NotAfter.Sub(leaf.NotBefore) + time.Second; life > 460*24*time.Hour {
			t.Errorf("lifetime %v over 460 days", life)
		}
		if !strings.HasSuffix(leaf.IssuingCertificateURL[0], "/ca/codesign-intermediate.crt") {
			t.Errorf("AIA = %v", leaf.IssuingCertificateURL)
		}
		return leaf
	}

	t.Run("with a csr, issued at once", func(t *testing.T) {
		id := e.do(req{method: "POST", path: "/order/code", headers: jsonCT(), body: codeBody(t, map[string]any{"csr": codeCSR(t), "validity": "3"})}).json(t)["order_id"].(string)
		leaf := checkCode(t, id, false)
		if life := leaf.NotAfter.Sub(leaf.NotBefore) + time.Second; life != 460*24*time.Hour {
			t.Errorf("lifetime %v, want the 460-day cap", life)
		}
		d := e.do(req{method: "GET", path: "/order/" + id}).json(t)["certificate_details"].(map[string]any)
		if d["product_name"] != "Code Signing" || d["status"] != "issued" {
			t.Errorf("details = %v", d)
		}
	})

	t.Run("client_app: the key arrives with REISSUE", func(t *testing.T) {
		id := e.do(req{method: "POST", path: "/order/code", headers: jsonCT(), body: codeBody(t, map[string]any{"ev": "true", "platform": "2", "cs_provisioning_method": "client_app"})}).json(t)["order_id"].(string)
		if r := e.do(req{method: "GET", path: "/order/" + id + "/certificate"}); r.status != 404 || r.codes(t)[0] != "cert_unavailable_processing" {
			t.Fatalf("before the key = %d %s", r.status, r.body)
		}
		if r := e.do(req{method: "REISSUE", path: "/order/" + id, headers: jsonCT(), body: `{}`}); r.status != 400 || r.codes(t)[0] != "required_param:csr" {
			t.Fatalf("REISSUE without csr = %d %s", r.status, r.body)
		}
		if r := e.do(req{method: "REISSUE", path: "/order/" + id, headers: jsonCT(), body: `{"csr":` + jsonString(testutil.CSR(t, testutil.Key(t, "rsa2048"), "")) + `}`}); r.status != 400 || r.codes(t)[0] != "invalid_param:csr" {
			t.Fatalf("REISSUE with a weak key = %d %s", r.status, r.body)
		}
		r := e.do(req{method: "POST", path: "/order/" + id, headers: map[string]string{"X-HTTP-Method-Override": "REISSUE", "Content-Type": "application/json"}, body: `{"csr":` + jsonString(codeCSR(t)) + `}`})
		if r.status != 200 {
			t.Fatalf("REISSUE with csr = %d %s", r.status, r.body)
		}
		checkCode(t, id, true)
		if d := e.do(req{method: "GET", path: "/order/" + id}).json(t)["certificate_details"].(map[string]any); d["product_name"] != "EV Code Signing" {
			t.Errorf("product = %v", d["product_name"])
		}
		// A later REISSUE is a rekey.
		before, _ := c.Certificate(ctx, id)
		if r := e.do(req{method: "REISSUE", path: "/order/" + id, headers: jsonCT(), body: `{"csr":` + jsonString(testutil.CSR(t, testutil.Key(t, "p384"), "")) + `}`}); r.status != 200 {
			t.Fatalf("rekey = %d %s", r.status, r.body)
		}
		after, _ := c.Certificate(ctx, id)
		if after.Serial == before.Serial {
			t.Fatal("rekey did not replace the certificate")
		}
		checkCode(t, id, true)
	})

	t.Run("ship_token: the operator provisions", func(t *testing.T) {
		id := e.do(req{method: "POST", path: "/order/code", headers: jsonCT(), body: codeBody(t, map[string]any{"ev": true, "platform": nil, "cs_provisioning_method": "ship_token"})}).json(t)["order_id"].(string)
		if r := e.do(req{method: "REISSUE", path: "/order/" + id, headers: jsonCT(), body: `{"csr":` + jsonString(codeCSR(t)) + `}`}); r.status != 400 || r.codes(t)[0] != "order_awaits_token" {
			t.Fatalf("REISSUE on a shipped token = %d %s", r.status, r.body)
		}
		o, err := e.srv.Data().DB.GetOrder(ctx, mustID(t, id))
		if err != nil {
			t.Fatal(err)
		}
		if cs := o.Extra.CodeSigning; cs == nil || cs.Ship.City != "Tampa" || cs.Ship.Name != "Gary McCoy" || cs.ShipMethod != "standard" {
			t.Fatalf("shipping details = %+v", o.Extra.CodeSigning)
		}
		if _, err := e.srv.Data().Orders.Provision(ctx, mustID(t, id), codeCSR(t)); err != nil {
			t.Fatal(err)
		}
		checkCode(t, id, true)
		if _, err := e.srv.Data().Orders.Provision(ctx, mustID(t, id), codeCSR(t)); err == nil {
			t.Fatal("provisioned twice")
		}
	})
}

// logoServer serves logos on loopback, as a Wi-Fi operator's web server.
func logoServer(t *testing.T) (*httptest.Server, map[string][]byte) {
	t.Helper()
	files := map[string][]byte{
		"/default.png": testutil.Image(t, "png", 96, 64),
		"/spanish.jpg": testutil.Image(t, "jpeg", 32, 32),
		"/german.gif":  testutil.Image(t, "gif", 16, 8),
		"/page.html":   []byte("<html>hello</html>"),
		"/huge.png":    bytes.Repeat([]byte{0x89}, 512<<10),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, files
}

func wifiBody(t *testing.T, logos string, overrides map[string]any) string {
	t.Helper()
	o := map[string]any{
		"default_logo_url": logos + "/default.png",
		"additional_logos": []map[string]any{{"language": "spa", "url": logos + "/spanish.jpg"}, {"language": "deu", "url": logos + "/german.gif"}},
		"friendly_names":   []map[string]any{{"language": "spa", "text": "Wifi Publica"}, {"language": "kor", "text": "공공 와이파이"}},
		"sans":             "hotspot.example.com",
	}
	for k, v := range overrides {
		o[k] = v
	}
	return orderBody(t, csrFor(t, "www.example.com"), o)
}

type hashAlgAndValue struct {
	Alg   struct{ Algorithm asn1.ObjectIdentifier }
	Value []byte
}

type logotypeImage struct {
	Details struct {
		MediaType string `asn1:"ia5"`
		Hash      []hashAlgAndValue
		URI       []string
	}
	Info struct {
		FileSize, XSize, YSize int
		Language               string `asn1:"optional,tag:4,ia5"`
	}
}

// parseLogotype decodes the RFC 3709 extension the way a relying party
// would: subjectLogo [2], direct [0] LogotypeData, its images.
func parseLogotype(t *testing.T, leaf *x509.Certificate) []logotypeImage {
	t.Helper()
	for _, ext := range leaf.Extensions {
		if !ext.Id.Equal(ca.OIDLogotype) {
			continue
		}
		var fields []asn1.RawValue
		if rest, err := asn1.Unmarshal(ext.Value, &fields); err != nil || len(rest) != 0 {
			t.Fatalf("logotype: %v", err)
		}
		if len(fields) != 1 || fields[0].Class != asn1.ClassContextSpecific || fields[0].Tag != 2 || !fields[0].IsCompound {
			t.Fatalf("logotype holds no subjectLogo [2]: %+v", fields)
		}
		var direct asn1.RawValue
		if rest, err := asn1.Unmarshal(fields[0].Bytes, &direct); err != nil || len(rest) != 0 {
			t.Fatalf("subjectLogo: %v", err)
		}
		if direct.Class != asn1.ClassContextSpecific || direct.Tag != 0 || !direct.IsCompound {
			t.Fatalf("subjectLogo is not the direct choice: %+v", direct)
		}
		seq, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: direct.Bytes})
		var data struct{ Images []logotypeImage }
		if _, err := asn1.Unmarshal(seq, &data); err != nil {
			t.Fatalf("LogotypeData: %v", err)
		}
		return data.Images
	}
	t.Fatal("no logotype extension")
	return nil
}

// friendlyNames decodes the subjectAltName's otherNames of type
// id-wfa-hotspot-friendlyName.
func friendlyNames(t *testing.T, leaf *x509.Certificate) []string {
	t.Helper()
	for _, ext := range leaf.Extensions {
		if !ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}) {
			continue
		}
		var names []asn1.RawValue
		if _, err := asn1.Unmarshal(ext.Value, &names); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range names {
			if n.Class != asn1.ClassContextSpecific || n.Tag != 0 {
				continue
			}
			seq, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: n.Bytes})
			var on struct {
				Type  asn1.ObjectIdentifier
				Value asn1.RawValue
			}
			if _, err := asn1.Unmarshal(seq, &on); err != nil {
				t.Fatalf("otherName: %v", err)
			}
			if on.Value.Class != asn1.ClassContextSpecific || on.Value.Tag != 0 || !on.Value.IsCompound {
				t.Fatalf("otherName value is not [0] EXPLICIT: %+v", on.Value)
			}
			var text asn1.RawValue
			if _, err := asn1.Unmarshal(on.Value.Bytes, &text); err != nil || text.Tag != asn1.TagUTF8String {
				t.Fatalf("otherName value is not a UTF8String: %+v %v", text, err)
			}
			if !on.Type.Equal(ca.OIDWFAHotspotFriendlyName) {
				t.Fatalf("otherName type %v", on.Type)
			}
			out = append(out, string(text.Bytes))
		}
		return out
	}
	t.Fatal("no subjectAltName")
	return nil
}

func TestWiFiCertificate(t *testing.T) {
	logos, files := logoServer(t)
	e := start(t, envOptions{sandbox: true, allowPrivateFetch: true})
	check := func(t *testing.T, id string) {
		t.Helper()
		cert, err := e.client().Certificate(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		leaf := verifyChain(t, cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root, "hotspot.example.com")
		if fmt.Sprint(leaf.DNSNames) != "[www.example.com hotspot.example.com]" {
			t.Errorf("DNS names = %v", leaf.DNSNames)
		}
		if got := friendlyNames(t, leaf); fmt.Sprint(got) != "[spaWifi Publica kor공공 와이파이]" {
			t.Errorf("friendly names = %q", got)
		}
		imgs := parseLogotype(t, leaf)
		want := []struct {
			path, media, lang string
			w, h              int
		}{{"/default.png", "image/png", "", 96, 64}, {"/spanish.jpg", "image/jpeg", "spa", 32, 32}, {"/german.gif", "image/gif", "deu", 16, 8}}
		if len(imgs) != len(want) {
			t.Fatalf("%d logos", len(imgs))
		}
		for i, w := range want {
			img := imgs[i]
			sum := sha256.Sum256(files[w.path])
			if img.Details.MediaType != w.media || img.Details.URI[0] != logos.URL+w.path || !bytes.Equal(img.Details.Hash[0].Value, sum[:]) ||
				!img.Details.Hash[0].Alg.Algorithm.Equal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}) ||
				img.Info.Language != w.lang || img.Info.XSize != w.w || img.Info.YSize != w.h || img.Info.FileSize != len(files[w.path]) {
				t.Errorf("logo %d = %+v", i, img)
			}
		}
	}

	t.Run("json", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/order/wfa", headers: jsonCT(), body: wifiBody(t, logos.URL, nil)})
		if r.status != 201 {
			t.Fatalf("POST /order/wfa = %d %s", r.status, r.body)
		}
		id := r.json(t)["order_id"].(string)
		check(t, id)
		if d := e.do(req{method: "GET", path: "/order/" + id}).json(t)["certificate_details"].(map[string]any); d["product_name"] != "Wi-Fi" {
			t.Errorf("product = %v", d["product_name"])
		}
		// A reissue keeps the Wi-Fi extensions.
		if r := e.do(req{method: "REISSUE", path: "/order/" + id}); r.status != 200 {
			t.Fatalf("reissue = %d", r.status)
		}
		check(t, id)
	})

	t.Run("xml", func(t *testing.T) {
		body := `<request><validity>1</validity><common_name>www.example.com</common_name><sans><san>hotspot.example.com</san></sans>
<csr>` + csrFor(t, "www.example.com") + `</csr><org_name>A</org_name><org_addr1>B</org_addr1><org_city>C</org_city><org_state>D</org_state>
<org_zip>1</org_zip><org_country>us</org_country><org_contact_firstname>E</org_contact_firstname><org_contact_lastname>F</org_contact_lastname>
<org_contact_email>e@example.com</org_contact_email><org_contact_telephone>555-123-1234</org_contact_telephone>
<default_logo_url>` + logos.URL + `/default.png</default_logo_url>
<additional_logos><additional_logo><language>spa</language><url>` + logos.URL + `/spanish.jpg</url></additional_logo><additional_logo><language>deu</language><url>` + logos.URL + `/german.gif</url></additional_logo></additional_logos>
<friendly_names><friendly_name><language>spa</language><text>Wifi Publica</text></friendly_name><friendly_name><language>kor</language><text>공공 와이파이</text></friendly_name></friendly_names>
</request>`
		r := e.do(req{method: "POST", path: "/order/wfa", headers: map[string]string{"Content-Type": "application/vnd.digicert.rest-v1+xml", "Accept": "application/json"}, body: body})
		if r.status != 201 {
			t.Fatalf("POST XML = %d %s", r.status, r.body)
		}
		check(t, r.json(t)["order_id"].(string))
	})

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name string
			over map[string]any
			code string
			text string
		}{
			{"logo missing", map[string]any{"default_logo_url": logos.URL + "/missing.png"}, "invalid_param:default_logo_url", "HTTP 404"},
			{"logo not an image", map[string]any{"default_logo_url": logos.URL + "/page.html"}, "invalid_param:default_logo_url", "not a PNG, JPEG or GIF"},
			{"logo too large", map[string]any{"default_logo_url": logos.URL + "/huge.png"}, "invalid_param:default_logo_url", "larger than"},
			{"logo not http", map[string]any{"default_logo_url": "ftp://example.com/x.png"}, "invalid_param:default_logo_url", "http or https"},
			{"additional logo missing", map[string]any{"additional_logos": []map[string]any{{"language": "spa", "url": logos.URL + "/nope.png"}}}, "invalid_param:additional_logos", "HTTP 404"},
			{"additional logo language", map[string]any{"additional_logos": []map[string]any{{"language": "xx", "url": logos.URL + "/spanish.jpg"}}}, "invalid_param:additional_logos", "ISO 639-2"},
			{"additional logo without url", map[string]any{"additional_logos": []map[string]any{{"language": "spa"}}}, "required_param:additional_logos", "url"},
			{"default logo required", map[string]any{"default_logo_url": ""}, "required_param:default_logo_url", ""},
			{"friendly names required", map[string]any{"friendly_names": []map[string]any{}}, "required_param:friendly_names", ""},
			{"friendly name language", map[string]any{"friendly_names": []map[string]any{{"language": "english", "text": "x"}}}, "invalid_param:friendly_names", ""},
			{"friendly name text", map[string]any{"friendly_names": []map[string]any{{"language": "eng", "text": ""}}}, "required_param:friendly_names", ""},
			{"friendly names not a list", map[string]any{"friendly_names": "Wifi"}, "invalid_param:friendly_names", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(req{method: "POST", path: "/order/wfa", headers: jsonCT(), body: wifiBody(t, logos.URL, tt.over)})
				if r.status != 400 || !slices.Contains(r.codes(t), tt.code) || !strings.Contains(string(r.body), tt.text) {
					t.Fatalf("= %d %s", r.status, r.body)
				}
			})
		}
	})
}

func TestWiFiLogoOnPrivateAddressRefused(t *testing.T) {
	logos, _ := logoServer(t)
	e := start(t, envOptions{sandbox: true})
	r := e.do(req{method: "POST", path: "/order/wfa", headers: jsonCT(), body: wifiBody(t, logos.URL, nil)})
	if r.status != 400 || r.codes(t)[0] != "invalid_param:default_logo_url" || !strings.Contains(string(r.body), "not a public internet address") {
		t.Fatalf("= %d %s", r.status, r.body)
	}
}

func TestCodeSigningXML(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	body := `<request><validity>2</validity><platform>2</platform><cs_provisioning_method>client_app</cs_provisioning_method>
<org_name>My Company</org_name><org_addr1>19 Windsor Court</org_addr1><org_addr2></org_addr2><org_city>Tampa</org_city>
<org_state>FL</org_state><org_zip>33615</org_zip><org_country>US</org_country><telephone>555-555-1234</telephone>
<org_contact_firstname>Gary</org_contact_firstname><org_contact_lastname>McCoy</org_contact_lastname>
<org_contact_job_title>CTO</org_contact_job_title><org_contact_email>gm@example.com</org_contact_email>
<org_contact_telephone>555-555-1234</org_contact_telephone><ev>true</ev><org_registration_number>FL-123456</org_registration_number>
<csr>` + codeCSR(t) + `</csr></request>`
	r := e.do(req{method: "POST", path: "/order/code", headers: map[string]string{"Content-Type": "application/vnd.digicert.rest-v1+xml"}, body: body})
	if r.status != 201 || !strings.Contains(string(r.body), "<order_id>") {
		t.Fatalf("XML code order = %d %s", r.status, r.body)
	}
	bad := strings.Replace(body, "<platform>2</platform>", "<platform>51</platform>", 1)
	r = e.do(req{method: "POST", path: "/order/code", headers: map[string]string{"Content-Type": "application/xml"}, body: bad})
	if r.status != 400 || !strings.Contains(string(r.body), "<code>invalid_param:platform</code>") {
		t.Fatalf("XML code order with an A.2 platform for EV = %d %s", r.status, r.body)
	}
}
