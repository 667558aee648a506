package main_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/store/sqlite"
	"github.com/certd/certd/internal/testutil"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "certd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "certd")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build certd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemon is `certd serve` running as a child process.
type daemon struct {
	cmd    *exec.Cmd
	url    string
	out    *bytes.Buffer
	stderr *syncBuffer
	lines  chan string
}

// syncBuffer is a bytes.Buffer the child process's stderr copier and the
// test can use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listening = regexp.MustCompile(`listening on (\S+)`)

func serve(t *testing.T, dataDir string, args ...string) *daemon {
	t.Helper()
	// Domain validation asks a test DNS server on loopback, never the
	// machine's resolver.
	base := []string{"serve", "--data", dataDir, "--listen", "127.0.0.1:0", "--dns-resolver", testutil.NewDNS(t).Addr()}
	cmd := exec.Command(binary, append(base, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, out: &bytes.Buffer{}, stderr: &syncBuffer{}, lines: make(chan string, 100)}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			d.lines <- sc.Text()
		}
		close(d.lines)
	}()
	deadline := time.After(30 * time.Second)
	for d.url == "" {
		select {
		case line, ok := <-d.lines:
			if !ok {
				t.Fatalf("certd serve exited early:\n%s\n%s", d.out, d.stderr)
			}
			d.out.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				d.url = m[1]
			}
		case <-deadline:
			t.Fatalf("certd serve did not start:\n%s\n%s", d.out, d.stderr)
		}
	}
	t.Cleanup(func() { d.stop(t) })
	return d
}

// startListening starts a serve command built by the caller (its own
// environment or arguments) and returns the URL it prints, or "" if it
// exits first; the rest of its output is drained.
func startListening(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	url := ""
	for sc.Scan() {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return url
}

func (d *daemon) stop(t *testing.T) error {
	if d.cmd.ProcessState != nil {
		return nil
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		t.Errorf("certd did not stop on SIGTERM")
		return <-done
	}
}

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String() + errb.String(), err
	}
	return out.String(), nil
}

