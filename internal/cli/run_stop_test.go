package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestStoppedWhileStarting: a start cut short by SIGTERM is a clean stop;
// the same error without a stop, or another error during one, is not.
func TestStoppedWhileStarting(t *testing.T) {
	t.Parallel()
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	canceled := fmt.Errorf("load scenarios: save version: %w", context.Canceled)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"stopped, canceled", stopped, canceled, true},
		{"stopped, other error", stopped, errors.New("bad config"), false},
		{"stopped, no error", stopped, nil, false},
		{"running, canceled", context.Background(), canceled, false},
	} {
		if got := stoppedWhileStarting(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
