package server

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// sniffListener serves TLS and plain HTTP on one port: it looks at the
// first byte of each connection (0x16 opens a TLS handshake). certd
// answers its API over TLS, and the certificate-status endpoints that
// certificates name (CA certificates, CRLs, OCSP), which relying parties
// fetch over plain HTTP (BRs 7.1.2.7.7), on the same port.
type sniffListener struct {
	net.Listener
	tls     *tls.Config
	conns   chan net.Conn
	errc    chan error
	once    sync.Once
	closing chan struct{}
}

func newSniffListener(ln net.Listener, cfg *tls.Config) *sniffListener {
	s := &sniffListener{Listener: ln, tls: cfg, conns: make(chan net.Conn), errc: make(chan error, 1), closing: make(chan struct{})}
	go s.acceptLoop()
	return s
}

func (s *sniffListener) acceptLoop() {
	for {
		c, err := s.Listener.Accept()
		if err != nil {
			select {
			case s.errc <- err:
			case <-s.closing:
			}
			return
		}
		go s.classify(c)
	}
}

// classify reads the first byte (a slow client is given 10 seconds, the
// same as for its request headers) and hands the connection on.
func (s *sniffListener) classify(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	b, err := br.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		c.Close()
		return
	}
	var out net.Conn = &peekedConn{Conn: c, r: br}
	if b[0] == 0x16 {
		out = tls.Server(out, s.tls)
	}
	select {
	case s.conns <- out:
	case <-s.closing:
		c.Close()
	}
}

func (s *sniffListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case err := <-s.errc:
		return nil, err
	case <-s.closing:
		return nil, net.ErrClosed
	}
}

func (s *sniffListener) Close() error {
	s.once.Do(func() { close(s.closing) })
	err := s.Listener.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// peekedConn replays what classify read.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }
