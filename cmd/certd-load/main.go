// Command certd-load is a load generator for certd: it places SSL orders
// through the v1 API from several concurrent clients, spread round-robin
// over one or more nodes, and reports the throughput and the latency
// percentiles of the answers. Against a --sandbox server every 201 is an
// issued certificate, so the figure is issuance throughput end to end
// (HTTP, JSON, checks, lint, signature, commit).
//
//	certd-load --url http://127.0.0.1:8443 --account 000001 --key KEY -c 8 -n 2000
//
// CSRs are generated before the clock starts: key generation is the
// subscriber's cost, not the CA's.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certd/certd/client"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "certd-load:", err)
		os.Exit(1)
	}
}

// run parses args, places the orders and writes the report to out.
func run(args []string, out io.Writer) error {
	flag := flag.NewFlagSet("certd-load", flag.ContinueOnError)
	urls := flag.String("url", "http://127.0.0.1:8443", "comma-separated base URLs of the nodes (round-robin)")
	account := flag.String("account", "", "account id")
	key := flag.String("key", "", "API key (or CERTD_LOAD_KEY)")
	conc := flag.Int("c", 8, "concurrent clients")
	n := flag.Int("n", 1000, "orders to place")
	if err := flag.Parse(args); err != nil {
		return err
	}
	if *key == "" {
		*key = os.Getenv("CERTD_LOAD_KEY")
	}
	if *account == "" || *key == "" {
		return errors.New("--account and --key (or CERTD_LOAD_KEY) are required")
	}
	if *conc < 1 || *n < 1 {
		return errors.New("-c and -n must be at least 1")
	}
	nodes := strings.Split(*urls, ",")
	csrs := make([]string, *n)
	for i := range csrs {
		csr, err := newCSR(fmt.Sprintf("load%d.example.com", i))
		if err != nil {
			return err
		}
		csrs[i] = csr
	}
	transport := &http.Transport{MaxIdleConnsPerHost: *conc}
	jobs := make(chan int)
	lat := make([]time.Duration, *n)
	var mu sync.Mutex
	var failures int
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c := client.New(nodes[i%len(nodes)], *account, *key)
				c.HTTPClient = &http.Client{Transport: transport, Timeout: 60 * time.Second}
				t0 := time.Now()
				_, err := c.OrderSSL(context.Background(), order(csrs[i], fmt.Sprintf("load%d.example.com", i)))
				lat[i] = time.Since(t0)
				if err != nil {
					mu.Lock()
					failures++
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < *n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(10 * time.Microsecond) }
	fmt.Fprintf(out, "orders %d, failed %d, clients %d, nodes %d, elapsed %v\n", *n, failures, *conc, len(nodes), elapsed.Round(time.Millisecond))
	fmt.Fprintf(out, "throughput %.0f orders/s\n", float64(*n-failures)/elapsed.Seconds())
	fmt.Fprintf(out, "latency p50 %v, p90 %v, p99 %v, max %v\n", pct(0.50), pct(0.90), pct(0.99), lat[len(lat)-1].Round(10*time.Microsecond))
	if failures > 0 {
		return fmt.Errorf("%d orders failed; first: %v", failures, firstErr)
	}
	return nil
}

func newCSR(name string) (string, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}, DNSNames: []string{name}}, k)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}

func order(csr, name string) client.OrderSSLRequest {
	return client.OrderSSLRequest{
		CSR: csr, Validity: 1, CommonName: name, ServerType: 2,
		Org: client.Org{
			OrgName: "Load Test LLC", OrgAddr1: "1 Load Street", OrgCity: "Tampa", OrgState: "FL", OrgZip: "33615", OrgCountry: "US",
			OrgContactFirstName: "Load", OrgContactLastName: "Tester", OrgContactEmail: "load@example.com", OrgContactTelephone: "555-123-1234",
		},
	}
}
