// Command certd-load is certd's load generator: N concurrent clients, each
// repeating the real flow of a subscriber (POST /order/ssl with a fresh
// CSR from a pool made before the clock starts, then GET
// /order/{id}/certificate until the certificate is issued), against one
// or more nodes over HTTP or HTTPS, for a count or a duration.
//
//	certd-load --url https://127.0.0.1:8443 --ca-file certd-data/ca/root.crt \
//	    --account 000001 -c 32 -d 30s
//
// While it runs it prints a progress line each second; at the end,
// issued certificates per second, each endpoint's latency (p50, p90, p99,
// max), errors by v1 code, and the server's CPU time and peak resident
// memory (from its /metrics) for the run; --json for machines. Against a
// --sandbox server every order is issued at once; against a server whose
// account has pre-validated domains and organization (the production
// path) the GETs wait for the pipeline. Outside sandbox mode an account
// may make 1000 requests an hour by default: lift it for the run
// (certd account limit ID --requests-per-hour unlimited, or serve with
// --requests-per-hour -1), or the run ends in rate_limit_exceeded.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/keygen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "certd-load:", err)
		os.Exit(1)
	}
}

// The endpoints the flow calls, as the report names them.
const (
	epOrder = "POST /order/ssl"
	epCert  = "GET /order/{id}/certificate"
)

// config is the command line.
type config struct {
	nodes          []string
	account, key   string
	caFile         string
	clients, count int
	duration       time.Duration
	pool           int
	poll           time.Duration
	maxWait        time.Duration
	json           bool
}

func parse(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("certd-load", flag.ContinueOnError)
	urls := fs.String("url", "http://127.0.0.1:8443", "comma-separated base URLs of the nodes (round-robin)")
	fs.StringVar(&c.account, "account", "", "account id")
	fs.StringVar(&c.key, "key", "", "API key (or CERTD_LOAD_KEY)")
	fs.StringVar(&c.caFile, "ca-file", "", "PEM root to trust for HTTPS (certd-data/ca/root.crt)")
	fs.IntVar(&c.clients, "c", 8, "concurrent clients")
	fs.IntVar(&c.count, "n", 0, "orders to place (default 1000 when -d is not given)")
	fs.DurationVar(&c.duration, "d", 0, "run for this long instead of a count")
	fs.IntVar(&c.pool, "pool", 2000, "CSRs made before the clock starts, used in turn")
	fs.DurationVar(&c.poll, "poll", 100*time.Millisecond, "wait between GETs of a certificate not issued yet")
	fs.DurationVar(&c.maxWait, "max-wait", 2*time.Minute, "give up on an order not issued this long after it was placed (counted as an error)")
	fs.BoolVar(&c.json, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.key == "" {
		c.key = os.Getenv("CERTD_LOAD_KEY")
	}
	c.nodes = strings.Split(*urls, ",")
	switch {
	case c.account == "" || c.key == "":
		return c, errors.New("--account and --key (or CERTD_LOAD_KEY) are required")
	case c.clients < 1 || c.count < 0 || c.duration < 0 || c.pool < 1:
		return c, errors.New("-c and --pool must be at least 1, -n and -d not negative")
	case c.count > 0 && c.duration > 0:
		return c, errors.New("-n or -d, not both")
	case c.count == 0 && c.duration == 0:
		c.count = 1000
	}
	if c.count > 0 && c.pool > c.count {
		c.pool = c.count
	}
	return c, nil
}

// Report is what a run measured.
type Report struct {
	Clients      int                `json:"clients"`
	Nodes        int                `json:"nodes"`
	ElapsedS     float64            `json:"elapsed_s"`
	Orders       int64              `json:"orders"`
	Issued       int64              `json:"issued"`
	IssuedPerS   float64            `json:"issued_per_s"`
	Endpoints    map[string]Latency `json:"endpoints"`
	Errors       map[string]int     `json:"errors"`
	ServerCPUS   *float64           `json:"server_cpu_s,omitempty"`
	ServerRSSMiB *float64           `json:"server_peak_rss_mib,omitempty"`
	// CommitsPerCert is the server's SQLite commits per issued
	// certificate (its certd_sqlite_commits_total), when it reports them.
	CommitsPerCert *float64 `json:"sqlite_commits_per_certificate,omitempty"`
	latencies      map[string][]time.Duration
}

// Latency is one endpoint's answer times, in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// run parses args, runs the load and writes the report to out (progress
// to progress).
func run(args []string, out, progress io.Writer) error {
	cfg, err := parse(args)
	if err != nil {
		return err
	}
	hc, err := httpClient(cfg)
	if err != nil {
		return err
	}
	pool := make([]string, cfg.pool)
	for i := range pool {
		if pool[i], err = newCSR(fmt.Sprintf("load%d.example.com", i)); err != nil {
			return err
		}
	}
	cpu0, _ := serverMetric(hc, cfg.nodes, "process_cpu_seconds_total")
	commits0, _ := serverMetric(hc, cfg.nodes, "certd_sqlite_commits_total")
	rep := load(cfg, hc, pool, progress)
	if cpu1, ok := serverMetric(hc, cfg.nodes, "process_cpu_seconds_total"); ok {
		used := cpu1 - cpu0
		rep.ServerCPUS = &used
	}
	if commits1, ok := serverMetric(hc, cfg.nodes, "certd_sqlite_commits_total"); ok && rep.Issued > 0 {
		per := (commits1 - commits0) / float64(rep.Issued)
		rep.CommitsPerCert = &per
	}
	if cfg.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.print(out)
	}
	if failed := rep.Orders - rep.Issued; failed > 0 || len(rep.Errors) > 0 {
		return fmt.Errorf("%d of %d orders not issued; errors: %v", failed, rep.Orders, rep.Errors)
	}
	return nil
}

