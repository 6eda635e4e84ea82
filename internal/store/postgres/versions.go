package postgres

import (
	"context"
	"fmt"
	"time"
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
