package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/chathub/chathub/internal/crm"
)

// SaveVersion stores the source of version of scenario id, read from file.
// A version already stored is left as it is (versions are immutable).
func (s *Store) SaveVersion(ctx context.Context, id, version, file string, src []byte) error {
	err := s.db.WithContext(ctx).Exec("INSERT INTO scenario_versions (scenario_id, version, file, source, created_at) "+
		"VALUES (?, ?, ?, ?, ?) ON CONFLICT (scenario_id, version) DO NOTHING",
		id, version, file, string(src), time.Now().UTC()).Error
	if err != nil {
		return fmt.Errorf("save scenario %s version %s: %w", id, version, err)
	}
	return nil
}

// LoadVersion returns the file name and source stored for version of
// scenario id; the error wraps ErrNotFound when there is none.
func (s *Store) LoadVersion(ctx context.Context, id, version string) (file string, src []byte, err error) {
	var source string
	found, err := queryOne(s.db.WithContext(ctx),
		"SELECT file, source FROM scenario_versions WHERE scenario_id = ? AND version = ?",
		[]any{id, version}, &file, &source)
	if err == nil && !found {
		err = ErrNotFound
	}
	if err != nil {
		return "", nil, fmt.Errorf("load scenario %s version %s: %w", id, version, err)
	}
	return file, []byte(source), nil
}

// ScenarioVersions lists the versions of scenario id ever run, newest
// first, with when each was first stored (the funnel's version filter).
func (s *Store) ScenarioVersions(ctx context.Context, id string) ([]crm.ScenarioVersion, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT version, created_at FROM scenario_versions WHERE scenario_id = ? "+
		"ORDER BY created_at DESC, version", id).Rows()
	if err != nil {
		return nil, fmt.Errorf("versions of scenario %s: %w", id, err)
	}
	defer rows.Close()
	var out []crm.ScenarioVersion
	for rows.Next() {
		var v crm.ScenarioVersion
		if err := rows.Scan(&v.Version, timeScanner{v: &v.Since}); err != nil {
			return nil, fmt.Errorf("versions of scenario %s: %w", id, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("versions of scenario %s: %w", id, err)
	}
	return out, nil
}
