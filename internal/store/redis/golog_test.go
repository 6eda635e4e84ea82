package redis

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestGoredisLogAtDebug(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		level slog.Level
		want  string
	}{
		{"debug shown", slog.LevelDebug, `level=DEBUG msg="go-redis: redis: connection pool: failed to dial after 5 attempts: refused"`},
		{"hidden at info", slog.LevelInfo, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			l := goredisLog{l: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level}))}
			l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 5, "refused")
			if got := buf.String(); tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Fatalf("logged %q, want %q", got, tt.want)
			}
		})
	}
}
