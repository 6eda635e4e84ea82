package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Group commit defaults (Config.MaxWriteBatch, Config.WriteFlushers).
const (
	// DefaultMaxWriteBatch is how many concurrent client writes at most
	// share one round trip and one commit.
	DefaultMaxWriteBatch = 32
	// DefaultWriteFlushers is how many write batches may run at once.
	DefaultWriteFlushers = 2
)

// errStoreClosed is returned by writes submitted after Close.
var errStoreClosed = errors.New("store closed")

// batchTimeout bounds one batch's round trip: a batch serves several
// callers, so it runs on its own context rather than on one caller's.
const batchTimeout = 30 * time.Second

// slowBatch is how long a batch may take before it is logged, like gorm's
// slow statements.
const slowBatch = 500 * time.Millisecond

// writeReq is one caller's single-statement write: a query returning at
// most one row, scanned into dest.
type writeReq struct {
	ctx     context.Context
	query   string // PostgreSQL placeholders ($1, $2, …)
	args    []any
	dest    []any
	found   bool
	scanErr error      // reading the row failed (the write itself committed)
	done    chan error // buffered: the flusher never blocks on a caller gone
	queued  time.Time  // when queryOne queued it; set only with a trace
}

// groupCommit sends the client writes of concurrent callers (the dialog
// steps of different chats handled in parallel) to PostgreSQL together: one
// pipelined round trip and one implicit transaction, so one commit and one
// WAL flush, for up to maxBatch statements. Batching is natural: a flusher
// takes what has queued while it was busy and never waits to fill a batch,
// so a lone write goes out at once. When a batch fails on a statement
// (PostgreSQL rolls the whole batch back), its writes are run again one by
// one, so one write's error never becomes another's. Each caller waits for
// its batch's commit: a write acknowledged is a write committed.
type groupCommit struct {
	kind     string // "write" or "read": what its batches hold, for the logs
	db       *sql.DB
	log      *slog.Logger
	maxBatch int
	reqs     chan *writeReq
	stop     chan struct{}
	exited   chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	// batches and writes count what was sent (a batch retried one by one
	// counts once), for tests and statistics.
	batches, writes atomic.Int64
	// trace, when set (Store.TraceWrites, before any write), is told each
	// write's times once its batch ended; nil costs a nil check per write.
	trace func(ctx context.Context, w WriteTrace)
}

// WriteTrace is when one write went through the group commit (see
// Store.TraceWrites).
type WriteTrace struct {
	// Queued is when the caller queued the write; Taken when a flusher
	// took it into a batch; Done when the batch had committed (or failed).
	Queued, Taken, Done time.Time
	// Batch is how many writes the batch held.
	Batch int
}

