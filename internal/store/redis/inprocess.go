package redis

import (
	"context"
	"fmt"
	"net"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/alicebob/miniredis/v2"
)

// OpenInProcess starts an in-process Redis-compatible server (miniredis)
// and a client that reaches it through in-memory pipes instead of a TCP
// socket: the same go-redis client and Redis protocol as Open's embedded
// default, without a system call per command. Scenario tests
// (internal/scenariotest) run on it. Keys never expire by the wall clock
// (nothing advances the server's clock). The returned func closes the
// client and the server.
func OpenInProcess(ctx context.Context) (goredis.UniversalClient, func() error, error) {
	srv, err := miniredis.Run()
	if err != nil {
		return nil, nil, fmt.Errorf("redis: start in-process server: %w", err)
	}
	client := goredis.NewClient(&goredis.Options{
		Addr: "in-process",
		Dialer: func(context.Context, string, string) (net.Conn, error) {
			c, s := net.Pipe()
			srv.Server().ServeConn(newAsyncWriteConn(s))
			return c, nil
		},
	})
	if err := pingWithTimeout(ctx, client); err != nil {
		_ = client.Close()
		srv.Close()
		return nil, nil, fmt.Errorf("redis: connect to the in-process server: %w", err)
	}
	return client, onceFunc(func() error {
		err := client.Close()
		srv.Close()
		return err
	}), nil
}

// asyncWriteConn is the server's end of an in-process connection whose
// writes never block: net.Pipe is unbuffered, so a pipelined batch would
// deadlock (the server blocked writing the first reply while the client is
// still writing the batch and not reading). Replies are queued and a
// goroutine writes them to the pipe in order.
type asyncWriteConn struct {
	net.Conn
	mu      sync.Mutex
	ready   *sync.Cond
	pending []byte
	closed  bool
	err     error
}

func newAsyncWriteConn(c net.Conn) *asyncWriteConn {
	a := &asyncWriteConn{Conn: c}
	a.ready = sync.NewCond(&a.mu)
	go a.flush()
	return a
}

// Write queues p for the flusher.
func (a *asyncWriteConn) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return 0, a.err
	}
	if a.closed {
		return 0, net.ErrClosed
	}
	a.pending = append(a.pending, p...)
	a.ready.Signal()
	return len(p), nil
}

// flush writes what is queued until the connection closes or fails.
func (a *asyncWriteConn) flush() {
	var chunk []byte
	for {
		a.mu.Lock()
		for len(a.pending) == 0 && !a.closed {
			a.ready.Wait()
		}
		if a.closed {
			a.mu.Unlock()
			return
		}
		chunk, a.pending = a.pending, chunk[:0]
		a.mu.Unlock()
		if _, err := a.Conn.Write(chunk); err != nil {
			a.mu.Lock()
			a.err = err
			a.mu.Unlock()
			return
		}
	}
}

// Close stops the flusher and closes the pipe.
func (a *asyncWriteConn) Close() error {
	a.mu.Lock()
	a.closed = true
	a.ready.Signal()
	a.mu.Unlock()
	return a.Conn.Close()
}
