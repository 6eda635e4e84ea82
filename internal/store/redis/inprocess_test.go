package redis

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// TestOpenInProcess: the socket-less in-process Redis serves the store
// (scripts and pipelining included), to several goroutines at once, and
// closes.
func TestOpenInProcess(t *testing.T) {
	t.Parallel()
	client, closeFn, err := OpenInProcess(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(client, Config{Prefix: "inproc"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			k := messenger.ChatKey{Platform: messenger.Terminal, ID: string(rune('a' + i))}
			if rev, err := saveData(s, t.Context(), k, []byte("hi"), 0); err != nil || rev != 1 {
				t.Errorf("SaveState %v = %d, %v", k, rev, err)
			}
			if st, err := s.LoadState(t.Context(), k); err != nil || string(st.Data) != "hi" {
				t.Errorf("LoadState %v = %q, %v", k, st.Data, err)
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := closeFn(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := closeFn(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// TestOpenInProcessPipeline: a pipelined batch larger than one read of the
// server goes through (net.Pipe alone would deadlock: the server blocked
// on its first reply while the client still writes the batch).
func TestOpenInProcessPipeline(t *testing.T) {
	t.Parallel()
	client, closeFn, err := OpenInProcess(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeFn() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	pipe := client.Pipeline()
	for i := range 500 {
		pipe.Set(ctx, "k"+strconv.Itoa(i), strings.Repeat("x", 100), 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("pipeline of 500 SETs: %v", err)
	}
	if n, err := client.DBSize(ctx).Result(); err != nil || n != 500 {
		t.Fatalf("DBSIZE = %d, %v; want 500", n, err)
	}
}
