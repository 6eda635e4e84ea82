package relay

import "testing"

// TestSemaphoreTryAcquire: tryAcquire takes all it asks for (at most the
// capacity) or nothing, never waits, and leaves nothing taken when it
// fails.
func TestSemaphoreTryAcquire(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		held, ask  int
		want, left int // taken, slots taken afterwards
	}{
		{"free", 0, 2, 2, 2},
		{"bigger than the capacity takes all of it", 0, 5, 3, 3},
		{"enough free", 1, 2, 2, 3},
		{"not enough free", 2, 2, 0, 2},
		{"bigger than the capacity, one held", 1, 5, 0, 1},
		{"none free", 3, 1, 0, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSemaphore(3)
			for range tc.held {
				s.ch <- struct{}{}
			}
			if got := s.tryAcquire(tc.ask); got != tc.want {
				t.Errorf("tryAcquire(%d) with %d of 3 held = %d, want %d", tc.ask, tc.held, got, tc.want)
			}
			if got := len(s.ch); got != tc.left {
				t.Errorf("%d slots taken afterwards, want %d", got, tc.left)
			}
		})
	}
}
