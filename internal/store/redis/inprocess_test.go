package redis

import (
	"sync"
	"testing"

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
