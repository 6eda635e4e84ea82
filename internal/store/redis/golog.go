package redis

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"
)

// goredisLog takes go-redis's own log lines (one per failed dial while
// Redis is down, pool notices), which it otherwise prints to stderr, into
// the process logger at debug level: an outage is logged once, by
// internal/health.
type goredisLog struct{ l *slog.Logger }

// Printf implements go-redis's internal.Logging.
func (g goredisLog) Printf(ctx context.Context, format string, v ...any) {
	if g.l.Enabled(ctx, slog.LevelDebug) {
		g.l.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
	}
}

// routeClientLogs sends go-redis's log lines to logger (a process-wide
// setting of go-redis: the last Open wins).
func routeClientLogs(logger *slog.Logger) {
	goredis.SetLogger(goredisLog{l: logger})
}