func httpsClient(t *testing.T, dataDir string) *http.Client {
	t.Helper()
	pemData, err := os.ReadFile(filepath.Join(dataDir, "ca", "root.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		t.Fatal("root.crt holds no certificate")
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func sampleOrder(csr string) client.OrderSSLRequest {
	return client.OrderSSLRequest{
		CSR: csr, Validity: 1, CommonName: "www.example.com", SANs: []string{"a.example.com"}, ServerType: 2,
		Org: client.Org{
			OrgName: "Tampa Bay Cray LLC", OrgAddr1: "1234 Sesame Street", OrgCity: "Tampa", OrgState: "FL", OrgZip: "33615", OrgCountry: "US",
			OrgContactFirstName: "Joe", OrgContactLastName: "Bloggs", OrgContactEmail: "joe@example.com", OrgContactTelephone: "555-123-1234",
		},
	}
}

// TestServeZeroConfig is README's walk-through: the first start creates
// everything, prints the bootstrap credentials, and an order placed over
// HTTPS waits for `certd order approve`, run while the server runs.
func TestServeZeroConfig(t *testing.T) {
	data := filepath.Join(t.TempDir(), "certd-data")
	d := serve(t, data)
	if !strings.HasPrefix(d.url, "https://127.0.0.1:") {
		t.Fatalf("url = %q", d.url)
	}
	// The credentials lines follow the listening line's predecessors.
	out := d.out.String()
	if !strings.Contains(out, "root certificate: "+filepath.Join(data, "ca", "root.crt")) {
		t.Errorf("no root path in output:\n%s", out)
	}
	var creds struct {
		AccountID string `json:"account_id"`
		APIKey    string `json:"api_key"`
	}
	b, err := os.ReadFile(filepath.Join(data, "bootstrap-account.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &creds); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, creds.APIKey) || !strings.Contains(out, creds.AccountID) {
		t.Errorf("bootstrap credentials not printed:\n%s", out)
	}
	if strings.Contains(d.stderr.String(), creds.APIKey) {
		t.Error("API key written to the log")
	}
	checkModes(t, data)

	c := client.New(d.url, creds.AccountID, creds.APIKey)
	c.HTTPClient = httpsClient(t, data)
	ctx := context.Background()
	id, err := c.OrderSSL(ctx, sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Certificate(ctx, id); !client.HasCode(err, "cert_unavailable_processing") {
		t.Fatalf("certificate before approval: %v", err)
	}
	// A second account, created by the CLI while the server runs.
	acct, err := run(t, "account", "create", "--data", data, "--name", "second", "--json")
	if err != nil {
		t.Fatalf("account create: %v\n%s", err, acct)
	}
	var second struct {
		AccountID string `json:"account_id"`
		APIKey    string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(acct), &second); err != nil || second.AccountID == "" || second.APIKey == "" {
		t.Fatalf("account create --json printed %q (%v)", acct, err)
	}
	c2 := client.New(d.url, second.AccountID, second.APIKey)
	c2.HTTPClient = c.HTTPClient
	if _, err := c2.Order(ctx, id); !client.HasCode(err, "not_found") {
		t.Fatalf("second account sees the first's order: %v", err)
	}

	msg, err := run(t, "order", "approve", id, "--data", data)
	if err != nil {
		t.Fatalf("order approve: %v\n%s", err, msg)
	}
	cert, err := c.Certificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	testutil.OpenSSLVerify(t, cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root)
	block, _ := pem.Decode([]byte(cert.Certs.Certificate))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(d.url, "https://", "http://", 1) + "/ca/intermediate.crt"; leaf.IssuingCertificateURL[0] != want {
		t.Errorf("certificate approved by the CLI names %v, want %s", leaf.IssuingCertificateURL, want)
	}
	if msg, err := run(t, "order", "approve", id, "--data", data); err == nil {
		t.Fatalf("approving twice succeeded: %s", msg)
	}
	if msg, err := run(t, "order", "approve", "nope", "--data", data); err == nil {
		t.Fatalf("approving a bad id succeeded: %s", msg)
	}

	// A restart reuses the data folder: same root, old credentials work,
	// and the API key is not printed again.
	rootBefore, _ := os.ReadFile(filepath.Join(data, "ca", "root.crt"))
	if err := d.stop(t); err != nil {
		t.Fatalf("stop: %v\n%s", err, d.stderr)
	}
	d2 := serve(t, data)
	for line := range drain(d2.lines) {
		d2.out.WriteString(line)
	}
	if strings.Contains(d2.out.String(), creds.APIKey) {
		t.Error("API key printed again on restart")
	}
	rootAfter, _ := os.ReadFile(filepath.Join(data, "ca", "root.crt"))
	if !bytes.Equal(rootBefore, rootAfter) {
		t.Error("root certificate changed on restart")
	}
	c.BaseURL = d2.url
	if _, err := c.Certificate(ctx, id); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func drain(ch chan string) chan string {
	out := make(chan string)
	go func() {
		defer close(out)
		timeout := time.After(200 * time.Millisecond)
		for {
			select {
			case l, ok := <-ch:
				if !ok {
					return
				}
				out <- l
			case <-timeout:
				return
			}
		}
	}()
	return out
}

func checkModes(t *testing.T, data string) {
	t.Helper()
	for _, f := range []string{"ca/root.key", "ca/intermediate.key", "tls/server.key", "bootstrap-account.json", "certd.db"} {
		fi, err := os.Stat(filepath.Join(data, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
}

func TestSandboxHTTP(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data, "--sandbox", "--http")
	if !strings.HasPrefix(d.url, "http://") {
		t.Fatalf("url = %q", d.url)
	}
	if !strings.Contains(d.out.String(), "SANDBOX") {
		t.Errorf("sandbox mode not announced:\n%s", d.out)
	}
	acct, err := run(t, "account", "create", "--data", data, "--json")
	if err != nil {
		t.Fatal(err, acct)
	}
	var creds struct {
		AccountID string `json:"account_id"`
		APIKey    string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(acct), &creds); err != nil {
		t.Fatal(err)
	}
	c := client.New(d.url, creds.AccountID, creds.APIKey)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := c.OrderSSL(ctx, sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.WaitForCertificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	testutil.OpenSSLVerify(t, cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root)
}

func TestRSAHierarchy(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data, "--sandbox", "--http", "--ca-key-type", "rsa")
	b, err := os.ReadFile(filepath.Join(data, "ca", "intermediate.crt"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	inter, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if inter.PublicKeyAlgorithm != x509.RSA || inter.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Fatalf("intermediate = %v / %v", inter.PublicKeyAlgorithm, inter.SignatureAlgorithm)
	}
	resp, err := http.Get(d.url + "/ca/intermediate.crt")
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(der, inter.Raw) {
		t.Error("AIA location does not serve the intermediate")
	}
}

func TestBadFlags(t *testing.T) {
	tests := [][]string{
		{"serve", "--ca-key-type", "dsa", "--data", t.TempDir(), "--listen", "127.0.0.1:0"},
		{"serve", "--listen", "not an address", "--data", t.TempDir()},
		{"serve", "--requests-per-hour", "-2", "--data", t.TempDir(), "--listen", "127.0.0.1:0"},
		{"serve", "--auth-failures-per-hour", "-1", "--data", t.TempDir(), "--listen", "127.0.0.1:0"},
		{"serve", "--requests-per-hour", "lots", "--data", t.TempDir(), "--listen", "127.0.0.1:0"},
		{"order", "approve"},
		{"order", "approve", "1", "--data", filepath.Join(t.TempDir(), "missing")},
		{"account", "create", "--data", filepath.Join(t.TempDir(), "missing")},
		{"nonsense"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, err := run(t, args...)
			if err == nil {
				t.Fatalf("succeeded: %s", out)
			}
			if !strings.Contains(out, "certd") && !strings.Contains(out, "Error") && !strings.Contains(out, "unknown") {
				t.Errorf("unclear message: %s", out)
			}
		})
	}
}

func TestKeyPermissionsRefused(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data, "--http")
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(data, "ca", "intermediate.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "serve", "--data", data, "--listen", "127.0.0.1:0", "--http", "--dns-resolver", "127.0.0.1:1")
	if err == nil || !strings.Contains(out, "permissions") {
		t.Fatalf("served with a world-readable key: %v %s", err, out)
	}
}

func TestAPIKeyCommands(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data, "--http")
	out, err := run(t, "apikey", "create", "--data", data, "--account", "1", "--role", "viewer", "--json")
	if err != nil {
		t.Fatalf("apikey create: %v %s", err, out)
	}
	var k struct {
		KeyID     string `json:"key_id"`
		AccountID string `json:"account_id"`
		Role      string `json:"role"`
		APIKey    string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.APIKey == "" || k.Role != "viewer" || k.AccountID != "000001" {
		t.Fatalf("apikey create --json printed %q (%v)", out, err)
	}
	c := client.New(d.url, k.AccountID, k.APIKey)
	ctx := context.Background()
	if _, err := c.OrderSSL(ctx, sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com"))); !client.HasCode(err, "access_denied:permission") {
		t.Fatalf("viewer ordered: %v", err)
	}
	list, err := run(t, "apikey", "list", "--data", data, "--account", "000001")
	if err != nil || !strings.Contains(list, "viewer") || strings.Contains(list, k.APIKey) {
		t.Fatalf("apikey list: %v %s", err, list)
	}
	if out, err := run(t, "apikey", "revoke", k.KeyID, "--data", data, "--account", "1"); err != nil {
		t.Fatalf("apikey revoke: %v %s", err, out)
	}
	req, _ := http.NewRequest("GET", d.url+"/account", nil)
	req.SetBasicAuth(k.AccountID, k.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("revoked key answered %d", resp.StatusCode)
	}
	for _, args := range [][]string{
		{"apikey", "revoke", k.KeyID, "--data", data, "--account", "1"},
		{"apikey", "create", "--data", data, "--account", "1", "--role", "root"},
		{"apikey", "create", "--data", data, "--account", "77", "--role", "viewer"},
		{"apikey", "create", "--data", data},
	} {
		if out, err := run(t, args...); err == nil {
			t.Errorf("%v succeeded: %s", args, out)
		}
	}
}

func TestOrderProvision(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data, "--http")
	creds := bootstrapCreds(t, data)
	body := `{"validity":"1","cs_provisioning_method":"ship_token","ev":"true","org_name":"My Company","org_addr1":"19 Windsor Court",
"org_city":"Tampa","org_state":"FL","org_zip":"33615","org_country":"US","telephone":"555-555-1234","org_contact_firstname":"Gary",
"org_contact_lastname":"McCoy","org_contact_job_title":"CTO","org_contact_email":"gm@example.com","org_contact_telephone":"555-555-1234",
"org_registration_number":"FL-123456"}`
	req, _ := http.NewRequest("POST", d.url+"/order/code", strings.NewReader(body))
	req.SetBasicAuth(creds.AccountID, creds.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		OrderID string `json:"order_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("POST /order/code = %d", resp.StatusCode)
	}
	csrPath := filepath.Join(t.TempDir(), "token.csr")
	if err := os.WriteFile(csrPath, []byte(testutil.CSR(t, testutil.Key(t, "p384"), "")), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "order", "provision", created.OrderID, "--csr", csrPath, "--data", data)
	if err != nil || !strings.Contains(out, "issued: serial") {
		t.Fatalf("order provision: %v %s", err, out)
	}
	c := client.New(d.url, creds.AccountID, creds.APIKey)
	cert, err := c.Certificate(context.Background(), created.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	testutil.OpenSSLVerifyPurpose(t, "", cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root)
	if out, err := run(t, "order", "provision", created.OrderID, "--csr", csrPath, "--data", data); err == nil {
		t.Fatalf("provisioned twice: %s", out)
	}
}

func bootstrapCreds(t *testing.T, data string) client.Client {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "bootstrap-account.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds struct {
		AccountID string `json:"account_id"`
		APIKey    string `json:"api_key"`
	}
	if err := json.Unmarshal(b, &creds); err != nil {
		t.Fatal(err)
	}
	return client.Client{AccountID: creds.AccountID, APIKey: creds.APIKey}
}

func TestDomainCommands(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data, "--http")
	out, err := run(t, "domain", "validate", "--data", data, "--account", "1", "corp.example.com", "Lab.Example.Net")
	if err != nil || !strings.Contains(out, "corp.example.com validated") || !strings.Contains(out, "lab.example.net validated") {
		t.Fatalf("domain validate: %v %s", err, out)
	}
	list, err := run(t, "domain", "list", "--data", data, "--account", "000001")
	if err != nil || !strings.Contains(list, "corp.example.com") || !strings.Contains(list, "operator") {
		t.Fatalf("domain list: %v %s", err, list)
	}
	creds := bootstrapCreds(t, data)
	c := client.New(d.url, creds.AccountID, creds.APIKey)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.corp.example.com"))
	req.CommonName, req.SANs = "www.corp.example.com", nil
	id, err := c.OrderSSL(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	orgs, err := run(t, "org", "list", "--data", data)
	if err != nil || !strings.Contains(orgs, "Tampa Bay Cray LLC") || !strings.Contains(orgs, "pending") {
		t.Fatalf("org list: %v %s", err, orgs)
	}
	fields := strings.Fields(strings.Split(orgs, "\n")[1])
	if out, err := run(t, "org", "reject", fields[0], "--data", data); err == nil {
		t.Fatalf("rejected without a note: %s", out)
	}
	if out, err := run(t, "org", "validate", fields[0], "--data", data, "--note", "registry checked"); err != nil || !strings.Contains(out, "validated") {
		t.Fatalf("org validate: %v %s", err, out)
	}
	if _, err := c.WaitForCertificate(ctx, id); err != nil {
		t.Fatalf("order under a pre-validated domain and a validated organization: %v", err)
	}
	for _, args := range [][]string{
		{"domain", "validate", "--data", data, "--account", "1", "co.uk"},
		{"domain", "validate", "--data", data, "--account", "42", "example.com"},
		{"domain", "validate", "--data", data, "--account", "1"},
	} {
		if out, err := run(t, args...); err == nil {
			t.Errorf("%v succeeded: %s", args, out)
		}
	}
}

func TestAuditVerify(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data, "--http", "--sandbox")
	creds := bootstrapCreds(t, data)
	c := client.New(d.url, creds.AccountID, creds.APIKey)
	ctx := context.Background()
	id, err := c.OrderSSL(ctx, sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.Certificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// The signature is in the log before the certificate is served.
	log, err := run(t, "audit", "export", "--data", data)
	if err != nil {
		t.Fatal(err, log)
	}
	for _, want := range []string{`"type":"start"`, `"type":"sign.begin"`, `"type":"sign.done"`, `"serial":"` + cert.Serial + `"`, `"tbs_sha256":"`} {
		if !strings.Contains(string(log), want) {
			t.Fatalf("audit log lacks %s:\n%s", want, log)
		}
	}
	if out, err := run(t, "apikey", "create", "--data", data, "--account", "1", "--role", "viewer"); err != nil {
		t.Fatal(err, out)
	}
	out, err := run(t, "audit", "verify", "--data", data)
	if err != nil || !strings.Contains(out, "audit log intact") {
		t.Fatalf("audit verify: %v %s", err, out)
	}
	if log, _ = run(t, "audit", "export", "--data", data); !strings.Contains(log, `"type":"apikey.create"`) {
		t.Fatalf("key creation not audited:\n%s", log)
	}
	if after, _ := run(t, "audit", "export", "--data", data, "--after", "2"); !strings.HasPrefix(after, `{"seq":3,`) {
		t.Fatalf("export --after 2:\n%s", after)
	}
	// Tampering with the chain in the database, as someone with the file
	// could: an edited event, then a removed last event.
	raw, err := sql.Open("sqlite", filepath.Join(data, "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, tamper := range []struct{ what, sql, undo string }{
		{"an edited event", `UPDATE audit_events SET line = replace(line, '"type":"sign.begin"', '"type":"sign.begun"')`,
			`UPDATE audit_events SET line = replace(line, '"type":"sign.begun"', '"type":"sign.begin"')`},
		{"a removed last event", `DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)`, ""},
	} {
		if _, err := raw.Exec(tamper.sql); err != nil {
			t.Fatal(err)
		}
		if out, err := run(t, "audit", "verify", "--data", data); err == nil || !strings.Contains(out, "broken") {
			t.Fatalf("audit verify after %s: %v %s", tamper.what, err, out)
		}
		if tamper.undo != "" {
			if _, err := raw.Exec(tamper.undo); err != nil {
				t.Fatal(err)
			}
			if out, err := run(t, "audit", "verify", "--data", data); err != nil {
				t.Fatalf("audit verify after undoing %s: %v %s", tamper.what, err, out)
			}
		}
	}
}

// TestCrashDuringIssuance kills the server at each step of issuance and
// checks that a restarted server finds a consistent record: every serial
// that may have been signed is on record (reserved, with the certificate
// as linted, or issued), the audit log verifies, and
// the order can still be issued.
func TestCrashDuringIssuance(t *testing.T) {
	for _, step := range []string{"reserved", "signed", "completed"} {
		t.Run(step, func(t *testing.T) {
			data := t.TempDir()
			// A first start creates the data folder and the server's own
			// certificate, which must not trip the crash.
			first := serve(t, data, "--http", "--sandbox")
			if err := first.stop(t); err != nil {
				t.Fatal(err)
			}
			creds := bootstrapCreds(t, data)
			cmd := exec.Command(binary, "serve", "--data", data, "--listen", "127.0.0.1:0", "--http", "--sandbox")
			cmd.Env = append(os.Environ(), "CERTD_TEST_CRASH_AT="+step)
			url := startListening(t, cmd)
			c := client.New(url, creds.AccountID, creds.APIKey)
			c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
			_, err := c.OrderSSL(context.Background(), sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")))
			if err == nil && step != "completed" {
				t.Fatalf("the server answered although it crashed at %s", step)
			}
			werr := cmd.Wait()
			if ee, ok := werr.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
				t.Fatalf("server exit: %v", werr)
			}

			out, err := run(t, "audit", "verify", "--data", data)
			if err != nil {
				t.Fatalf("audit after a crash at %s: %v %s", step, err, out)
			}
			db, err := sqlite.Open(context.Background(), filepath.Join(data, "certd.db"))
			if err != nil {
				t.Fatal(err)
			}
			reserved, _ := db.SerialsInState(context.Background(), store.CertReserved)
			issued, _ := db.SerialsInState(context.Background(), store.CertIssued)
			db.Close()
			wantReserved := map[string]int{"reserved": 1, "signed": 1, "completed": 0}[step]
			// Issued: the order's, once the issuance completed (--http
			// makes no TLS certificate of certd's own).
			wantIssued := map[string]int{"reserved": 0, "signed": 0, "completed": 1}[step]
			if len(reserved) != wantReserved || len(issued) != wantIssued {
				t.Fatalf("after a crash at %s: %d reserved, %d issued; want %d, %d", step, len(reserved), len(issued), wantReserved, wantIssued)
			}
			if step == "signed" {
				// The signature's audit record precedes the signature.
				log, _ := run(t, "audit", "export", "--data", data)
				if !strings.Contains(log, `"serial":"`+reserved[0]+`"`) {
					t.Fatalf("the reserved serial %s is not in the audit log", reserved[0])
				}
			}
			// Restarted, a sandbox server issues what the crash left
			// pending (a production server's job queue would).
			again := serve(t, data, "--http", "--sandbox")
			c = client.New(again.url, creds.AccountID, creds.APIKey)
			if _, err := c.Certificate(context.Background(), "1"); err != nil {
				t.Fatalf("the order was not issued after a crash at %s: %v", step, err)
			}
			if state, err := run(t, "order", "approve", "1", "--data", data); err == nil || !strings.Contains(state, "nothing pending") {
				t.Fatalf("approve after recovery from a crash at %s: %v %s", step, err, state)
			}
			if out, err := run(t, "audit", "verify", "--data", data); err != nil {
				t.Fatalf("audit after recovery: %v %s", err, out)
			}
		})
	}
}

func TestKeyPassphrase(t *testing.T) {
	data := t.TempDir()
	passFile := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(passFile, []byte("s3cret passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := serve(t, data, "--http", "--key-passphrase-file", passFile)
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(filepath.Join(data, "ca", "intermediate.key"))
	if !strings.Contains(string(key), "ENCRYPTED PRIVATE KEY") || strings.Contains(d.stderr.String(), "s3cret") {
		t.Fatal("key not encrypted, or the passphrase was logged")
	}
	out, err := run(t, "serve", "--data", data, "--listen", "127.0.0.1:0", "--http", "--dns-resolver", "127.0.0.1:1")
	if err == nil || !strings.Contains(out, "encrypted") {
		t.Fatalf("started without the passphrase: %v %s", err, out)
	}
	cmd := exec.Command(binary, "account", "create", "--data", data, "--json")
	cmd.Env = append(os.Environ(), "CERTD_KEY_PASSPHRASE=s3cret passphrase")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CLI with CERTD_KEY_PASSPHRASE: %v %s", err, b)
	}
}

func TestServeWithHSM(t *testing.T) {
	testutil.SoftHSM(t, "certd", "4321")
	data := t.TempDir()
	t.Setenv("CERTD_PKCS11_PIN", "4321")
	// The key ceremony: create the hierarchy in the token before serving.
	if out, err := run(t, "init", "--data", data, "--pkcs11-module", testutil.SoftHSMModule, "--pkcs11-token", "certd"); err != nil || !strings.Contains(out, "CA ready") {
		t.Fatalf("init: %v %s", err, out)
	}
	d := serve(t, data, "--http", "--sandbox", "--pkcs11-module", testutil.SoftHSMModule, "--pkcs11-token", "certd")
	if _, err := os.Stat(filepath.Join(data, "ca", "intermediate.key")); err == nil {
		t.Fatal("a key file was written with the keys in the HSM")
	}
	creds := bootstrapCreds(t, data)
	c := client.New(d.url, creds.AccountID, creds.APIKey)
	id, err := c.OrderSSL(context.Background(), sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.Certificate(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	testutil.OpenSSLVerify(t, cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root)
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	// The CLI finds the token through the settings the server recorded.
	if out, err := run(t, "account", "create", "--data", data); err != nil {
		t.Fatalf("CLI with the HSM: %v %s", err, out)
	}
	t.Setenv("CERTD_PKCS11_PIN", "0000")
	out, err := run(t, "serve", "--data", data, "--listen", "127.0.0.1:0", "--http", "--dns-resolver", "127.0.0.1:1",
		"--pkcs11-module", testutil.SoftHSMModule, "--pkcs11-token", "certd")
	if err == nil || !strings.Contains(out, "PIN is wrong") {
		t.Fatalf("served with a wrong PIN: %v %s", err, out)
	}
}

func TestOfflineRootCeremony(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data, "--http", "--sandbox")
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	offline := filepath.Join(t.TempDir(), "root.key")
	if err := os.Rename(filepath.Join(data, "ca", "root.key"), offline); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(filepath.Join(data, "ca", "intermediate.crt"))
	d = serve(t, data, "--http", "--sandbox") // runs without the root key
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "ca", "new-intermediate", "--data", data, "--root-key", offline)
	if err != nil || !strings.Contains(out, "new intermediate") {
		t.Fatalf("ceremony: %v %s", err, out)
	}
	d = serve(t, data, "--http", "--sandbox")
	creds := bootstrapCreds(t, data)
	c := client.New(d.url, creds.AccountID, creds.APIKey)
	id, err := c.OrderSSL(context.Background(), sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.Certificate(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Certs.Intermediate == string(old) {
		t.Fatal("still issued by the old intermediate")
	}
	testutil.OpenSSLVerify(t, cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root)
	if out, err := run(t, "audit", "verify", "--data", data); err != nil {
		t.Fatalf("audit: %v %s", err, out)
	}
	if log, _ := run(t, "audit", "export", "--data", data); !strings.Contains(log, "ca.new_intermediate") {
		t.Fatal("the ceremony is not in the audit log")
	}
}

func TestConfigFileAndEnvironment(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(t.TempDir(), "certd.toml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(conf, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`data = "` + data + `"
http = true
sandbox = true
node-id = "from-file"
caa-identity = ["a.example", "b.example"]
log-format = "json"
`)
	cmd := exec.Command(binary, "serve", "--config", conf, "--listen", "127.0.0.1:0", "--dns-resolver", "127.0.0.1:1")
	cmd.Env = append(os.Environ(), "CERTD_NODE_ID=from-env")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	url := startListening(t, cmd)
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	if !strings.HasPrefix(url, "http://") {
		t.Fatalf("http = true from the file not applied: %q", url)
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"node":"from-env"`) {
		t.Fatalf("the environment should beat the file: %s", body)
	}
	if _, err := os.Stat(filepath.Join(data, "certd.db")); err != nil {
		t.Fatal("data from the file not applied")
	}
	if !strings.Contains(stderr.String(), `"msg":`) {
		t.Fatalf("log-format json from the file not applied: %s", stderr.String())
	}

	for name, bad := range map[string]struct{ file, want string }{
		"unknown key":              {`colour = "blue"` + "\n", "unknown key(s) colour"},
		"bad value":                {`http = "maybe"` + "\n", "key http"},
		"not toml":                 {`=== nope`, "config file"},
		"job timeout out of range": {"data = \"" + data + "\"\njob-timeout = \"1ms\"\n", "--job-timeout 1ms: must be between 1s and 1h"},
		"CRL lifetime too long":    {"data = \"" + data + "\"\ncrl-next-update = \"300h\"\n", "--crl-next-update 300h0m0s: must be at most 10 days"},
		"negative workers":         {"data = \"" + data + "\"\nworkers = -1\n", "--workers -1: must be between 1 and 10000, or 0 for the default"},
		"too many workers":         {"data = \"" + data + "\"\nworkers = 10001\n", "--workers 10001: must be between 1 and 10000"},
	} {
		t.Run(name, func(t *testing.T) {
			write(bad.file)
			out, err := run(t, "serve", "--config", conf, "--listen", "127.0.0.1:0")
			if err == nil || !strings.Contains(out, bad.want) {
				t.Fatalf("= %v %s", err, out)
			}
		})
	}
}

// TestServeOnPostgres: with CERTD_DB set, serve keeps its data in
// PostgreSQL and the CLI, reading the same variable, approves an order
// the server then returns.
func TestServeOnPostgres(t *testing.T) {
	url := testutil.PostgresDB(t)
	t.Setenv("CERTD_DB", url)
	data := t.TempDir()
	d := serve(t, data, "--http")
	creds := bootstrapCreds(t, data)
	c := client.New(d.url, creds.AccountID, creds.APIKey)
	ctx := context.Background()
	id, err := c.OrderSSL(ctx, sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	if msg, err := run(t, "order", "approve", id, "--data", data); err != nil {
		t.Fatalf("order approve: %v\n%s", err, msg)
	}
	cert, err := c.Certificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	testutil.OpenSSLVerify(t, cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root)
	if _, err := os.Stat(filepath.Join(data, "certd.db")); err == nil {
		t.Error("serve on PostgreSQL created certd.db")
	}
	// Without the variable the CLI looks for the SQLite file and says so.
	t.Setenv("CERTD_DB", "")
	if msg, err := run(t, "order", "approve", id, "--data", data); err == nil || !strings.Contains(msg, "no certd data folder") {
		t.Fatalf("CLI without CERTD_DB: %v %s", err, msg)
	}
}

// twoNodes starts two nodes, a then b, on one fresh PostgreSQL database
// (in CERTD_DB) and one data folder, both with args.
func twoNodes(t *testing.T, args ...string) (data string, a, b *daemon) {
	t.Helper()
	t.Setenv("CERTD_DB", testutil.PostgresDB(t))
	data = t.TempDir()
	a = serve(t, data, append([]string{"--http", "--node-id", "a"}, args...)...)
	b = serve(t, data, append([]string{"--http", "--node-id", "b"}, args...)...)
	return data, a, b
}

// TestNodesWithTheirOwnFolders: nodes on different machines share only
// the database; each keeps a copy of the CA folder. A node without one,
// or with another CA's, refuses to start rather than make a second
// hierarchy on the same database; with a copy it serves the same CA.
func TestNodesWithTheirOwnFolders(t *testing.T) {
	t.Setenv("CERTD_DB", testutil.PostgresDB(t))
	folderA, folderB := t.TempDir(), t.TempDir()
	a := serve(t, folderA, "--sandbox", "--http", "--node-id", "a")
	creds := bootstrapCreds(t, folderA)

	out, err := run(t, "serve", "--data", folderB, "--listen", "127.0.0.1:0", "--http", "--dns-resolver", "127.0.0.1:1")
	if err == nil || !strings.Contains(out, "has no CA: copy the ca folder") {
		t.Fatalf("node without the CA folder: %v %s", err, out)
	}
	other := t.TempDir()
	cmd := exec.Command(binary, "init", "--data", other)
	cmd.Env = append(os.Environ(), "CERTD_DB=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init: %v %s", err, b)
	}
	if out, err := run(t, "serve", "--data", other, "--listen", "127.0.0.1:0", "--http", "--dns-resolver", "127.0.0.1:1"); err == nil || !strings.Contains(out, "belongs to another CA") {
		t.Fatalf("node with another CA: %v %s", err, out)
	}

	if b, err := exec.Command("cp", "-a", filepath.Join(folderA, "ca"), filepath.Join(folderB, "ca")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, b)
	}
	b := serve(t, folderB, "--sandbox", "--http", "--node-id", "b")
	if strings.Contains(b.out.String(), "bootstrap account created") {
		t.Fatalf("node b made a second bootstrap account:\n%s", b.out.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := client.New(a.url, creds.AccountID, creds.APIKey).OrderSSL(ctx, sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	cb := client.New(b.url, creds.AccountID, creds.APIKey)
	if _, err := cb.Reissue(ctx, id, client.ReissueRequest{CSR: testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")}); err != nil {
		t.Fatalf("reissue on node b: %v", err)
	}
	cert, err := cb.Certificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	testutil.OpenSSLVerify(t, cert.Certs.Certificate, cert.Certs.Intermediate, readFile(t, filepath.Join(folderA, "ca", "root.crt")))
	for _, folder := range []string{folderA, folderB} {
		if out, err := run(t, "audit", "verify", "--data", folder); err != nil || !strings.Contains(out, "intact") {
			t.Fatalf("audit verify from %s: %v %s", folder, err, out)
		}
	}
}

// TestTwoNodesOnPostgres runs two certd processes on one PostgreSQL
// database and one data folder (the CA): an order placed on one node is
// read, reissued and revoked through the other, and orders placed on both
// at once get distinct ids and serials.
func TestTwoNodesOnPostgres(t *testing.T) {
	data, a, b := twoNodes(t, "--sandbox")
	creds := bootstrapCreds(t, data)
	ca := client.New(a.url, creds.AccountID, creds.APIKey)
	cb := client.New(b.url, creds.AccountID, creds.APIKey)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	id, err := ca.OrderSSL(ctx, sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	first, err := ca.WaitForCertificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if o, err := cb.Order(ctx, id); err != nil || o.CertificateDetails.Status != "issued" {
		t.Fatalf("order %s on the other node: %+v, %v", id, o, err)
	}
	if _, err := cb.Reissue(ctx, id, client.ReissueRequest{CSR: testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")}); err != nil {
		t.Fatalf("reissue on the other node: %v", err)
	}
	again, err := ca.WaitForCertificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if again.Certs.Certificate == first.Certs.Certificate {
		t.Fatal("node a still returns the certificate from before node b's reissue")
	}
	req, _ := http.NewRequestWithContext(ctx, "REVOKE", b.url+"/order/"+id, strings.NewReader(`{"reason":"key_compromise"}`))
	req.SetBasicAuth(creds.AccountID, creds.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("REVOKE on node b = %d %s", resp.StatusCode, body)
	}
	if _, err := ca.Certificate(ctx, id); !client.HasCode(err, "cert_revoked") {
		t.Fatalf("node a after node b revoked: %v", err)
	}

	// Both nodes at once: ids and serials come from the one database.
	const perNode = 10
	type result struct {
		id, serial string
		err        error
	}
	results := make(chan result, 2*perNode)
	for _, c := range []*client.Client{ca, cb} {
		go func() {
			for i := 0; i < perNode; i++ {
				id, err := c.OrderSSL(ctx, sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")))
				if err != nil {
					results <- result{err: err}
					continue
				}
				cert, err := c.WaitForCertificate(ctx, id)
				if err != nil {
					results <- result{err: err}
					continue
				}
				block, _ := pem.Decode([]byte(cert.Certs.Certificate))
				leaf, err := x509.ParseCertificate(block.Bytes)
				if err != nil {
					results <- result{err: err}
					continue
				}
				results <- result{id: id, serial: leaf.SerialNumber.String()}
			}
		}()
	}
	ids, serials := map[string]bool{}, map[string]bool{}
	for i := 0; i < 2*perNode; i++ {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if ids[r.id] || serials[r.serial] {
			t.Fatalf("duplicate order id %s or serial %s", r.id, r.serial)
		}
		ids[r.id], serials[r.serial] = true, true
	}

	// Both nodes appended to the one audit chain in the database; it
	// must verify up to its head.
	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}
	if err := b.stop(t); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "audit", "verify", "--data", data); err != nil {
		t.Fatalf("audit verify after two nodes: %v\n%s", err, out)
	}
}

// TestNodeKilledUnderLoad kills one of two nodes with SIGKILL while
// clients place orders on it: every order it answered 201 is there, issued,
// on the other node, which goes on serving.
func TestNodeKilledUnderLoad(t *testing.T) {
	data, a, b := twoNodes(t, "--sandbox")
	creds := bootstrapCreds(t, data)
	ca := client.New(a.url, creds.AccountID, creds.APIKey)
	cb := client.New(b.url, creds.AccountID, creds.APIKey)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	csrs := make(chan string, 200)
	for i := 0; i < cap(csrs); i++ {
		csrs <- testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")
	}
	close(csrs)
	var mu sync.Mutex
	var answered []string
	done := make(chan struct{})
	const clients = 4
	for i := 0; i < clients; i++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for csr := range csrs {
				id, err := ca.OrderSSL(ctx, sampleOrder(csr))
				if err != nil {
					return // the node is gone
				}
				mu.Lock()
				answered = append(answered, id)
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		n := len(answered)
		mu.Unlock()
		if n >= 20 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < clients; i++ {
		<-done
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d orders answered 201 before node a was killed", len(answered))
	for _, id := range answered {
		if _, err := cb.Certificate(ctx, id); err != nil {
			t.Fatalf("order %s, answered 201 by the killed node: %v", id, err)
		}
	}
	if _, err := cb.OrderSSL(ctx, sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com"))); err != nil {
		t.Fatalf("surviving node: %v", err)
	}
}

// TestJobOfKilledNodeFinishes kills the node that is in the middle of an
// order's check (its CAA lookup is held unanswered by the DNS server):
// the other node takes the job over once it is overdue, and issues.
func TestJobOfKilledNodeFinishes(t *testing.T) {
	resolver := testutil.NewDNS(t)
	data, a, b := twoNodes(t, "--dns-resolver", resolver.Addr(), "--job-timeout", "2s")
	nodes := map[string]*daemon{"a": a, "b": b}
	creds := bootstrapCreds(t, data)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	// The second order waits for nothing but its CAA check.
	validateAccount(t, data, a.url)
	first := client.New(a.url, creds.AccountID, creds.APIKey)

	arrived, release := resolver.Hold("held.example.com")
	defer release()
	req := sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "held.example.com"))
	req.CommonName, req.SANs = "held.example.com", nil
	id, err := first.OrderSSL(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-ctx.Done():
		t.Fatal("no node looked up held.example.com")
	}
	db, err := sql.Open("pgx", os.Getenv("CERTD_DB"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	job := `SELECT state, attempted_by, errors FROM river_job WHERE kind = 'validate_order' AND (args->>'order_id')::bigint = $1`
	orderID, _ := strconv.ParseInt(id, 10, 64)
	var state, attemptedBy string
	var errs sql.NullString
	if err := db.QueryRowContext(ctx, job, orderID).Scan(&state, &attemptedBy, &errs); err != nil {
		t.Fatal(err)
	}
	worker := strings.SplitN(strings.Trim(attemptedBy, "{}"), "_", 2)[0]
	dead, survivor := nodes[worker], nodes[map[string]string{"a": "b", "b": "a"}[worker]]
	if state != "running" || dead == nil {
		t.Fatalf("job of order %s: state %s, attempted by %s", id, state, attemptedBy)
	}
	if err := dead.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	release()
	t.Logf("killed node %s while it checked order %s", worker, id)

	c := client.New(survivor.url, creds.AccountID, creds.APIKey)
	if _, err := c.WaitForCertificate(ctx, id); err != nil {
		t.Fatalf("order %s, whose check was running on the killed node: %v", id, err)
	}
	if err := db.QueryRowContext(ctx, job, orderID).Scan(&state, &attemptedBy, &errs); err != nil {
		t.Fatal(err)
	}
	if state != "completed" || !strings.Contains(errs.String, "Stuck job rescued") {
		t.Fatalf("job of order %s: state %s, attempted by %s, errors %s", id, state, attemptedBy, errs.String)
	}
	t.Logf("job attempted by %s", attemptedBy)
}

// TestBackup copies the data folder while orders are being placed: the
// copy's audit chain verifies, keys keep mode 0600, and a server on the
// copy returns the certificate of an order placed before the backup.
func TestBackup(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data, "--sandbox", "--http")
	creds := bootstrapCreds(t, data)
	c := client.New(d.url, creds.AccountID, creds.APIKey)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id, err := c.OrderSSL(ctx, sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	before, err := c.Certificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	loaded := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				loaded <- nil
				return
			default:
			}
			if _, err := c.OrderSSL(ctx, sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com"))); err != nil {
				loaded <- err
				return
			}
		}
	}()
	dst := filepath.Join(t.TempDir(), "copy")
	out, err := run(t, "backup", "--data", data, dst)
	close(stop)
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if err := <-loaded; err != nil {
		t.Fatalf("orders during the backup: %v", err)
	}
	for _, f := range []string{"ca/root.key", "ca/intermediate.key", "bootstrap-account.json", "certd.db"} {
		if fi, err := os.Stat(filepath.Join(dst, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("copy of %s: %v, %v; want mode 0600", f, fi, err)
		}
	}
	if out, err := run(t, "audit", "verify", "--data", dst); err != nil {
		t.Fatalf("audit verify on the copy: %v\n%s", err, out)
	}
	if out, err := run(t, "backup", "--data", data, dst); err == nil || !strings.Contains(out, "exists") {
		t.Fatalf("backup over an existing folder: %v %s", err, out)
	}
	if out, err := run(t, "backup", "--data", data, filepath.Join(t.TempDir(), "no", "such", "parent")); err == nil {
		t.Fatalf("backup under a missing folder succeeded: %s", out)
	}
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	restored := serve(t, dst, "--sandbox", "--http")
	c.BaseURL = restored.url
	after, err := c.Certificate(ctx, id)
	if err != nil {
		t.Fatalf("certificate from the restored copy: %v", err)
	}
	if after.Certs.Certificate != before.Certs.Certificate {
		t.Fatal("the restored copy returns another certificate")
	}

	t.Run("PostgreSQL", func(t *testing.T) {
		t.Setenv("CERTD_DB", testutil.PostgresDB(t))
		pg := t.TempDir()
		serve(t, pg, "--sandbox", "--http")
		if out, err := run(t, "backup", "--data", pg, filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(out, "pg_dump") {
			t.Fatalf("backup on PostgreSQL: %v %s", err, out)
		}
	})
}

// TestAccountLimitCommand: an account's own request budget, set from the
// command line while the server runs, overrides the server's.
func TestAccountLimitCommand(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data, "--http", "--sandbox", "--requests-per-hour", "2")
	if out, err := run(t, "account", "limit", "1", "--data", data, "--requests-per-hour", "4"); err != nil || !strings.Contains(out, "000001: 4 requests an hour") {
		t.Fatalf("account limit: %v %s", err, out)
	}
	creds := bootstrapCreds(t, data)
	statuses := []int{}
	for i := 0; i < 5; i++ {
		req, _ := http.NewRequest("GET", d.url+"/account", nil)
		req.SetBasicAuth(creds.AccountID, creds.APIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	if fmt.Sprint(statuses) != "[200 200 200 200 429]" {
		t.Fatalf("statuses %v, want four allowed then 429", statuses)
	}
	if out, err := run(t, "account", "limit", "1", "--data", data, "--requests-per-hour", "unlimited"); err != nil || !strings.Contains(out, "000001: no request limit") {
		t.Fatalf("account limit unlimited: %v %s", err, out)
	}
	if out, _ := run(t, "account", "limit", "77", "--data", data, "--requests-per-hour", "10"); !strings.Contains(out, "certd: no account 000077") {
		t.Fatalf("missing account: %s", out)
	}
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"account", "limit", "77", "--data", data, "--requests-per-hour", "10"}, 5},
		{[]string{"account", "limit", "1", "--data", data, "--requests-per-hour", "0"}, 2},
		{[]string{"account", "limit", "1", "--data", data, "--requests-per-hour", "lots"}, 2},
		{[]string{"account", "limit", "x", "--data", data, "--requests-per-hour", "10"}, 2},
		{[]string{"account", "limit", "1", "--data", data}, 2},
	} {
		_, err := run(t, tt.args...)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != tt.code {
			t.Errorf("%v: %v, want exit %d", tt.args, err, tt.code)
		}
	}
}
