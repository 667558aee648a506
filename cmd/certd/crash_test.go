package main_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/store/sqlite"
	"github.com/certd/certd/internal/testutil"
)

// validateAccount pre-validates example.com for account 1 and, through a
// first order that it waits for, validates the sample order's
// organization (the operator's steps), so that later orders for
// www.example.com are issued by the pipeline without waiting.
func validateAccount(t *testing.T, data, url string) {
	t.Helper()
	if out, err := run(t, "domain", "validate", "--data", data, "--account", "1", "example.com"); err != nil {
		t.Fatal(err, out)
	}
	creds := bootstrapCreds(t, data)
	c := client.New(url, creds.AccountID, creds.APIKey)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id, err := c.OrderSSL(ctx, sampleOrder(testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	orgs, err := run(t, "org", "list", "--data", data)
	if err != nil {
		t.Fatal(err, orgs)
	}
	if out, err := run(t, "org", "validate", strings.Fields(strings.Split(orgs, "\n")[1])[0], "--data", data, "--note", "registry checked"); err != nil {
		t.Fatal(err, out)
	}
	if _, err := c.WaitForCertificate(ctx, id); err != nil {
		t.Fatal(err)
	}
}

// TestKilledAtRandomUnderLoad kills the server with SIGKILL at a random
// moment while clients place orders (production mode: every order goes
// through the job queue, its checks, the lint, the serial's reservation,
// the signature and the commit), four times, restarting it each time.
// Then: every order answered 201 exists and is issued; every order in the
// database, answered or not, ends issued (issuance resumes); every
// certificate a client fetched is on record, byte for byte; each record's
// certificate carries its own serial, and no serial is used twice; the
// audit chain verifies.
func TestKilledAtRandomUnderLoad(t *testing.T) {
	t.Run("production", func(t *testing.T) { killedAtRandom(t, false) })
	// In sandbox mode issuance runs inside the POST, so the kills cut
	// issuances off more often.
	t.Run("sandbox", func(t *testing.T) { killedAtRandom(t, true) })
}

func killedAtRandom(t *testing.T, sandbox bool) {
	data := t.TempDir()
	args := []string{"--http", "--job-timeout", "2s"}
	if sandbox {
		args = append(args, "--sandbox")
	}
	d := serve(t, data, args...)
	if !sandbox {
		validateAccount(t, data, d.url)
	}
	creds := bootstrapCreds(t, data)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	var mu sync.Mutex
	var answered []string
	for round := 0; round < 4; round++ {
		csrs := make(chan string, 60)
		for i := 0; i < cap(csrs); i++ {
			csrs <- testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com")
		}
		close(csrs)
		c := client.New(d.url, creds.AccountID, creds.APIKey)
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					csr, ok := <-csrs
					if !ok {
						return
					}
					id, err := c.OrderSSL(ctx, sampleOrder(csr))
					if err != nil {
						return // the server is gone
					}
					mu.Lock()
					answered = append(answered, id)
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(20+rnd.IntN(400)) * time.Millisecond)
		if err := d.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = d.cmd.Wait()
		cancel()
		wg.Wait()
		mu.Lock()
		t.Logf("round %d: killed after %d orders answered in all", round+1, len(answered))
		mu.Unlock()
		d = serve(t, data, args...)
	}

	c := client.New(d.url, creds.AccountID, creds.APIKey)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fetched := map[string][]byte{} // serial -> DER a client received
	for _, id := range answered {
		cert, err := c.WaitForCertificate(ctx, id, client.WithPollInterval(200*time.Millisecond, time.Second))
		if err != nil {
			t.Fatalf("order %s, answered 201: %v", id, err)
		}
		b, _ := pem.Decode([]byte(cert.Certs.Certificate))
		if b == nil {
			t.Fatalf("order %s: no certificate PEM", id)
		}
		fetched[cert.Serial] = b.Bytes
	}
	// Orders the server created but was killed before answering are issued
	// too: none stays pending.
	for {
		page, err := c.Orders(ctx, client.OrderFilter{Status: "pending issuance", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Orders) == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d orders still pending, the first %s", len(page.Orders), page.Orders[0].OrderID)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := d.stop(t); err != nil {
		t.Fatal(err)
	}

	db, err := sqlite.Open(context.Background(), filepath.Join(data, "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	issued, err := db.SerialsInState(context.Background(), store.CertIssued)
	if err != nil {
		t.Fatal(err)
	}
	reserved, _ := db.SerialsInState(context.Background(), store.CertReserved)
	seen := map[string]bool{}
	for _, serial := range issued {
		rec, err := db.GetCertificate(context.Background(), serial)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(rec.DER)
		if err != nil {
			t.Fatalf("record %s: %v", serial, err)
		}
		s := order.SerialText(cert.SerialNumber)
		if s != serial || seen[s] {
			t.Fatalf("record %s holds a certificate with serial %s (seen before: %v)", serial, s, seen[s])
		}
		seen[s] = true
	}
	for serial, der := range fetched {
		rec, err := db.GetCertificate(context.Background(), serial)
		if err != nil || rec.Status != store.CertIssued || !bytes.Equal(rec.DER, der) {
			t.Fatalf("fetched certificate %s: record %v %s", serial, err, rec.Status)
		}
	}
	t.Logf("%d orders answered, %d certificates issued, %d serials reserved by issuances the kills cut off", len(answered), len(issued), len(reserved))
	if out, err := run(t, "audit", "verify", "--data", data); err != nil {
		t.Fatalf("audit verify: %v %s", err, out)
	}
}
