package segment

import (
	"fmt"
	"strings"
	"time"
)

// Dialect selects the SQL a Segment renders. The values equal the store's
// dialect names (postgres.DialectPostgres, postgres.DialectSQLite).
type Dialect string

// Supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// valid reports whether d is a supported dialect.
func (d Dialect) valid() bool { return d == Postgres || d == SQLite }

// Where is a rendered segment: a boolean SQL expression with "?"
// placeholders and their arguments, in order. It refers to the clients table
// by name (clients.<column>) and reads client_tags, answers and completions in
// correlated subqueries, so it fits `SELECT … FROM clients WHERE <SQL>`.
// Every identifier in it is a constant of this package; every value from the
// expression is an argument.
type Where struct {
	SQL  string
	Args []any
}

// sqlWriter accumulates one Where.
type sqlWriter struct {
	d    Dialect
	now  time.Time
	b    strings.Builder
	args []any
}

// str writes constant SQL.
func (w *sqlWriter) str(parts ...string) {
	for _, p := range parts {
		w.b.WriteString(p)
	}
}

// arg writes a placeholder for v.
func (w *sqlWriter) arg(v any) {
	w.b.WriteByte('?')
	w.args = append(w.args, v)
}

// pg reports whether the writer renders PostgreSQL.
func (w *sqlWriter) pg() bool { return w.d == Postgres }

// render renders p for dialect d at now.
func render(p pred, d Dialect, now time.Time) (Where, error) {
	if !d.valid() {
		return Where{}, fmt.Errorf("segment: unknown SQL dialect %q (want %q or %q)", d, Postgres, SQLite)
	}
	w := &sqlWriter{d: d, now: now}
	p.sql(w)
	return Where{SQL: w.b.String(), Args: w.args}, nil
}
