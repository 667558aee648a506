package main_test

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/certd/certd/internal/testutil"
)

// The exit codes docs/cli.md promises scripts.
const (
	exitUsage       = 2
	exitRefused     = 3
	exitDenied      = 4
	exitNotFound    = 5
	exitUnreachable = 7
	exitNotReady    = 8
)

// orgTOML is an organization file as users write it: the v1 names.
const orgTOML = `org_name = "Tampa Bay Cray LLC"
org_addr1 = "1234 Sesame Street"
org_city = "Tampa"
org_state = "FL"
org_zip = "33615"
org_country = "US"
org_contact_firstname = "Joe"
org_contact_lastname = "Bloggs"
org_contact_email = "joe@example.com"
org_contact_telephone = "555-123-1234"
`

// cliEnv is an environment for the client commands: nothing of the
// user's (HOME and the config folder are the test's), plus vars.
func cliEnv(t *testing.T, vars ...string) []string {
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "PATH=" + os.Getenv("PATH")}
	return append(env, vars...)
}

// cli runs the binary with env and returns stdout, stderr and the exit code.
func cli(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	}
	t.Fatal(err)
	return "", "", -1
}

// ok runs the binary and fails the test unless it exits 0.
func ok(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, errOut, code := cli(t, env, args...)
	if code != 0 {
		t.Fatalf("certd %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, text string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestClientCommands drives the client commands of the real binary
// against a real sandbox server over HTTPS: key and CSR, order, show,
// list, fetch, reissue, renew, revoke, requests, profiles, and the exit
// codes scripts rely on.
func TestClientCommands(t *testing.T) {
	data := t.TempDir()
	d := serve(t, data, "--sandbox", "--allow-private-fetch")
	creds := bootstrapCreds(t, data)
	root := filepath.Join(data, "ca", "root.crt")
	env := cliEnv(t, "CERTD_URL="+d.url, "CERTD_ACCOUNT_ID="+creds.AccountID, "CERTD_API_KEY="+creds.APIKey, "CERTD_CA_FILE="+root)
	work := t.TempDir()
	org := writeFile(t, filepath.Join(work, "org.toml"), orgTOML, 0o644)

	t.Run("csr", func(t *testing.T) {
		dir := filepath.Join(work, "csr")
		out := ok(t, env, "csr", "--cn", "www.example.com", "--san", "example.com", "--key-type", "rsa3072", "--out", dir)
		if strings.Contains(out, "PRIVATE KEY") || !strings.Contains(out, filepath.Join(dir, "key.pem")) {
			t.Fatalf("output: %s", out)
		}
		if fi, err := os.Stat(filepath.Join(dir, "key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key.pem: %v %v", fi, err)
		}
		testutil.OpenSSL(t, "", "req", "-in", filepath.Join(dir, "csr.pem"), "-verify", "-noout")
		if _, errOut, code := cli(t, env, "csr", "--cn", "www.example.com", "--out", dir); code != exitUsage || !strings.Contains(errOut, "not replacing a key") {
			t.Fatalf("second csr into the folder: exit %d %s", code, errOut)
		}
	})

	var id string
	issued := filepath.Join(work, "www")
	t.Run("order ssl", func(t *testing.T) {
		out := ok(t, env, "order", "ssl", "--cn", "www.example.com", "--san", "a.example.com", "--org-file", org, "--out", issued, "--json")
		var r struct {
			OrderID string            `json:"order_id"`
			Status  string            `json:"status"`
			KeyFile string            `json:"key_file"`
			Files   map[string]string `json:"files"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if r.Status != "issued" || r.KeyFile != filepath.Join(issued, "key.pem") || len(r.Files) != 4 {
			t.Fatalf("result %+v", r)
		}
		id = r.OrderID
		cert, chain := readFile(t, filepath.Join(issued, "cert.pem")), readFile(t, filepath.Join(issued, "chain.pem"))
		testutil.OpenSSLVerify(t, cert, chain, readFile(t, root))
		if readFile(t, filepath.Join(issued, "fullchain.pem")) != cert+chain {
			t.Error("fullchain.pem is not cert.pem then chain.pem")
		}
		testutil.OpenSSL(t, "", "pkcs7", "-in", filepath.Join(issued, "cert.p7b"), "-print_certs", "-noout")
		// The certificate is for the key the command made.
		key := testutil.OpenSSL(t, "", "pkey", "-in", filepath.Join(issued, "key.pem"), "-pubout")
		if pub := testutil.OpenSSL(t, "", "x509", "-in", filepath.Join(issued, "cert.pem"), "-pubkey", "-noout"); pub != key {
			t.Error("the certificate is not for key.pem")
		}
	})

	t.Run("show and list", func(t *testing.T) {
		out := ok(t, env, "order", "show", id)
		for _, want := range []string{"order        " + id, "status       issued", "other names  a.example.com"} {
			if !strings.Contains(out, want) {
				t.Errorf("show lacks %q:\n%s", want, out)
			}
		}
		ok(t, env, "order", "ssl", "--cn", "second.example.com", "--org-file", org, "--out", filepath.Join(work, "second"))
		list := ok(t, env, "order", "list", "--limit", "1")
		lines := strings.Split(strings.TrimSpace(list), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "ORDER") || !strings.Contains(lines[1], "second.example.com") || !strings.HasPrefix(lines[2], "more: certd order list --cursor") {
			t.Fatalf("list --limit 1:\n%s", list)
		}
		var all struct {
			Orders []struct {
				OrderID string `json:"order_id"`
			} `json:"orders"`
		}
		if err := json.Unmarshal([]byte(ok(t, env, "order", "list", "--all", "--limit", "1", "--json")), &all); err != nil || len(all.Orders) != 2 {
			t.Fatalf("list --all: %+v %v", all, err)
		}
		if out := ok(t, env, "order", "list", "--name", "a.example.com"); !strings.Contains(out, id) || strings.Contains(out, "second.example.com") {
			t.Fatalf("list --name:\n%s", out)
		}
	})

	t.Run("fetch, reissue, renew, revoke", func(t *testing.T) {
		dir := filepath.Join(work, "fetched")
		ok(t, env, "order", "fetch", id, "--out", dir)
		if readFile(t, filepath.Join(dir, "cert.pem")) != readFile(t, filepath.Join(issued, "cert.pem")) {
			t.Fatal("fetch wrote another certificate")
		}
		re := filepath.Join(work, "rekeyed")
		out := ok(t, env, "order", "reissue", id, "--new-key", "--san", "b.example.com", "--wait", "--out", re)
		if !strings.Contains(out, "names added: b.example.com; dropped: a.example.com") || !strings.Contains(out, "issued") {
			t.Fatalf("reissue:\n%s", out)
		}
		newCert := readFile(t, filepath.Join(re, "cert.pem"))
		block, _ := pem.Decode([]byte(newCert))
		leaf, err := x509.ParseCertificate(block.Bytes)
		if err != nil || strings.Join(leaf.DNSNames, ",") != "www.example.com,b.example.com" {
			t.Fatalf("reissued certificate: %v %v", leaf.DNSNames, err)
		}
		out = ok(t, env, "order", "renew", id, "--out", filepath.Join(work, "renewed"))
		if !regexp.MustCompile(`order \d{8}: issued`).MatchString(out) {
			t.Fatalf("renew:\n%s", out)
		}
		out = ok(t, env, "order", "revoke", id, "--reason", "keyCompromise", "--comments", "test")
		if !strings.Contains(out, "order "+id+" revoked") || !strings.Contains(out, "keyCompromise") {
			t.Fatalf("revoke:\n%s", out)
		}
		if _, errOut, code := cli(t, env, "order", "fetch", id); code != exitNotFound || !strings.Contains(errOut, "cert_revoked") {
			t.Fatalf("fetch after revoke: exit %d %s", code, errOut)
		}
	})

	t.Run("code signing and Wi-Fi", func(t *testing.T) {
		dir := filepath.Join(work, "code")
		out := ok(t, env, "order", "code", "--org-file", org, "--telephone", "555-123-1234", "--job-title", "CTO", "--platform", "51", "--out", dir)
		if !strings.Contains(out, ": issued") {
			t.Fatalf("order code:\n%s", out)
		}
		testutil.OpenSSLVerifyPurpose(t, "", readFile(t, filepath.Join(dir, "cert.pem")), readFile(t, filepath.Join(dir, "chain.pem")), readFile(t, root))
		if eku := testutil.OpenSSL(t, "", "x509", "-in", filepath.Join(dir, "cert.pem"), "-noout", "-ext", "extendedKeyUsage"); !strings.Contains(eku, "Code Signing") {
			t.Fatalf("code signing certificate's EKU: %s", eku)
		}
		if key := testutil.OpenSSL(t, "", "pkey", "-in", filepath.Join(dir, "key.pem"), "-noout", "-text"); !strings.Contains(key, "3072 bit") {
			t.Fatalf("code signing key is not RSA 3072: %.80s", key)
		}

		png := testutil.Image(t, "png", 64, 64)
		logos := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(png) }))
		defer logos.Close()
		wdir := filepath.Join(work, "wfa")
		out = ok(t, env, "order", "wfa", "--cn", "osu.example.com", "--logo", logos.URL+"/logo.png", "--extra-logo", "spa="+logos.URL+"/es.png",
			"--friendly-name", "eng=Example Wi-Fi", "--friendly-name", "spa=Wifi de Ejemplo", "--org-file", org, "--out", wdir)
		if !strings.Contains(out, ": issued") {
			t.Fatalf("order wfa:\n%s", out)
		}
		if text := testutil.OpenSSL(t, "", "x509", "-in", filepath.Join(wdir, "cert.pem"), "-noout", "-text"); !strings.Contains(text, "engExample Wi-Fi") || !strings.Contains(text, "spaWifi de Ejemplo") {
			t.Fatalf("Wi-Fi certificate lacks the friendly names:\n%s", text)
		}
		if _, errOut, code := cli(t, env, "order", "wfa", "--cn", "osu.example.com", "--logo", logos.URL, "--friendly-name", "Example", "--org-file", org); code != exitUsage || !strings.Contains(errOut, "write LANG=TEXT") {
			t.Fatalf("friendly name without a language: exit %d %s", code, errOut)
		}
	})

	t.Run("requests", func(t *testing.T) {
		out := ok(t, env, "order", "ssl", "--request", "--cn", "shop.example.com", "--org-file", org, "--comments", "for the shop", "--out", filepath.Join(work, "shop"))
		m := regexp.MustCompile(`request (\d{8}) submitted`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("order ssl --request:\n%s", out)
		}
		list := ok(t, env, "request", "list", "--status", "pending")
		if !strings.Contains(list, m[1]) || !strings.Contains(list, "for the shop") {
			t.Fatalf("request list:\n%s", list)
		}
		if _, errOut, code := cli(t, env, "request", "reject", m[1]); code != exitUsage || !strings.Contains(errOut, "--note is required") {
			t.Fatalf("reject without a note: exit %d %s", code, errOut)
		}
		out = ok(t, env, "request", "approve", m[1], "--note", "fine")
		if !regexp.MustCompile(`request ` + m[1] + ` approved: order \d{8}`).MatchString(out) {
			t.Fatalf("approve:\n%s", out)
		}
		if show := ok(t, env, "request", "show", m[1]); !strings.Contains(show, "approved") || !strings.Contains(show, "fine") {
			t.Fatalf("request show:\n%s", show)
		}
		if _, errOut, code := cli(t, env, "request", "approve", m[1]); code != exitRefused || !strings.Contains(errOut, "request_already_decided") {
			t.Fatalf("approve twice: exit %d %s", code, errOut)
		}
	})

	t.Run("profile", func(t *testing.T) {
		home := t.TempDir()
		conf := filepath.Join(home, "certd", "config.toml")
		if err := os.MkdirAll(filepath.Dir(conf), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, conf, `[profiles.lab]
url = "`+d.url+`"
account = "`+creds.AccountID+`"
api-key = "`+creds.APIKey+`"
ca-file = "`+root+`"
`, 0o600)
		penv := []string{"XDG_CONFIG_HOME=" + home, "HOME=" + home}
		if out := ok(t, penv, "order", "show", id, "--profile", "lab"); !strings.Contains(out, "revoked") {
			t.Fatalf("show with a profile:\n%s", out)
		}
		if _, errOut, code := cli(t, append(penv, "CERTD_PROFILE=prod"), "order", "list"); code != exitUsage || !strings.Contains(errOut, `no profile "prod"`) {
			t.Fatalf("unknown profile: exit %d %s", code, errOut)
		}
		if err := os.Chmod(conf, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, errOut, code := cli(t, penv, "order", "list", "--profile", "lab"); code != exitUsage || !strings.Contains(errOut, "chmod 600") {
			t.Fatalf("world-readable profile: exit %d %s", code, errOut)
		}
	})

	t.Run("exit codes", func(t *testing.T) {
		badOrg := writeFile(t, filepath.Join(work, "bad-org.toml"), orgTOML+"colour = \"blue\"\n", 0o644)
		notOrg := writeFile(t, filepath.Join(work, "not-org.json"), `{"org_name": 7}`, 0o644)
		for _, tc := range []struct {
			name string
			env  []string
			args []string
			code int
			msg  string
		}{
			{"no settings", cliEnv(t), []string{"order", "list"}, exitUsage, "no server URL: pass --url, set CERTD_URL"},
			{"unknown flag", env, []string{"order", "list", "--colour"}, exitUsage, "unknown flag"},
			{"unknown command", env, []string{"order", "frobnicate"}, exitUsage, ""},
			{"missing argument", env, []string{"order", "show"}, exitUsage, "accepts 1 arg"},
			{"wrong key", append(cliEnv(t, "CERTD_URL="+d.url, "CERTD_ACCOUNT_ID="+creds.AccountID, "CERTD_CA_FILE="+root), "CERTD_API_KEY=wrong"), []string{"order", "list"}, exitDenied, "HTTP 401"},
			{"org file with an unknown key", env, []string{"order", "ssl", "--cn", "www.example.com", "--org-file", badOrg}, exitUsage, "--org-file " + badOrg + ": unknown key colour"},
			{"org file of the wrong shape", env, []string{"order", "ssl", "--cn", "www.example.com", "--org-file", notOrg}, exitUsage, "--org-file " + notOrg},
			{"missing org file", env, []string{"order", "ssl", "--cn", "www.example.com", "--org-file", filepath.Join(work, "absent.toml")}, exitUsage, "absent.toml"},
			{"operator command, bad order id", env, []string{"order", "approve", "abc", "--data", data}, exitUsage, `"abc" is not an order id`},
			{"operator command, bad account id", env, []string{"domain", "list", "--data", data, "--account", "x"}, exitUsage, `--account "x" is not an account id`},
			{"new key and a key", env, []string{"order", "renew", "00000001", "--new-key", "--key", "k.pem"}, exitUsage, "--new-key makes a key: not with --csr or --key"},
			{"no such order", env, []string{"order", "show", "99999999"}, exitNotFound, "HTTP 404"},
			{"refused order", env, []string{"order", "ssl", "--cn", "www.example.com", "--out", filepath.Join(work, "refused")}, exitRefused, "required_param:org_name"},
			{"untrusted server", cliEnv(t, "CERTD_URL="+d.url, "CERTD_ACCOUNT_ID=1", "CERTD_API_KEY=k"), []string{"order", "list"}, exitUnreachable, "certificate"},
			{"unreachable", cliEnv(t, "CERTD_URL=http://127.0.0.1:1", "CERTD_ACCOUNT_ID=1", "CERTD_API_KEY=k"), []string{"order", "list"}, exitUnreachable, "connection refused"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, errOut, code := cli(t, tc.env, tc.args...)
				if code != tc.code || !strings.Contains(errOut, tc.msg) {
					t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, errOut)
				}
			})
		}
	})
}

// TestOrderWait orders with --wait outside sandbox mode: the command
// shows what the order waits for (the TXT record to publish, then the
// organization), the test does what it says, and the certificate lands
// in the folder. Once with stdout a pipe (plain lines, each once, no
// terminal escapes), once on a pseudo-terminal (redrawn in place).
func TestOrderWait(t *testing.T) {
	resolver := testutil.NewDNS(t)
	data := t.TempDir()
	d := serve(t, data, "--http", "--dns-resolver", resolver.Addr())
	creds := bootstrapCreds(t, data)
	env := cliEnv(t, "CERTD_URL="+d.url, "CERTD_ACCOUNT_ID="+creds.AccountID, "CERTD_API_KEY="+creds.APIKey)
	work := t.TempDir()
	org := writeFile(t, filepath.Join(work, "org.toml"), orgTOML, 0o644)
	publish := regexp.MustCompile(`(\S+): publish TXT record (\S+) with the value (\S+)`)

	// follow reads the command's output line by line, acting on lines
	// that ask for something, until it exits.
	follow := func(t *testing.T, r io.Reader, act func(line string)) string {
		var all strings.Builder
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			act(sc.Text())
		}
		return all.String()
	}
	act := func(t *testing.T, id *string) func(string) {
		done := map[string]bool{}
		return func(line string) {
			if m := publish.FindStringSubmatch(line); m != nil && !done[m[2]] {
				done[m[2]] = true
				resolver.Add(t, m[2]+". 60 IN TXT \""+m[3]+"\"")
				if *id != "" {
					cli(t, env, "domain", "check", *id)
				}
			}
			if strings.Contains(line, "waiting for the CA to validate it") && !done["org"] {
				done["org"] = true
				orgs := ok(t, os.Environ(), "org", "list", "--data", data)
				ok(t, os.Environ(), "org", "validate", strings.Fields(strings.Split(orgs, "\n")[1])[0], "--data", data, "--note", "checked")
			}
		}
	}
	lastOrderID := func(t *testing.T) string {
		var list struct {
			Orders []struct {
				OrderID string `json:"order_id"`
			} `json:"orders"`
		}
		if err := json.Unmarshal([]byte(ok(t, env, "order", "list", "--json")), &list); err != nil || len(list.Orders) == 0 {
			t.Fatalf("order list: %v", err)
		}
		return list.Orders[0].OrderID
	}

	t.Run("plain", func(t *testing.T) {
		dir := filepath.Join(work, "plain")
		cmd := exec.Command(binary, "order", "ssl", "--cn", "plain.example.com", "--org-file", org, "--wait", "--timeout", "2m", "--out", dir)
		cmd.Env = env
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var id string
		a := act(t, &id)
		out := follow(t, stdout, func(line string) {
			if id == "" {
				id = lastOrderID(t)
			}
			a(line)
		})
		if err := cmd.Wait(); err != nil {
			t.Fatalf("order ssl --wait: %v\n%s%s", err, out, stderr.String())
		}
		t.Logf("output on a pipe:\n%s", out)
		if strings.Contains(out, "\x1b") {
			t.Fatalf("terminal escapes on a pipe:\n%q", out)
		}
		seen := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if seen[l] {
				t.Errorf("line printed twice: %q\n%s", l, out)
			}
			seen[l] = true
		}
		for _, want := range []string{"plain.example.com: publish TXT record _dnsauth.plain.example.com", "organization Tampa Bay Cray LLC: waiting", "issued", "cert.pem"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		testutil.OpenSSLVerify(t, readFile(t, filepath.Join(dir, "cert.pem")), readFile(t, filepath.Join(dir, "chain.pem")), readFile(t, filepath.Join(data, "ca", "root.crt")))
	})

	t.Run("terminal", func(t *testing.T) {
		dir := filepath.Join(work, "tty")
		cmd := exec.Command(binary, "order", "ssl", "--cn", "tty.example.org", "--org-file", org, "--wait", "--timeout", "2m", "--out", dir)
		cmd.Env = append(env, "TERM=xterm")
		tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 120})
		if err != nil {
			t.Fatal(err)
		}
		defer tty.Close()
		var id string
		a := act(t, &id)
		out := follow(t, tty, func(line string) {
			if id == "" {
				id = lastOrderID(t)
			}
			a(line)
		})
		if err := cmd.Wait(); err != nil {
			t.Fatalf("order ssl --wait on a terminal: %v\n%s", err, out)
		}
		t.Logf("output on a terminal:\n%q", out)
		for _, want := range []string{"tty.example.org: publish TXT record _dnsauth.tty.example.org", "\x1b[", "waiting for the certificate (", "issued"} {
			if !strings.Contains(out, want) {
				t.Errorf("terminal output lacks %q:\n%q", want, out)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "fullchain.pem")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("domain list and check", func(t *testing.T) {
		out := ok(t, env, "domain", "list")
		if !strings.Contains(out, "plain.example.com") || !strings.Contains(out, "dns-txt-token") {
			t.Fatalf("domain list:\n%s", out)
		}
		// An order for a domain nobody published: check says what to do
		// and exits 8.
		out = ok(t, env, "order", "ssl", "--cn", "new.example.net", "--org-file", org, "--out", filepath.Join(work, "new"))
		if !strings.Contains(out, "new.example.net: publish TXT record _dnsauth.new.example.net") || !strings.Contains(out, "then: certd order fetch") {
			t.Fatalf("order without --wait:\n%s", out)
		}
		id := lastOrderID(t)
		_, errOut, code := cli(t, env, "order", "ssl", "--cn", "slow.example.net", "--org-file", org, "--out", filepath.Join(work, "slow"), "--wait", "--timeout", "1s")
		if code != 6 || !strings.Contains(errOut, "gave up waiting after 1s (--timeout); order ") {
			t.Fatalf("--timeout: exit %d %s", code, errOut)
		}
		stdout, _, code := cli(t, env, "domain", "check", id)
		if code != exitNotReady || !strings.Contains(stdout, "_dnsauth.new.example.net") {
			t.Fatalf("domain check: exit %d\n%s", code, stdout)
		}
		if _, errOut, code := cli(t, env, "order", "fetch", id); code != exitNotReady || !strings.Contains(errOut, "not issued yet") {
			t.Fatalf("fetch before issuance: exit %d %s", code, errOut)
		}
		deadline := time.Now().Add(time.Minute)
		m := publish.FindStringSubmatch(stdout)
		resolver.Add(t, m[2]+". 60 IN TXT \""+m[3]+"\"")
		for {
			_, _, code := cli(t, env, "domain", "check", id)
			if code == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("domain check never passed after publishing")
			}
			time.Sleep(500 * time.Millisecond)
		}
	})
}
