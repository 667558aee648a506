package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/server"
)

// floorServer answers the load generator's two requests with the
// certificate work certd cannot do without and nothing else: the CSR's
// parse and proof of possession, the CA's build and lint of the
// certificate, its signature and the check of that signature, and the
// certificate, chain and PKCS#7 bundle as the v1 API returns them, over
// HTTPS (HTTP/1.1) with a P-256 listener key like certd's. No storage, audit,
// authentication, validation rules or logging: what it achieves bounds
// what any certd could achieve on the same machine with the same load
// generator beside it.
type floorServer struct {
	authority *ca.Authority
	next      atomic.Int64
	issued    sync.Map // order id -> DER
}

func (f *floorServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/order/ssl":
		var req client.OrderSSLRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		der, err := f.issue(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id := f.next.Add(1)
		f.issued.Store(id, der)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "order_id": strconv.FormatInt(id, 10)})
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/certificate"):
		id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/order/"), "/certificate"), 10, 64)
		v, ok := f.issued.Load(id)
		if !ok {
			http.NotFound(w, r)
			return
		}
		der := v.([]byte)
		var out client.Certificate
		out.OrderID, out.Serial = strconv.FormatInt(id, 10), "0"
		out.Certs.Certificate = ca.PEM(der)
		out.Certs.Intermediate = f.authority.IssuerPEM(ca.ProfileTLS)
		out.Certs.Root = f.authority.RootPEM()
		p7, err := ca.PKCS7PEM(der, f.authority.Intermediate().Raw, f.authority.Root().Raw)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out.Certs.PKCS7 = p7
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	default:
		http.NotFound(w, r)
	}
}

// issue is the CA's share of an issuance: CSR proof of possession,
// build and lint, signature and its check.
func (f *floorServer) issue(req client.OrderSSLRequest) ([]byte, error) {
	csr, err := policy.ParseCSR(req.CSR)
	if err != nil {
		return nil, err
	}
	if err := policy.CheckCSRSignature(csr); err != nil {
		return nil, err
	}
	p, err := f.authority.Prepare(ca.Request{
		Profile: ca.ProfileTLS, PublicKey: csr.PublicKey, CommonName: req.CommonName, DNSNames: []string{req.CommonName},
		Organization: req.OrgName, Locality: req.OrgCity, Province: req.OrgState, Country: req.OrgCountry, Now: time.Now(),
	})
	if err != nil {
		return nil, err
	}
	return f.authority.Sign(p)
}

// startFloor serves a floorServer over HTTPS and returns its URL and the
// file of the root its listener certificate chains to.
func startFloor(t testing.TB) (url, rootFile string) {
	t.Helper()
	dir := t.TempDir()
	a, _, err := ca.Open(ca.Options{Dir: filepath.Join(dir, "ca"), PublicURL: "https://ca.test", PKIURL: "http://ca.test", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	rootFile = filepath.Join(dir, "listener.pem")
	if err := os.WriteFile(rootFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(&floorServer{authority: a})
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	// HTTP/1.1 with keep-alive, as certd serves its API (its listener
	// sniffs TLS from plain HTTP and does not offer h2).
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts.URL, rootFile
}

// TestFloorServer checks that the floor is a fair one: the load
// generator gets real certificates from it, signed by its CA.
func TestFloorServer(t *testing.T) {
	url, rootFile := startFloor(t)
	var out strings.Builder
	if err := run([]string{"--url", url, "--ca-file", rootFile, "--account", "1", "--key", "k", "-c", "2", "-n", "6", "--pool", "3", "--json"}, &out, io.Discard); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	var rep Report
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Issued != 6 || len(rep.Errors) != 0 {
		t.Fatalf("report %+v", rep)
	}
	// What it answers is a certificate for the CSR's key and name that
	// chains to the root it returns.
	hc, err := httpClient(config{caFile: rootFile, clients: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(url, "1", "k")
	c.HTTPClient = hc
	csr, err := newCSR("floor.example.com")
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.OrderSSL(context.Background(), order(csr, "floor.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Certificate(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	parse := func(text string) *x509.Certificate {
		b, _ := pem.Decode([]byte(text))
		if b == nil {
			t.Fatalf("no PEM in %q", text)
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	leaf, roots, inters := parse(got.Certs.Certificate), x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(parse(got.Certs.Root))
	inters.AddCert(parse(got.Certs.Intermediate))
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, DNSName: "floor.example.com"}); err != nil {
		t.Fatalf("the floor's certificate does not verify: %v", err)
	}
	req, err := policy.ParseCSR(csr)
	if err != nil {
		t.Fatal(err)
	}
	if !leaf.PublicKey.(*ecdsa.PublicKey).Equal(req.PublicKey) {
		t.Fatal("the floor's certificate is not for the CSR's key")
	}
}

// BenchmarkLoadFloor is the ceiling of this machine for the load
// generator's flow: 32 clients over HTTPS against floorServer, in this
// process, b.N orders; it reports issued certificates a second.
// BenchmarkLoadSandbox is the same against a real sandbox server, so the
// two figures come from one arrangement.
//
//	go test -run XXX -bench 'Load(Floor|Sandbox)' -benchtime 20000x ./cmd/certd-load
func BenchmarkLoadFloor(b *testing.B) {
	url, rootFile := startFloor(b)
	benchLoad(b, url, rootFile, "1", "k")
}

func BenchmarkLoadSandbox(b *testing.B) {
	srv, creds, dir, _ := start(b, server.Config{Sandbox: true})
	benchLoad(b, srv.URL(), filepath.Join(dir, "ca", "root.crt"), creds.AccountID, creds.APIKey)
}
