package telegramfake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// deliveryRetry is how long a delivery waits before posting an update its
// webhook refused (or could not be reached for) again.
const deliveryRetry = 100 * time.Millisecond

// delivery pushes queued updates to a webhook, as Telegram does once a
// webhook is set.
type delivery struct {
	url, secret string
	client      *http.Client
	queue       chan queued
	cancel      context.CancelFunc
	wg          sync.WaitGroup
}

// DeliverTo makes the fake push every update queued from now on to
// webhookURL the way Telegram delivers to a webhook: a JSON POST with the
// secret in SecretHeader, at most maxConns at a time (Telegram's
// max_connections, 40 by default), each update again after a pause until
// the webhook answers 200. getUpdates is not used meanwhile (the queued
// updates do not wait for it), and at most 65,536 updates may wait for a
// connection (queuing more blocks the fake). Load tests use it for webhook mode; the
// returned stop ends the delivery (updates not yet delivered are dropped)
// and is also called when the test ends.
func (s *Server) DeliverTo(webhookURL, secret string, maxConns int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = maxConns
	d := &delivery{url: webhookURL, secret: secret, client: &http.Client{Transport: tr, Timeout: 60 * time.Second},
		queue: make(chan queued, 1<<16), cancel: cancel}
	s.mu.Lock()
	s.delivery = d
	s.mu.Unlock()
	d.wg.Add(maxConns)
	for range maxConns {
		go d.run(ctx)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			s.mu.Lock()
			s.delivery = nil
			s.mu.Unlock()
			cancel()
			d.wg.Wait()
			tr.CloseIdleConnections()
		})
	}
	s.t.Cleanup(stop)
	return stop
}

// run is one connection's loop: post the next update until it is taken.
func (d *delivery) run(ctx context.Context) {
	defer d.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-d.queue:
			for !d.post(ctx, u) {
				select {
				case <-ctx.Done():
					return
				case <-time.After(deliveryRetry):
				}
			}
		}
	}
}

// post sends u once and reports whether the webhook took it (200).
func (d *delivery) post(ctx context.Context, u queued) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(u.raw))
	if err != nil {
		panic(fmt.Sprintf("telegramtest: webhook request: %v", err))
	}
	req.Header.Set("Content-Type", "application/json")
	if d.secret != "" {
		req.Header.Set(SecretHeader, d.secret)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
