package app

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/storetest"
)

// TestStoresCheckSegmentScenarioNames: the stores `chathub run` opens
// (which the manager API and the broadcaster compile segments with) check
// completed(...) and answered(...) against the loaded scenarios.
func TestStoresCheckSegmentScenarioNames(t *testing.T) {
	t.Parallel()
	storetest.SkipUnlessServices(t)
	cfg := config.Default()
	cfg.DatabaseURL = filepath.Join(t.TempDir(), "chathub.db")
	cfg.RedisURL, cfg.RedisPrefix = storetest.RedisURL(), storetest.Name(t, "t")
	cfg.ScenariosDir = filepath.Join("..", "..", "scenarios")
	ctx := context.Background()
	stores, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close()
	tests := []struct{ src, want string }{
		{`completed("portrait", "thanks") and answered("feedback", "csat")`, ""},
		{`completed("portrat")`, `segment:1:11: unknown scenario "portrat" (did you mean "portrait"?)`},
		{`answered("portrait", "cty")`, `segment:1:22: unknown step or field "cty" in scenario "portrait" (did you mean "city"?)`},
	}
	for _, tt := range tests {
		_, err := stores.CRM.CompileSegment(ctx, tt.src)
		if tt.want == "" {
			if err != nil {
				t.Errorf("CompileSegment(%s): %v", tt.src, err)
			}
			continue
		}
		if err == nil || err.Error() != tt.want || !errors.Is(err, segment.ErrUnknownScenario) {
			t.Errorf("CompileSegment(%s) = %v, want %s", tt.src, err, tt.want)
		}
	}
	ids, err := ScenarioCatalog{Registries: stores.registries()}.ScenarioIDs(ctx)
	if err != nil || !slices.Equal(ids, []string{"b2b", "feedback", "portrait", "profile"}) {
		t.Errorf("ScenarioIDs = %v, %v", ids, err)
	}
}
