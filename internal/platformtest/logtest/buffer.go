// Package logtest holds what tests need to look at log output.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer collects log output from concurrent writers (handlers, watchers,
// pollers) for a test to read; the zero value is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
