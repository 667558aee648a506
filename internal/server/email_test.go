package server_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/certd/certd/internal/testutil"
)

// browser returns a headless Chromium context, or skips when Chromium is
// not installed (CI installs it and sets CERTD_REQUIRE_BROWSER=1, which
// turns the skip into a failure).
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CERTD_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium is not installed")
		}
		t.Skip("chromium not installed; .ci/run installs it")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

var linkPattern = regexp.MustCompile(`https?://\S+/dcv/email/\S+`)

func TestEmailValidation(t *testing.T) {
	mail := testutil.NewSMTP(t)
	dnsSrv := testutil.NewDNS(t)
	e := start(t, envOptions{http: true, dnsResolver: dnsSrv.Addr(), caaIdentities: []string{"certd.test"}, smtpRelay: mail.Addr()})
	d := &dcvEnv{env: e, dns: dnsSrv}
	id := d.placeOrder(map[string]any{"common_name": "www.example.com", "sans": "", "dcv_method": "email"})
	d.validateOrgs()
	dom := domains(d.dcvOf(id))[0]
	if dom["value"] != nil || len(dom["email_addresses"].([]any)) != 5 || dom["email_addresses"].([]any)[0] != "admin@www.example.com" {
		t.Fatalf("email domain = %v", dom)
	}

	var msg testutil.Mail
	deadline := time.Now().Add(20 * time.Second)
	for len(mail.Received()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no mail; dcv = %v", d.dcvOf(id))
		}
		time.Sleep(100 * time.Millisecond)
	}
	msg = mail.Received()[0]
	if len(msg.To) != 5 || msg.To[4] != "postmaster@www.example.com" || !strings.Contains(msg.Data, "Random value: ") {
		t.Fatalf("mail = %+v", msg)
	}
	link := linkPattern.FindString(msg.Data)
	if !strings.HasPrefix(link, e.url+"/dcv/email/") {
		t.Fatalf("no confirmation link in %q", msg.Data)
	}

	// A link scanner's GET confirms nothing.
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "www.example.com") || !strings.Contains(string(page), `method="post"`) {
		t.Fatalf("confirmation page = %d %s", resp.StatusCode, page)
	}
	time.Sleep(1500 * time.Millisecond)
	if st := domains(d.dcvOf(id))[0]["status"]; st != "pending" {
		t.Fatalf("a GET confirmed the domain: %v", st)
	}

	// A person opens the link in a real browser and presses the button.
	ctx := browser(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitNotPresent(chromedp.ID("confirm")),
	); err != nil {
		t.Fatalf("browser: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if title != "Confirmed" {
		t.Fatalf("page title after confirming = %q", title)
	}
	d.waitIssued(id)

	resp, err = http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("used link answered %d", resp.StatusCode)
	}
}

func TestEmailMethodNeedsRelay(t *testing.T) {
	e := start(t, envOptions{})
	r := e.do(req{method: "POST", path: "/order/ssl", headers: jsonCT(), body: orderBody(t, csrFor(t, "x"), map[string]any{"dcv_method": "email"})})
	if r.status != 400 || r.codes(t)[0] != "invalid_param:dcv_method" {
		t.Fatalf("= %d %s", r.status, r.body)
	}
}
