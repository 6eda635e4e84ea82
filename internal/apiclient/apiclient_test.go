package apiclient

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConcurrentCallsReuseConnections: 32 callers at a time, 10 rounds, open
// at most 32 connections; Go's default transport opens a new one for nearly
// every call beyond its second idle connection.
func TestConcurrentCallsReuseConnections(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"ok":true}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := New()
	const callers, rounds = 32, 10
	for range rounds {
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		wg.Wait()
	}
	if n := conns.Load(); n > callers {
		t.Errorf("%d calls opened %d connections, want at most %d", callers*rounds, n, callers)
	}
	if c.Timeout != 0 {
		t.Errorf("client timeout %s, want none (calls carry their own deadlines)", c.Timeout)
	}
}
