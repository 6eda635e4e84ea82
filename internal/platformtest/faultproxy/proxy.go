// Package faultproxy is a TCP proxy for outage tests: it listens on
// 127.0.0.1, forwards every connection to a target (a PostgreSQL or Redis
// server shared with other tests), and on request cuts the traffic: Cut
// closes every open connection and refuses new ones until Restore, Delay adds
// latency. The target itself is never touched, so a test can take "its"
// database away without disturbing anyone else's.
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// dialTimeout bounds connecting to the target.
const dialTimeout = 5 * time.Second

// Proxy forwards TCP connections from Addr to a target. Create it with New
// or Start. All methods are safe for concurrent use.
type Proxy struct {
	target string
	ln     net.Listener
	delay  atomic.Int64 // time.Duration added before each forwarded write
	held   atomic.Int64 // chunks waiting out the delay

	mu     sync.Mutex
	cut    bool
	closed bool
	links  map[*link]struct{}

	accepted atomic.Int64
	refused  atomic.Int64
	wg       sync.WaitGroup
}

// New listens on 127.0.0.1 (a free port) and forwards to target ("host:port").
// It does not contact the target until a client connects.
func New(target string) (*Proxy, error) {
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{target: target, ln: ln, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Start is New for a test: it fails t on error and closes the proxy when t ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	p, err := New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// Addr is the proxy's listen address, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the address connections are forwarded to.
func (p *Proxy) Target() string { return p.target }

// Cut closes every open connection and refuses new ones (they are accepted
// and reset at once, as a server that went away) until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	links := p.takeLinksLocked()
	p.mu.Unlock()
	for _, l := range links {
		l.close()
	}
}

// Restore lets new connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// IsCut reports whether the proxy is refusing connections.
func (p *Proxy) IsCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

// Delay makes the proxy wait d before forwarding each chunk of data, in
// both directions (0 removes the delay).
func (p *Proxy) Delay(d time.Duration) { p.delay.Store(int64(max(d, 0))) }

// Held is the number of data chunks currently held back by Delay: above
// zero while a request (or its answer) is on its way, so a test can act
// while a client is waiting in the middle of a call.
func (p *Proxy) Held() int { return int(p.held.Load()) }

// Open is the number of connections currently forwarded.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Accepted is how many connections were forwarded since New.
func (p *Proxy) Accepted() int { return int(p.accepted.Load()) }

// Refused is how many connections were reset because the proxy was cut or
// the target could not be reached.
func (p *Proxy) Refused() int { return int(p.refused.Load()) }

// Close stops listening, closes every connection and waits for the
// forwarding goroutines to end. It is safe to call more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	links := p.takeLinksLocked()
	p.mu.Unlock()
	err := p.ln.Close()
	for _, l := range links {
		l.close()
	}
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (p *Proxy) takeLinksLocked() []*link {
	out := make([]*link, 0, len(p.links))
	for l := range p.links {
		out = append(out, l)
	}
	clear(p.links)
	return out
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

// handle forwards one client connection until either side closes it or the
// proxy cuts it.
func (p *Proxy) handle(c net.Conn) {
	defer p.wg.Done()
	if p.IsCut() {
		p.refuse(c)
		return
	}
	s, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		p.refuse(c)
		return
	}
	l := &link{client: c, server: s}
	if !p.track(l) {
		p.refused.Add(1)
		l.close()
		return
	}
	p.accepted.Add(1)
	done := make(chan struct{}, 2)
	go p.pipe(s, c, done)
	go p.pipe(c, s, done)
	<-done
	l.close()
	<-done
	p.untrack(l)
}

// track registers a link; false when the proxy was cut or closed meanwhile.
func (p *Proxy) track(l *link) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut || p.closed {
		return false
	}
	p.links[l] = struct{}{}
	return true
}

func (p *Proxy) untrack(l *link) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.links, l)
}

// refuse resets a connection (no graceful close: the client sees the
// connection fail at once).
func (p *Proxy) refuse(c net.Conn) {
	p.refused.Add(1)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// pipe copies src to dst, waiting the current delay before each write.
func (p *Proxy) pipe(dst, src net.Conn, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := time.Duration(p.delay.Load()); d > 0 {
				p.held.Add(1)
				time.Sleep(d)
				p.held.Add(-1)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// link is one forwarded connection: the client's side and the target's.
type link struct {
	client, server net.Conn
	once           sync.Once
}

func (l *link) close() {
	l.once.Do(func() {
		_ = l.client.Close()
		_ = l.server.Close()
	})
}
