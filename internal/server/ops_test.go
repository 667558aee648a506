package server_test

import (
	"strings"
	"testing"
)

func TestHealthReadyMetrics(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	e.placeOrder(nil)
	if r := e.do(req{method: "GET", path: "/nothing"}); r.status != 404 {
		t.Fatalf("= %d", r.status)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		r := e.do(req{method: "GET", path: path, noAuth: true})
		if r.status != 200 || !strings.Contains(string(r.body), `"node":`) {
			t.Fatalf("GET %s = %d %s", path, r.status, r.body)
		}
	}
	r := e.do(req{method: "GET", path: "/metrics", noAuth: true})
	body := string(r.body)
	for _, want := range []string{
		`certd_http_requests_total{endpoint="/order/ssl",method="POST",node=`,
		`certd_certificates_issued_total{issuer="intermediate",node=`,
		`certd_issuance_seconds_bucket`,
		`certd_orders_created_total{node=`,
		`certd_orders{node=`,
		`certd_validation_queue_depth{node=`,
		`status="404"`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}
