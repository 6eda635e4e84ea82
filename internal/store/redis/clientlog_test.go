package redis

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/platformtest/logtest"
)

// TestClientLogsRouted: go-redis' own lines ("connection pool: failed to
// dial …") go to our logger at debug level, never raw to stderr. Not
// parallel: go-redis has one logger per process, the latest Open's.
func TestClientLogsRouted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens there now
	tests := []struct {
		name  string
		level slog.Level
		want  bool
	}{
		{"info hides them", slog.LevelInfo, false},
		{"debug shows them", slog.LevelDebug, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs logtest.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: tt.level}))
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			if c, closeFn, err := Open(ctx, "redis://"+closed+"/0", logger); err == nil {
				closeFn()
				t.Fatalf("Open(%s) = %v, want an error", closed, c)
			}
			got := logs.String()
			if has := strings.Contains(got, "level=DEBUG msg=\"redis client: connection pool: failed to dial"); has != tt.want {
				t.Errorf("go-redis line in our log = %v, want %v:\n%s", has, tt.want, got)
			}
			if strings.Contains(got, "redis: redis:") || strings.Contains(got, "pool.go:") {
				t.Errorf("raw go-redis prefix in %q", got)
			}
		})
	}
}
