package broadcast

import (
	"log/slog"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/messenger"
)

// TestClaimSizeFitsTheLease: with a bot budget, a claim holds at most one
// second of it and one worker's share of the sends in half a lease; a
// channel without one claims ClaimSize.
func TestClaimSizeFitsTheLease(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		lease   time.Duration
		workers int
		rate    int
		want    int
	}{
		{"1s lease, 8 workers, 30/s", time.Second, 8, 30, 2},
		{"5s", 5 * time.Second, 8, 30, 10},
		{"10s", 10 * time.Second, 8, 30, 19},
		{"2m: a second of the budget", 2 * time.Minute, 8, 30, 30},
		{"one worker, 1s", time.Second, 1, 30, 15},
		{"more workers than sends", time.Second, 256, 30, 1},
		{"paid broadcasts, 1s", time.Second, 8, 1000, 63},
		{"paid broadcasts, 2m: ClaimSize", 2 * time.Minute, 8, 1000, DefaultClaimSize},
		{"no budget: ClaimSize", time.Second, 8, 0, DefaultClaimSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := WorkersConfig{
				Service: &Service{}, Logger: slog.New(slog.DiscardHandler), Workers: tt.workers, Lease: tt.lease,
				Channels: []Channel{{Platform: messenger.Telegram, Sender: nopSender{}, RateHint: tt.rate}},
			}.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Channels[0].claimSize; got != tt.want {
				t.Fatalf("claim size %d, want %d", got, tt.want)
			}
		})
	}
}

type nopSender struct{ messenger.Sender }
