package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chathub/chathub/internal/crm"
)

// rejectedError is a write the database refused for good (see classify).
// Its text names the SQLSTATE (or SQLite code), the constraint, table and
// column, never the server's message: that can quote the value ("invalid
// input syntax for type integer: …"), which may be personal data.
type rejectedError struct {
	code                      string
	constraint, table, column string
}

// Error implements error.
func (e *rejectedError) Error() string {
	s := "database refused the write (" + e.code
	for _, kv := range [][2]string{{"constraint", e.constraint}, {"table", e.table}, {"column", e.column}} {
		if kv[1] != "" {
			s += ", " + kv[0] + " " + kv[1]
		}
	}
	return s + ")"
}

// Is makes errors.Is(err, crm.ErrRejected) true.
func (e *rejectedError) Is(target error) bool { return target == crm.ErrRejected }

// permanentSQLState reports the SQLSTATE classes a retry of the same write
// cannot get past: 22 data exception (value too long, out of range, bad
// syntax for the type), 23 integrity constraint violation, 54 program limit
// exceeded (an index row too big, too many columns). Everything else —
// 08 connection exception, 40001 serialization failure, 40P01 deadlock,
// 53 insufficient resources, 57P01 admin shutdown, 57014 query canceled, a
// network error without a SQLSTATE — may pass on a retry and is left as it
// is.
func permanentSQLState(code string) bool {
	if len(code) != 5 {
		return false
	}
	switch code[:2] {
	case "22", "23", "54":
		return true
	}
	return false
}

// SQLite's primary result codes of a write that cannot succeed on a retry:
// SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH, SQLITE_RANGE. BUSY (5)
// and LOCKED (6) are transient.
var permanentSQLite = map[int]string{18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH", 25: "SQLITE_RANGE"}

// sqliteCoder is the error type of the SQLite driver (glebarez/go-sqlite).
type sqliteCoder interface {
	error
	Code() int
}

// classify returns err marked as crm.ErrRejected when the database refused
// the write for good (see permanentSQLState), else err unchanged.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if !permanentSQLState(pgErr.Code) {
			return err
		}
		return &rejectedError{code: "SQLSTATE " + pgErr.Code, constraint: pgErr.ConstraintName,
			table: pgErr.TableName, column: pgErr.ColumnName}
	}
	var sqlErr sqliteCoder
	if errors.As(err, &sqlErr) {
		if name, ok := permanentSQLite[sqlErr.Code()&0xff]; ok {
			return &rejectedError{code: fmt.Sprintf("%s (%d)", name, sqlErr.Code())}
		}
	}
	return err
}
