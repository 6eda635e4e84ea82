package postgres

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrSQLiteUnusable reports a SQLite database file that cannot be opened
// because of where it lives: a missing or read-only directory, or a path that
// is a directory. errors.Is(err, ErrSQLiteUnusable) tells it from other
// open errors.
var ErrSQLiteUnusable = errors.New("SQLite database file unusable")

// sqlitePathError is an ErrSQLiteUnusable naming the path and the reason.
type sqlitePathError struct {
	path, reason string
}

func (e *sqlitePathError) Error() string {
	return fmt.Sprintf("SQLite database %s: %s", e.path, e.reason)
}

func (e *sqlitePathError) Is(target error) bool { return target == ErrSQLiteUnusable }

// explainSQLiteOpen turns a failed open of the SQLite database at url into
// an error that names the file and says what is wrong with its place
// (SQLite itself says only "unable to open database file", and the driver
// adds a misleading "out of memory (14)" for SQLITE_CANTOPEN). It looks at
// the file system only after the open failed; err is returned wrapped when
// the path looks fine.
func explainSQLiteOpen(url string, err error) error {
	path, ok := sqliteFilePath(url)
	if !ok {
		return fmt.Errorf("open SQLite database: %w", err)
	}
	if reason := sqlitePathProblem(path); reason != "" {
		return &sqlitePathError{path: path, reason: reason}
	}
	return fmt.Errorf("open SQLite database %s: %w", path, err)
}

// sqlitePathProblem says why a SQLite file cannot be opened at path, or ""
// when its directory exists and is writable and the path is not a directory.
func sqlitePathProblem(path string) string {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("directory %s does not exist (create it, or set DATABASE_URL to a file in an existing directory)", dir)
	case err != nil:
		return fmt.Sprintf("directory %s cannot be read: %v", dir, unwrapPathError(err))
	case !st.IsDir():
		return fmt.Sprintf("%s is not a directory", dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return "the path is a directory, not a database file"
	}
	if !dirWritable(dir) {
		return fmt.Sprintf("directory %s is not writable (SQLite creates the file and its -wal and -shm files there)", dir)
	}
	return ""
}

// dirWritable probes dir by creating and removing a file in it.
func dirWritable(dir string) bool {
	f, err := os.CreateTemp(dir, ".chathub-probe-*")
	if err != nil {
		return false
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return true
}

// unwrapPathError drops the path and operation of an *fs.PathError, which
// the message names already.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// sqliteFilePath is the file a SQLite Config.URL names; false for an
// in-memory database.
func sqliteFilePath(url string) (string, bool) {
	dsn := sqliteDSN(url)
	path, query, _ := strings.Cut(dsn, "?")
	path = strings.TrimPrefix(path, "file:")
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.Contains(query, "mode=memory") {
		return "", false
	}
	return path, true
}
