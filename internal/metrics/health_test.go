package metrics

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chathub/chathub/internal/messenger"
)

type fakeDependency struct {
	name string
	down atomic.Bool
}

func (f *fakeDependency) Name() string { return f.name }
func (f *fakeDependency) Down() bool   { return f.down.Load() }

func TestWatchDependenciesAndBots(t *testing.T) {
	t.Parallel()
	m := New()
	pg, rd := &fakeDependency{name: "PostgreSQL"}, &fakeDependency{name: "Redis"}
	m.WatchDependencies(pg, rd)
	var stopped atomic.Bool
	m.WatchBot(messenger.Telegram, "default", stopped.Load)
	const help = `# HELP chathub_bot_intake_stopped 1 once the bot's intake has stopped for good (token refused, conflict), else 0.
# TYPE chathub_bot_intake_stopped gauge
chathub_bot_intake_stopped{bot="default",platform="telegram"} %d
# HELP chathub_dependency_up 1 while the backing service answers, 0 while it is known to be down.
# TYPE chathub_dependency_up gauge
chathub_dependency_up{dependency="PostgreSQL"} %d
chathub_dependency_up{dependency="Redis"} 1
`
	tests := []struct {
		name            string
		pgDown, stopped bool
		wantStopped     int
		wantPGUp        int
	}{
		{"all up", false, false, 0, 1},
		{"PostgreSQL down, intake stopped", true, true, 1, 0},
	}
	for _, tt := range tests {
		pg.down.Store(tt.pgDown)
		stopped.Store(tt.stopped)
		want := fmt.Sprintf(help, tt.wantStopped, tt.wantPGUp)
		if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want),
			"chathub_dependency_up", "chathub_bot_intake_stopped"); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
