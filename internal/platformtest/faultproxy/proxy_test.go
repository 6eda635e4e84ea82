package faultproxy_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/faultproxy"
)

// echoServer answers every line with the same line; it counts connections.
func echoServer(t *testing.T) (addr string, conns func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String(), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// roundTrip sends a line over c and reads the echo.
func roundTrip(c net.Conn, line string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

// dialAndEcho connects to addr and round-trips a line. A reset may surface
// in the dial itself (the handshake is the kernel's, the proxy resets the
// connection right after it) or in the round trip.
func dialAndEcho(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = roundTrip(c, "ping")
	return err
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestForwards(t *testing.T) {
	t.Parallel()
	target, conns := echoServer(t)
	p := faultproxy.Start(t, target)
	c := dial(t, p.Addr())
	for _, line := range []string{"PING", strings.Repeat("x", 100_000)} {
		if got, err := roundTrip(c, line); err != nil || got != line {
			t.Fatalf("echo of %d bytes: %d bytes, %v", len(line), len(got), err)
		}
	}
	if conns() != 1 || p.Accepted() != 1 || p.Open() != 1 || p.Target() != target {
		t.Fatalf("target conns %d, accepted %d, open %d", conns(), p.Accepted(), p.Open())
	}
	c.Close()
	waitFor(t, "the link is gone", func() bool { return p.Open() == 0 })
}

func TestCutAndRestore(t *testing.T) {
	t.Parallel()
	target, conns := echoServer(t)
	p := faultproxy.Start(t, target)
	before := dial(t, p.Addr())
	if _, err := roundTrip(before, "hello"); err != nil {
		t.Fatal(err)
	}

	p.Cut()
	if !p.IsCut() || p.Open() != 0 {
		t.Fatalf("after Cut: cut %v, open %d", p.IsCut(), p.Open())
	}
	if _, err := roundTrip(before, "after cut"); err == nil {
		t.Fatal("a connection opened before Cut still works")
	}
	if err := dialAndEcho(p.Addr()); err == nil || errors.Is(err, errTimeout) {
		t.Fatalf("a connection made while cut: %v, want a prompt failure", err)
	}
	if conns() != 1 || p.Refused() != 1 {
		t.Fatalf("while cut: target conns %d, refused %d", conns(), p.Refused())
	}

	p.Restore()
	after := dial(t, p.Addr())
	if got, err := roundTrip(after, "back"); err != nil || got != "back" {
		t.Fatalf("after Restore: %q, %v", got, err)
	}
	if p.IsCut() || conns() != 2 || p.Accepted() != 2 {
		t.Fatalf("after Restore: cut %v, target conns %d, accepted %d", p.IsCut(), conns(), p.Accepted())
	}
}

// errTimeout matches a deadline error (net.Error with Timeout()).
var errTimeout = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string { return "timeout" }

func (timeoutError) Is(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestDelay(t *testing.T) {
	t.Parallel()
	target, _ := echoServer(t)
	p := faultproxy.Start(t, target)
	c := dial(t, p.Addr())
	p.Delay(100 * time.Millisecond)
	start := time.Now()
	held := make(chan int, 1)
	go func() {
		for p.Held() == 0 && time.Since(start) < 5*time.Second {
			time.Sleep(time.Millisecond)
		}
		held <- p.Held()
	}()
	if _, err := roundTrip(c, "slow"); err != nil {
		t.Fatal(err)
	}
	if n := <-held; n != 1 {
		t.Fatalf("Held during the delayed round trip = %d, want 1", n)
	}
	if n := p.Held(); n != 0 {
		t.Fatalf("Held after the round trip = %d", n)
	}
	// One delay each way.
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("round trip took %s with a 100ms delay each way", d)
	}
	p.Delay(0)
	start = time.Now()
	if _, err := roundTrip(c, "fast"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= 100*time.Millisecond {
		t.Fatalf("round trip took %s after the delay was removed", d)
	}
}

func TestUnreachableTargetRefuses(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	p := faultproxy.Start(t, gone)
	if err := dialAndEcho(p.Addr()); err == nil || errors.Is(err, errTimeout) {
		t.Fatalf("round trip to a dead target: %v, want a prompt failure", err)
	}
	waitFor(t, "the refusal is counted", func() bool { return p.Refused() == 1 })
}

func TestCloseEndsEverything(t *testing.T) {
	t.Parallel()
	target, _ := echoServer(t)
	p, err := faultproxy.New(target)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr())
	if _, err := roundTrip(c, "x"); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := roundTrip(c, "y"); err == nil {
		t.Fatal("connection survived Close")
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("proxy still listens after Close")
	}
}

func TestNewRejectsBadTarget(t *testing.T) {
	t.Parallel()
	if _, err := faultproxy.New("no-port"); err == nil || !strings.Contains(err.Error(), "no-port") {
		t.Fatalf("New = %v", err)
	}
}