func httpClient(cfg config) (*http.Client, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = cfg.clients
	if cfg.caFile != "" {
		b, err := os.ReadFile(cfg.caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("--ca-file %s: no PEM certificate", cfg.caFile)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: transport, Timeout: 60 * time.Second}, nil
}

// load runs the clients and gathers what they saw.
func load(cfg config, hc *http.Client, pool []string, progress io.Writer) *Report {
	rep := &Report{Clients: cfg.clients, Nodes: len(cfg.nodes), Errors: map[string]int{}, latencies: map[string][]time.Duration{}}
	var mu sync.Mutex
	record := func(ep string, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		rep.latencies[ep] = append(rep.latencies[ep], d)
		if err != nil {
			rep.Errors[errorCode(err)]++
		}
	}
	var next, orders, issued atomic.Int64
	start := time.Now()
	deadline := start.Add(cfg.duration)
	more := func() (int64, bool) {
		i := next.Add(1) - 1
		if cfg.count > 0 {
			return i, i < int64(cfg.count)
		}
		return i, time.Now().Before(deadline)
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	var peakRSS float64
	ticker := time.NewTicker(time.Second)
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			case <-ticker.C:
				if rss, ok := serverMetric(hc, cfg.nodes, "process_resident_memory_bytes"); ok && rss > peakRSS {
					peakRSS = rss
				}
				el := time.Since(start).Seconds()
				fmt.Fprintf(progress, "%5.0fs  orders %d  issued %d  (%.0f/s)\n", el, orders.Load(), issued.Load(), float64(issued.Load())/el)
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < cfg.clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i, ok := more(); ok; i, ok = more() {
				c := client.New(cfg.nodes[int(i)%len(cfg.nodes)], cfg.account, cfg.key)
				c.HTTPClient, c.Retries = hc, 0 // a load generator counts failures; it does not hide them
				name := fmt.Sprintf("load%d.example.com", int(i)%len(pool))
				t0 := time.Now()
				id, err := c.OrderSSL(ctx, order(pool[int(i)%len(pool)], name))
				record(epOrder, time.Since(t0), err)
				orders.Add(1)
				if err != nil {
					continue
				}
				for {
					t1 := time.Now()
					_, err := c.Certificate(ctx, id)
					if client.HasCode(err, "cert_unavailable_processing") {
						if time.Since(t0) > cfg.maxWait {
							record(epCert, time.Since(t1), errNotIssued)
							break
						}
						record(epCert, time.Since(t1), nil)
						time.Sleep(cfg.poll)
						continue
					}
					record(epCert, time.Since(t1), err)
					if err == nil {
						issued.Add(1)
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	ticker.Stop()
	close(stop)
	<-stopped
	elapsed := time.Since(start)
	rep.ElapsedS = elapsed.Seconds()
	rep.Orders, rep.Issued = orders.Load(), issued.Load()
	rep.IssuedPerS = float64(rep.Issued) / elapsed.Seconds()
	rep.Endpoints = map[string]Latency{}
	for ep, lat := range rep.latencies {
		slices.Sort(lat)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		pct := func(p float64) float64 { return ms(lat[int(p*float64(len(lat)-1))]) }
		rep.Endpoints[ep] = Latency{Count: len(lat), P50: pct(0.50), P90: pct(0.90), P99: pct(0.99), Max: ms(lat[len(lat)-1])}
	}
	if peakRSS > 0 {
		mib := peakRSS / (1 << 20)
		rep.ServerRSSMiB = &mib
	}
	return rep
}

// errNotIssued is an order still not issued after --max-wait.
var errNotIssued = errors.New("not issued within --max-wait")

// errorCode names an error for the report: the first v1 code, else the
// HTTP status, else the error.
func errorCode(err error) string {
	var e *client.Error
	if errors.As(err, &e) {
		if c := e.Code(); c != "" {
			return c
		}
		return "HTTP " + strconv.Itoa(e.Status)
	}
	return err.Error()
}

func (r *Report) print(out io.Writer) {
	fmt.Fprintf(out, "clients %d, nodes %d, elapsed %.1fs, orders %d, issued %d, errors %d\n",
		r.Clients, r.Nodes, r.ElapsedS, r.Orders, r.Issued, len(r.Errors))
	fmt.Fprintf(out, "issued %.0f certificates/s\n", r.IssuedPerS)
	for _, ep := range []string{epOrder, epCert} {
		if l, ok := r.Endpoints[ep]; ok {
			fmt.Fprintf(out, "%-28s n=%-7d p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms\n", ep, l.Count, l.P50, l.P90, l.P99, l.Max)
		}
	}
	for code, n := range r.Errors {
		fmt.Fprintf(out, "error %s: %d\n", code, n)
	}
	if r.ServerCPUS != nil {
		fmt.Fprintf(out, "server CPU %.1fs (%.2f cores)\n", *r.ServerCPUS, *r.ServerCPUS/r.ElapsedS)
	}
	if r.CommitsPerCert != nil {
		fmt.Fprintf(out, "server SQLite commits per certificate %.2f\n", *r.CommitsPerCert)
	}
	if r.ServerRSSMiB != nil {
		fmt.Fprintf(out, "server peak resident memory %.0f MiB\n", *r.ServerRSSMiB)
	}
}

// serverMetric sums a Prometheus gauge or counter over the nodes' /metrics
// (false if a node does not serve it).
func serverMetric(hc *http.Client, nodes []string, name string) (float64, bool) {
	var sum float64
	for _, n := range nodes {
		resp, err := hc.Get(strings.TrimSuffix(n, "/") + "/metrics")
		if err != nil {
			return 0, false
		}
		found := false
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			// "name value" or "name{labels} value": every series is summed.
			line := sc.Text()
			if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
				continue
			}
			if f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
				sum += f
				found = true
			}
		}
		resp.Body.Close()
		if !found {
			return 0, false
		}
	}
	return sum, true
}

// newCSR makes a P-256 key and a CSR for name, as a subscriber would.
func newCSR(name string) (string, error) {
	key, err := keygen.New("ecdsa")
	if err != nil {
		return "", err
	}
	return keygen.CSR(key, name, []string{name})
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
