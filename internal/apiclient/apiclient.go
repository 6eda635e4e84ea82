// Package apiclient builds the HTTP clients the platform adapters call the
// Telegram Bot API and the VK API with.
//
// Go's default transport keeps two idle connections per host. A bot sends
// from many goroutines at once (the dispatcher's workers, the broadcast
// workers), so with the default every send beyond the second found no idle
// connection, dialed a new one (a TCP and TLS handshake on the real APIs)
// and closed it again after the reply. The client here keeps enough idle
// connections for that concurrency.
package apiclient

import (
	"net/http"
	"time"
)

// MaxIdlePerHost is how many idle connections a client keeps per API host:
// more than the senders of one process run at once.
const MaxIdlePerHost = 128

// New returns a client without an overall timeout (callers bound each call
// with a context: long polls last longer than sends) on a transport like
// http.DefaultTransport that keeps MaxIdlePerHost idle connections per host.
func New() *http.Client {
	return &http.Client{Transport: Transport()}
}

// Transport returns a new transport like http.DefaultTransport (proxy from
// the environment, dial and TLS handshake timeouts, HTTP/2) that keeps
// MaxIdlePerHost idle connections per host.
func Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4 * MaxIdlePerHost
	t.MaxIdleConnsPerHost = MaxIdlePerHost
	t.IdleConnTimeout = 90 * time.Second
	return t
}
