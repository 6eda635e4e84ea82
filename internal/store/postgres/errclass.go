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

// unavailableError is a store error classified as temporary: it wraps the
// driver's error and is crm.ErrUnavailable.
type unavailableError struct {
	code string
	err  error
}

func (e *unavailableError) Error() string {
	return "database temporarily unavailable (" + e.code + "): " + e.err.Error()
}

func (e *unavailableError) Unwrap() error { return e.err }

func (e *unavailableError) Is(target error) bool { return target == crm.ErrUnavailable }

// transientSQLState reports whether a PostgreSQL error code means the same
// statement will succeed later: connection exceptions (08), a read-only
// transaction (25006, a demoted primary), transaction rollbacks such as
// serialisation failures and deadlocks (40), insufficient resources such
// as a full disk (53), lock timeouts (55P03), operator intervention such as
// statement timeouts and shutdowns (57), system errors (58).
func transientSQLState(code string) bool {
	if len(code) != 5 {
		return false
	}
	switch code[:2] {
	case "08", "40", "53", "57", "58":
		return true
	}
	return code == "25006" || code == "55P03"
}

// transientSQLite are the SQLite primary result codes of a temporary
// failure: SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL.
var transientSQLite = map[int]string{5: "SQLITE_BUSY", 6: "SQLITE_LOCKED", 13: "SQLITE_FULL"}

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
// SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH, SQLITE_RANGE. BUSY (5),
// LOCKED (6) and FULL (13) are transient (transientSQLite).
var permanentSQLite = map[int]string{18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH", 25: "SQLITE_RANGE"}

// sqliteCoder is the error type of the SQLite driver (glebarez/go-sqlite).
type sqliteCoder interface {
	error
	Code() int
}

// classify returns err marked as crm.ErrRejected when the database refused
// the write for good (see permanentSQLState), as crm.ErrUnavailable when
// the failure is temporary (see transientSQLState), else err unchanged.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if transientSQLState(pgErr.Code) {
			return &unavailableError{code: "SQLSTATE " + pgErr.Code, err: err}
		}
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
		if name, ok := transientSQLite[sqlErr.Code()&0xff]; ok {
			return &unavailableError{code: fmt.Sprintf("%s (%d)", name, sqlErr.Code()), err: err}
		}
	}
	return err
}
