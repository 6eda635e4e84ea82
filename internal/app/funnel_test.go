package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/scenario"
)

// TestFunnelCatalog: the funnel's catalog lists the bots that have a
// scenario in the configuration's order (the environment's bot first, then
// the file's bots as written, whatever the map of registries), and gives
// each bot's own graph.
func TestFunnelCatalog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	load := func(files ...string) *scenario.Registry {
		t.Helper()
		dir := t.TempDir()
		for _, f := range files {
			src, err := os.ReadFile(filepath.Join("..", "..", "scenarios", f+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f+".yaml"), src, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		reg := scenario.NewRegistry(scenario.RegistryConfig{Dir: dir})
		if err := reg.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return reg
	}
	s := &Stores{Scenarios: load("portrait"), BotScenarios: map[string]*scenario.Registry{
		"zeta": load("feedback", "portrait"), "alpha": load("feedback"), "mid": load("b2b"),
	}}
	cfg := config.Config{FileBots: []config.Bot{{Name: "zeta"}, {Name: "mid"}, {Name: "alpha"}, {Name: "gone"}}}
	cat := s.funnelCatalog(cfg)
	for id, want := range map[string][]string{"portrait": {"", "zeta"}, "feedback": {"zeta", "alpha"}, "b2b": {"mid"}, "nope": nil} {
		if got, err := cat.ScenarioBots(ctx, id); err != nil || !slices.Equal(got, want) {
			t.Errorf("bots of %s = %q, %v; want %q", id, got, err, want)
		}
	}
	if g, ok, err := cat.Scenario(ctx, "alpha", "feedback"); err != nil || !ok || g.ID != "feedback" {
		t.Errorf("alpha's feedback: %v %t %v", g, ok, err)
	}
	if _, ok, _ := cat.Scenario(ctx, "alpha", "portrait"); ok {
		t.Error("alpha has no portrait")
	}
	if ids, err := cat.ScenarioIDs(ctx); err != nil || !slices.Equal(ids, []string{"b2b", "feedback", "portrait"}) {
		t.Errorf("ids %q, %v", ids, err)
	}
}
