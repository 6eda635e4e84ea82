package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"

	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/segment"
)

// scenarioIndex caches the segment names of stored scenario versions
// (versions are immutable) and holds the scenarios loaded now.
type scenarioIndex struct {
	mu     sync.Mutex
	byVer  map[versionID]segment.ScenarioNames
	loaded atomic.Pointer[loadedScenarios]
}

type versionID struct{ scenario, version string }

// loadedScenarios wraps a segment.Scenarios for atomic.Pointer.
type loadedScenarios struct{ s segment.Scenarios }

// UseScenarios adds the scenarios loaded now (the registries of a process
// that runs bots, or the scenario directories the CLI reads) to the stored
// versions segments are checked against, so that a scenario not yet run
// is known too. Safe to call at any time; the last call wins.
func (s *Store) UseScenarios(sc segment.Scenarios) {
	s.scenarios.loaded.Store(&loadedScenarios{sc})
}

// segmentScenarios is what CompileSegment and SaveSegment check activity
// names against: every stored version, read through db (the pool or the
// transaction at hand: SQLite has one connection), and the scenarios
// loaded now.
func (s *Store) segmentScenarios(db *gorm.DB) segment.Scenarios {
	sets := segment.ScenarioSets{storedScenarios{s: s, db: db}}
	if l := s.scenarios.loaded.Load(); l != nil && l.s != nil {
		sets = append(sets, l.s)
	}
	return sets
}

// storedScenarios implements segment.Scenarios over scenario_versions.
type storedScenarios struct {
	s  *Store
	db *gorm.DB
}

// ScenarioIDs lists the scenario ids of every stored version.
func (st storedScenarios) ScenarioIDs(ctx context.Context) ([]string, error) {
	rows, err := st.db.WithContext(ctx).Raw("SELECT DISTINCT scenario_id FROM scenario_versions ORDER BY scenario_id").Rows()
	if err != nil {
		return nil, fmt.Errorf("list stored scenarios: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list stored scenarios: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stored scenarios: %w", err)
	}
	return ids, nil
}

// ScenarioNames merges the names of every stored version of id. Sources
// are read once per version (versions never change); a source that does
// not read adds nothing.
func (st storedScenarios) ScenarioNames(ctx context.Context, id string) (segment.ScenarioNames, bool, error) {
	versions, err := st.versions(ctx, id)
	if err != nil {
		return segment.ScenarioNames{}, false, err
	}
	var out segment.ScenarioNames
	for _, v := range versions {
		n, err := st.names(ctx, versionID{id, v})
		if err != nil {
			return segment.ScenarioNames{}, false, err
		}
		out.Merge(n)
	}
	return out, len(versions) > 0, nil
}

// versions lists the stored versions of scenario id.
func (st storedScenarios) versions(ctx context.Context, id string) ([]string, error) {
	rows, err := st.db.WithContext(ctx).Raw("SELECT version FROM scenario_versions WHERE scenario_id = ?", id).Rows()
	if err != nil {
		return nil, fmt.Errorf("list versions of scenario %s: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("list versions of scenario %s: %w", id, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list versions of scenario %s: %w", id, err)
	}
	return out, nil
}

// names returns the cached names of one version, reading its source the
// first time.
func (st storedScenarios) names(ctx context.Context, v versionID) (segment.ScenarioNames, error) {
	idx := &st.s.scenarios
	idx.mu.Lock()
	n, ok := idx.byVer[v]
	idx.mu.Unlock()
	if ok {
		return n, nil
	}
	var src string
	_, err := queryOne(st.db.WithContext(ctx), "SELECT source FROM scenario_versions WHERE scenario_id = ? AND version = ?",
		[]any{v.scenario, v.version}, &src)
	if err != nil {
		return segment.ScenarioNames{}, fmt.Errorf("read scenario %s version %s: %w", v.scenario, v.version, err)
	}
	n, err = scenario.SourceNames([]byte(src))
	if err != nil {
		st.s.log.Warn("stored scenario version does not read; its names are not known to segments",
			"scenario", v.scenario, "version", v.version, "err", err)
	}
	idx.mu.Lock()
	if idx.byVer == nil {
		idx.byVer = map[versionID]segment.ScenarioNames{}
	}
	idx.byVer[v] = n
	idx.mu.Unlock()
	return n, nil
}
