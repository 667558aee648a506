package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/server"
)

// The examples run against a real certd in sandbox mode, started by
// TestMain; in your code these are your server's URL, your account's
// credentials and certd's root certificate.
var (
	certdURL  string
	accountID string
	apiKey    string
	rootPEM   []byte
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "certd-client-")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Open(ctx, server.Config{
		DataDir: dir, Listen: "127.0.0.1:0", Sandbox: true,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		log.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Serve(ctx) }()
	var creds struct {
		AccountID string `json:"account_id"`
		APIKey    string `json:"api_key"`
	}
	b, err := os.ReadFile(filepath.Join(dir, server.BootstrapFile))
	if err == nil {
		err = json.Unmarshal(b, &creds)
	}
	if err == nil {
		rootPEM, err = os.ReadFile(filepath.Join(dir, server.CADir, ca.RootCertFile))
	}
	if err != nil {
		log.Fatal(err)
	}
	certdURL, accountID, apiKey = srv.URL(), creds.AccountID, creds.APIKey
	code := m.Run()
	cancel()
	<-stopped
	os.RemoveAll(dir)
	os.Exit(code)
}

// newCSR makes a P-256 key and a certificate signing request for names.
func newCSR(names ...string) (csrPEM string, key *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
	}, key)
	if err != nil {
		log.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), key
}

// connect is the client every example uses.
func connect() *client.Client {
	c := client.New(certdURL, accountID, apiKey)
	if err := c.TrustRoots(rootPEM); err != nil {
		log.Fatal(err)
	}
	return c
}

var exampleOrg = client.Org{
	OrgName: "Example LLC", OrgAddr1: "1 Main Street", OrgCity: "Tampa", OrgState: "FL",
	OrgZip: "33615", OrgCountry: "US",
	OrgContactFirstName: "Joe", OrgContactLastName: "Bloggs",
	OrgContactEmail: "joe@example.com", OrgContactTelephone: "555-123-1234",
}

// Order a certificate for two names and wait until it is issued.
func ExampleClient_OrderSSL() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := client.New(certdURL, accountID, apiKey)
	if err := c.TrustRoots(rootPEM); err != nil {
		log.Fatal(err)
	}
	csr, _ := newCSR("www.example.com", "example.com")
	id, err := c.OrderSSL(ctx, client.OrderSSLRequest{
		CSR: csr, Validity: 1, CommonName: "www.example.com", SANs: []string{"example.com"},
		Org: exampleOrg,
	})
	if err != nil {
		log.Fatal(err)
	}
	cert, err := c.WaitForCertificate(ctx, id, client.WithProgress(func(o *client.Order) {
		fmt.Println("waiting:", o.CertificateDetails.Status)
	}))
	if err != nil {
		log.Fatal(err)
	}
	block, _ := pem.Decode([]byte(cert.Certs.Certificate))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(leaf.DNSNames)
	// Output: [www.example.com example.com]
}

// An administrator approves a request that a requester submitted; the
// approval creates the order.
func ExampleClient_ApproveRequest() {
	ctx := context.Background()
	c := connect()
	csr, _ := newCSR("shop.example.com")
	reqID, err := c.SubmitRequest(ctx, client.EnterpriseRequest{
		OrderSSLRequest: client.OrderSSLRequest{CSR: csr, Validity: 1, Org: exampleOrg},
		Comments:        "for the shop",
	})
	if err != nil {
		log.Fatal(err)
	}
	pending, err := c.Requests(ctx, "pending", 0, "")
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range pending.Requests {
		if r.RequestID == reqID {
			fmt.Println(r.CommonName, r.Status, r.Comments)
		}
	}
	orderID, err := c.ApproveRequest(ctx, reqID, "fine")
	if err != nil {
		log.Fatal(err)
	}
	r, err := c.Request(ctx, reqID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Status, r.OrderID == orderID)
	// Output:
	// shop.example.com pending for the shop
	// approved true
}

// Fetch an issued certificate with its chain and check it with
// crypto/x509.
func ExampleClient_Certificate() {
	ctx := context.Background()
	c := connect()
	csr, _ := newCSR("api.example.com")
	id, err := c.OrderSSL(ctx, client.OrderSSLRequest{CSR: csr, Validity: 1, Org: exampleOrg})
	if err != nil {
		log.Fatal(err)
	}
	cert, err := c.Certificate(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(cert.Certs.Root))
	inter.AppendCertsFromPEM([]byte(cert.Certs.Intermediate))
	block, _ := pem.Decode([]byte(cert.Certs.Certificate))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	_, err = leaf.Verify(x509.VerifyOptions{DNSName: "api.example.com", Roots: roots, Intermediates: inter})
	fmt.Println("verified:", err == nil)
	// Output: verified: true
}

// Revoke a certificate; afterwards the order no longer serves it, and the
// error says why.
func ExampleClient_Revoke() {
	ctx := context.Background()
	c := connect()
	csr, _ := newCSR("old.example.com")
	id, err := c.OrderSSL(ctx, client.OrderSSLRequest{CSR: csr, Validity: 1, Org: exampleOrg})
	if err != nil {
		log.Fatal(err)
	}
	rev, err := c.Revoke(ctx, id, client.RevokeRequest{Reason: "keyCompromise", Comments: "laptop stolen"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rev.Status, rev.Reason)
	_, err = c.Certificate(ctx, id)
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Code())
	}
	// Output:
	// revoked keyCompromise
	// 404 cert_revoked
}
