package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"

	"github.com/chathub/chathub/internal/messenger"
)

// TestReadyzNamesTheDatabase: /readyz names the database in use — sqlite
// for a SQLite file, postgres for PostgreSQL — not always "postgres".
func TestReadyzNamesTheDatabase(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		backend  backend
		database string
	}{
		{embedded, "sqlite"},
		{postgresRedis, "postgres"},
	} {
		t.Run(tt.backend.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.backend.cfg(t)
			cfg.HTTPAddr = "127.0.0.1:0"
			logger := slog.New(slog.DiscardHandler)
			stores, err := Open(context.Background(), cfg, logger)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = stores.Close() })
			idle := func(ctx context.Context, _ messenger.Sink) error { <-ctx.Done(); return nil }
			rt, err := NewRuntime(cfg, stores, []Bot{{Platform: messenger.Telegram, Sender: &recorder{}, Poll: idle}}, logger)
			if err != nil {
				t.Fatal(err)
			}
			if err := rt.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = rt.Stop(context.Background()) })
			resp, err := http.Get("http://" + rt.Addr() + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Ready  bool              `json:"ready"`
				Checks map[string]string `json:"checks"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if !body.Ready || body.Checks[tt.database] != "ok" || body.Checks["redis"] != "ok" {
				t.Errorf("/readyz = %d %+v, want ready with %s and redis ok", resp.StatusCode, body, tt.database)
			}
			if other := map[string]string{"sqlite": "postgres", "postgres": "sqlite"}[tt.database]; body.Checks[other] != "" {
				t.Errorf("/readyz = %+v names %s too", body, other)
			}
		})
	}
}
