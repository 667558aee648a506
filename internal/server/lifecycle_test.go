package server_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestGracefulShutdown starts a request, begins the shutdown while its
// body is still arriving, and checks that the request is answered and
// committed before Serve returns.
func TestGracefulShutdown(t *testing.T) {
	e := start(t, envOptions{sandbox: true, http: true})
	body := orderBody(t, csrFor(t, "www.example.com"), nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	auth := base64.StdEncoding.EncodeToString([]byte(e.creds.AccountID + ":" + e.creds.APIKey))
	fmt.Fprintf(conn, "POST /order/ssl HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", auth, len(body))
	half := len(body) / 2
	if _, err := io.WriteString(conn, body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the server is now reading the body

	e.cancel()
	select {
	case err := <-e.stopped:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := io.WriteString(conn, body[half:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("in-flight request = %d %s", resp.StatusCode, b)
	}
	select {
	case err := <-e.stopped:
		e.stopped <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the in-flight request")
	}
	// New connections are refused once the server has stopped.
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(e.url, "http://"), time.Second); err == nil {
		c.Close()
		t.Fatal("server still accepts connections after shutdown")
	}
}

// TestSlowClientsAreCut checks that a client that sends its headers or
// its body too slowly loses the connection instead of holding it.
func TestSlowClientsAreCut(t *testing.T) {
	e := start(t, envOptions{http: true, readHeaderTimeout: 300 * time.Millisecond, readTimeout: 600 * time.Millisecond})
	addr := strings.TrimPrefix(e.url, "http://")
	auth := base64.StdEncoding.EncodeToString([]byte(e.creds.AccountID + ":" + e.creds.APIKey))
	tests := []struct {
		name    string
		partial string
	}{
		{"headers never finish", "GET /order/1 HTTP/1.1\r\nHost: x\r\n"},
		{"body never finishes", "POST /order/ssl HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + auth + "\r\nContent-Length: 1000\r\nContent-Type: application/json\r\n\r\n{"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.partial); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(conn) // returns when the server closes the connection
			if time.Since(start) >= 10*time.Second {
				t.Fatal("the server held the connection of a slow client")
			}
			if strings.Contains(string(answer), " 201 ") || strings.Contains(string(answer), " 401 ") {
				t.Fatalf("the partial request was processed: %s", answer)
			}
		})
	}
}

// TestIdleConnectionsAreClosed: a keep-alive connection that sends
// nothing after its answer is closed after the idle timeout.
func TestIdleConnectionsAreClosed(t *testing.T) {
	e := start(t, envOptions{http: true, idleTimeout: 400 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /ca/root.crt HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(conn) // the answer, then EOF when the server closes
	if !strings.HasPrefix(string(answer), "HTTP/1.1 200 ") {
		t.Fatalf("answer: %.100q", answer)
	}
	if time.Since(start) >= 10*time.Second {
		t.Fatal("the server kept an idle connection open")
	}
}

// TestExpectContinue sends the headers with Expect: 100-continue, waits
// for the interim 100 answer, and only then sends the body, as curl does
// for large bodies.
func TestExpectContinue(t *testing.T) {
	e := start(t, envOptions{sandbox: true, http: true})
	body := orderBody(t, csrFor(t, "www.example.com"), nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	auth := base64.StdEncoding.EncodeToString([]byte(e.creds.AccountID + ":" + e.creds.APIKey))
	fmt.Fprintf(conn, "POST /order/ssl HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Type: application/vnd.digicert.rest-v1+json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", auth, len(body))
	r := bufio.NewReader(conn)
	status, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 100") {
		t.Fatalf("interim answer %q, %v", status, err)
	}
	if blank, _ := r.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("after 100: %q", blank)
	}
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("= %d %s", resp.StatusCode, b)
	}
}