// newGroupCommit starts flushers goroutines sending kind's ("write" or
// "read") statements through db.
func newGroupCommit(kind string, db *sql.DB, log *slog.Logger, maxBatch, flushers int) *groupCommit {
	g := &groupCommit{
		kind:     kind,
		db:       db,
		log:      log,
		maxBatch: maxBatch,
		reqs:     make(chan *writeReq, maxBatch*max(flushers, 1)),
		stop:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
	g.wg.Add(flushers)
	for range flushers {
		go g.flush()
	}
	return g
}

// queryOne runs query (PostgreSQL placeholders) in the next batch and scans
// its first row into dest, reporting whether there was one. It returns when
// the batch has committed or failed, or when ctx is done (the write may then
// still commit, as a statement may after its context is canceled).
func (g *groupCommit) queryOne(ctx context.Context, query string, args []any, dest ...any) (bool, error) {
	r := &writeReq{ctx: ctx, query: query, args: args, dest: dest, done: make(chan error, 1)}
	if g.trace != nil {
		r.queued = time.Now()
	}
	select {
	case g.reqs <- r:
	case <-g.exited:
		return false, errStoreClosed
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case err := <-r.done:
		return r.found, err
	case <-ctx.Done():
		return false, ctx.Err()
	case <-g.exited:
		// The last batches may have finished this write just before the
		// flushers exited.
		select {
		case err := <-r.done:
			return r.found, err
		default:
			return false, errStoreClosed
		}
	}
}

// close stops the flushers after the queued writes have run; later writes
// fail with errStoreClosed.
func (g *groupCommit) close() {
	g.once.Do(func() {
		close(g.stop)
		g.wg.Wait()
		close(g.exited)
	})
}

// flush is one flusher's loop.
func (g *groupCommit) flush() {
	defer g.wg.Done()
	batch := make([]*writeReq, 0, g.maxBatch)
	for {
		var first *writeReq
		select {
		case first = <-g.reqs:
		case <-g.stop:
			g.drain(batch)
			return
		}
		batch = g.take(append(batch[:0], first))
		g.run(batch)
		clear(batch)
	}
}

// take adds whatever is queued, without waiting, up to maxBatch.
func (g *groupCommit) take(batch []*writeReq) []*writeReq {
	for len(batch) < g.maxBatch {
		select {
		case r := <-g.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// drain runs the writes still queued at close.
func (g *groupCommit) drain(batch []*writeReq) {
	for {
		batch = g.take(batch[:0])
		if len(batch) == 0 {
			return
		}
		g.run(batch)
	}
}

// run writes batch, dropping the writes whose callers have gone, and
// answers every caller.
func (g *groupCommit) run(batch []*writeReq) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	g.batches.Add(1)
	g.writes.Add(int64(len(live)))
	var taken time.Time
	if g.trace != nil {
		taken = time.Now()
	}
	err := g.send(live)
	if g.trace != nil {
		g.traceBatch(live, taken)
	}
	var pgErr *pgconn.PgError
	if err != nil && len(live) > 1 && errors.As(err, &pgErr) {
		// A statement failed and took the batch with it: one by one now,
		// so the error reaches only its own caller.
		g.log.Debug(g.kind+" batch failed, retrying its statements one by one",
			"statements", len(live), "sqlstate", pgErr.Code)
		for _, r := range live {
			r.done <- r.result(g.send([]*writeReq{r}))
		}
		return
	}
	for _, r := range live {
		r.done <- r.result(err)
	}
}

// traceBatch tells the trace the times of every write of batch, taken
// into it at taken and sent now, before its callers are answered.
func (g *groupCommit) traceBatch(batch []*writeReq, taken time.Time) {
	done := time.Now()
	for _, r := range batch {
		g.trace(r.ctx, WriteTrace{Queued: r.queued, Taken: taken, Done: done, Batch: len(batch)})
	}
}

// result is the caller's answer once its batch ended with err.
func (r *writeReq) result(err error) error {
	if err == nil && r.scanErr != nil {
		return fmt.Errorf("scan the statement's row: %w", r.scanErr)
	}
	return err
}

// send runs batch as one pipeline and one implicit transaction on a pooled
// connection. It scans each statement's row into its request and returns
// nil only once the batch has committed.
func (g *groupCommit) send(batch []*writeReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	start := time.Now()
	conn, err := g.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("%s batch: unexpected driver connection %T", g.kind, dc)
		}
		return sendBatch(ctx, sc.Conn(), batch)
	})
	if d := time.Since(start); d >= slowBatch {
		g.log.Warn("slow "+g.kind+" batch", "statements", len(batch), "duration", d)
	}
	return err
}

// sendBatch queues every statement of batch, reads their rows and closes
// the batch, whose Sync commits it. An error from the server (or the
// connection) fails the batch; an error scanning a row, once the server
// has sent it, is that request's own.
func sendBatch(ctx context.Context, conn *pgx.Conn, batch []*writeReq) error {
	var b pgx.Batch
	for _, r := range batch {
		r.found, r.scanErr = false, nil
		b.Queue(r.query, r.args...)
	}
	br := conn.SendBatch(ctx, &b)
	for _, r := range batch {
		rows, err := br.Query()
		if err == nil {
			r.found, r.scanErr = scanFirst(rows, r.dest)
			err = rows.Err()
		}
		if err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}

// scanFirst scans the first row of rows into dest and reads the rest; the
// caller checks rows.Err.
func scanFirst(rows pgx.Rows, dest []any) (found bool, scanErr error) {
	defer rows.Close()
	for rows.Next() {
		if found || scanErr != nil {
			continue
		}
		if scanErr = rows.Scan(dest...); scanErr == nil {
			found = true
		}
	}
	return found, scanErr
}

// TraceWrites makes the group commit tell fn, with the caller's context,
// when each write was queued, taken into a batch and committed (benchmarks
// split a write's time between the queue and its batch with it). Call it
// before any write; it does nothing without a group commit (SQLite, or
// MaxWriteBatch 1). Unset, it costs a nil check per write.
func (s *Store) TraceWrites(fn func(ctx context.Context, w WriteTrace)) {
	if s.batch != nil {
		s.batch.trace = fn
	}
}
