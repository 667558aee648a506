package testutil

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// DNS is a real DNS server (miekg/dns) on loopback, UDP and TCP on one
// port, answering from records the test sets, the way a recursive
// resolver would: it follows CNAMEs within its data and returns the
// chain. Names it holds no records for are NXDOMAIN; names marked with
// ServFail answer SERVFAIL.
type DNS struct {
	mu       sync.Mutex
	records  map[string][]dns.RR // by lower-case FQDN
	servfail map[string]bool
	held     map[string]*hold
	addr     string
}

// hold is a name whose queries wait unanswered until released.
type hold struct {
	arrived  chan struct{}
	released chan struct{}
	once     sync.Once
}

func (h *hold) release() { h.once.Do(func() { close(h.released) }) }

// NewDNS starts a DNS server for the test's lifetime.
func NewDNS(t testing.TB) *DNS {
	t.Helper()
	d := &DNS{records: map[string][]dns.RR{}, servfail: map[string]bool{}, held: map[string]*hold{}}
	var udp net.PacketConn
	var tcp net.Listener
	for attempt := 0; ; attempt++ {
		var err error
		udp, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tcp, err = net.Listen("tcp", udp.LocalAddr().String())
		if err == nil {
			break
		}
		udp.Close()
		if attempt > 20 {
			t.Fatal(err)
		}
	}
	d.addr = udp.LocalAddr().String()
	handler := dns.HandlerFunc(d.serve)
	us := &dns.Server{PacketConn: udp, Handler: handler}
	ts := &dns.Server{Listener: tcp, Handler: handler}
	go func() { _ = us.ActivateAndServe() }()
	go func() { _ = ts.ActivateAndServe() }()
	t.Cleanup(func() {
		d.mu.Lock()
		for _, h := range d.held {
			h.release() // the servers wait for their handlers
		}
		d.mu.Unlock()
		_ = us.Shutdown()
		_ = ts.Shutdown()
	})
	return d
}

// Addr is the server's HOST:PORT.
func (d *DNS) Addr() string { return d.addr }

// Add adds records in zone-file syntax ("_dnsauth.example.com. 60 IN TXT \"x\"").
func (d *DNS) Add(t testing.TB, records ...string) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("bad record %q: %v", s, err)
		}
		name := strings.ToLower(rr.Header().Name)
		d.records[name] = append(d.records[name], rr)
	}
}

// Clear removes every record of name.
func (d *DNS) Clear(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.records, strings.ToLower(dns.Fqdn(name)))
}

// ServFail makes queries for name fail.
func (d *DNS) ServFail(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.servfail[strings.ToLower(dns.Fqdn(name))] = true
}

// Hold makes queries for name wait, unanswered, until release is called
// (then they are answered as usual): a lookup caught in the middle. The
// channel receives a value for each query that arrives, without
// blocking the server.
func (d *DNS) Hold(name string) (arrived <-chan struct{}, release func()) {
	h := &hold{arrived: make(chan struct{}, 100), released: make(chan struct{})}
	d.mu.Lock()
	d.held[strings.ToLower(dns.Fqdn(name))] = h
	d.mu.Unlock()
	return h.arrived, h.release
}

// wait blocks a query for a held name until its release.
func (d *DNS) wait(name string) {
	d.mu.Lock()
	h := d.held[name]
	d.mu.Unlock()
	if h == nil {
		return
	}
	select {
	case h.arrived <- struct{}{}:
	default:
	}
	<-h.released
}

func (d *DNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) == 1 {
		d.wait(strings.ToLower(req.Question[0].Name))
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.servfail[name] {
		m.Rcode = dns.RcodeServerFailure
		_ = w.WriteMsg(m)
		return
	}
	for hops := 0; hops < 8; hops++ {
		rrs, ok := d.records[name]
		if !ok {
			if hops == 0 && !d.hasBelow(name) {
				m.Rcode = dns.RcodeNameError
			}
			break
		}
		var cname *dns.CNAME
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
			if c, ok := rr.(*dns.CNAME); ok && q.Qtype != dns.TypeCNAME {
				cname = c
			}
		}
		if len(m.Answer) > 0 || cname == nil {
			break
		}
		m.Answer = append(m.Answer, cname)
		name = strings.ToLower(cname.Target)
	}
	_ = w.WriteMsg(m)
}

// hasBelow reports whether some name under name has records (an empty
// non-terminal exists: NOERROR with no data, not NXDOMAIN).
func (d *DNS) hasBelow(name string) bool {
	for n := range d.records {
		if strings.HasSuffix(n, "."+name) {
			return true
		}
	}
	return false
}
