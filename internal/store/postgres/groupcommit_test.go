package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// TestStmtNumbers: a numbered statement's '?' placeholders become $1, $2,
// …, whether written by sql or param; an unnumbered one keeps them.
func TestStmtNumbers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"SELECT 1", "SELECT 1"},
		{"?", "$1"},
		{"VALUES (?, ?), (?, ?)", "VALUES ($1, $2), ($3, $4)"},
		{"a = ? AND b IN (SELECT x FROM y WHERE z = ?)", "a = $1 AND b IN (SELECT x FROM y WHERE z = $2)"},
		{"??", "$1$2"},
	} {
		b := stmt{numbered: true}
		b.sql(c.in)
		if got := b.String(); got != c.want {
			t.Errorf("sql(%q) = %q, want %q", c.in, got, c.want)
		}
		var plain stmt
		plain.sql(c.in)
		if got := plain.String(); got != c.in {
			t.Errorf("unnumbered sql(%q) = %q", c.in, got)
		}
	}
	// Ten and more parameters: $10 must not be read as $1 followed by 0;
	// sql and param share one count.
	b := stmt{numbered: true}
	for i := range 12 {
		if i%2 == 0 {
			b.sql("?,")
		} else {
			b.param()
			b.WriteByte(',')
		}
	}
	if got := b.String(); got != "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12," {
		t.Errorf("twelve parameters: %q", got)
	}
}

// TestGroupCommitConcurrentWrites: chats written in parallel share batches,
// and every write lands whole, as if alone.
func TestGroupCommitConcurrentWrites(t *testing.T) {
	t.Parallel()
	s := openPGTemp(t)
	if s.batch == nil {
		t.Fatal("PostgreSQL store without group commit")
	}
	const chats, steps = 48, 6
	var wg sync.WaitGroup
	errs := make(chan error, chats)
	for i := range chats {
		wg.Go(func() {
			key := messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint("gc", i)}
			for n := range steps {
				c, err := s.ApplyChanges(context.Background(), key, &crm.Changes{
					Now: at(n), UpdateID: fmt.Sprint(i, "-", n),
					Set:     []crm.FieldValue{{Field: "occupation", Value: fmt.Sprint("step", n)}},
					Answers: []crm.Answer{{Scenario: "s", Step: fmt.Sprint("q", n), Value: fmt.Sprint(i, "/", n)}},
					AddTags: []string{fmt.Sprint("t", n)},
				})
				if err != nil {
					errs <- err
					return
				}
				if c.PlatformUserID != key.ID || c.Occupation != fmt.Sprint("step", n) || len(c.Tags) != n+1 {
					errs <- fmt.Errorf("chat %d step %d: got %s %q tags %v", i, n, c.PlatformUserID, c.Occupation, c.Tags)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := count(t, s, "SELECT COUNT(*) FROM answers"); n != chats*steps {
		t.Errorf("%d answers, want %d", n, chats*steps)
	}
	batches, writes := s.batch.batches.Load(), s.batch.writes.Load()
	if writes != chats*steps {
		t.Errorf("group commit sent %d writes, want %d", writes, chats*steps)
	}
	if batches >= writes {
		t.Errorf("%d batches for %d concurrent writes: none was shared", batches, writes)
	}
	t.Logf("%d writes in %d batches", writes, batches)
}

// TestCardReadsOutsideWriteBatches: GetClient rides the batches of reads,
// not those of the writes (a read waits for no write's commit), and sees
// every write acknowledged before it, concurrent writes of other chats
// going on meanwhile.
func TestCardReadsOutsideWriteBatches(t *testing.T) {
	t.Parallel()
	s := openPGTemp(t)
	if s.batch == nil || s.reads == nil {
		t.Fatal("PostgreSQL store without group commit or read batches")
	}
	const chats, steps = 24, 4
	var wg sync.WaitGroup
	errs := make(chan error, chats)
	for i := range chats {
		wg.Go(func() {
			ctx := context.Background()
			key := messenger.ChatKey{Platform: messenger.Telegram, ID: fmt.Sprint("rd", i)}
			for n := range steps {
				if err := s.RecordChanges(ctx, key, &crm.Changes{
					Now: at(n), UpdateID: fmt.Sprint(i, "-", n),
					Set: []crm.FieldValue{{Field: "occupation", Value: fmt.Sprint("step", n)}},
				}); err != nil {
					errs <- err
					return
				}
				c, err := s.GetClient(ctx, key)
				switch {
				case err != nil:
					errs <- err
					return
				case c == nil || c.Occupation != fmt.Sprint("step", n):
					errs <- fmt.Errorf("chat %d step %d: read %+v, want the write just acknowledged", i, n, c)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if writes := s.batch.writes.Load(); writes != chats*steps {
		t.Errorf("write batches carried %d statements, want the %d writes alone", writes, chats*steps)
	}
	if reads := s.reads.writes.Load(); reads != chats*steps {
		t.Errorf("read batches carried %d statements, want %d reads", reads, chats*steps)
	}
	if c, err := s.GetClient(context.Background(), messenger.ChatKey{Platform: messenger.Telegram, ID: "nobody"}); c != nil || err != nil {
		t.Errorf("GetClient of an unknown chat = %+v, %v; want nil, nil", c, err)
	}
}

// queued submits the writes to g, whose flushers are not running, and
// waits until all of them are queued (behind those queued before); the
// results arrive on the returned channel in no particular order.
func queued(t *testing.T, g *groupCommit, ctx context.Context, queries []string) <-chan result {
	t.Helper()
	want := len(g.reqs) + len(queries)
	out := make(chan result, len(queries))
	for i, q := range queries {
		go func() {
			var v string
			found, err := g.queryOne(ctx, q, nil, &v)
			out <- result{i, v, found, err}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(g.reqs) < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", len(g.reqs), want)
		}
		time.Sleep(time.Millisecond)
	}
	return out
}

// next receives one result, failing the test instead of waiting forever.
func next(t *testing.T, out <-chan result) result {
	t.Helper()
	select {
	case r := <-out:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no result within 10s")
		return result{}
	}
}

// result is one queued write's answer.
type result struct {
	i     int
	v     string
	found bool
	err   error
}

// probeStore is a PostgreSQL store with a table gc_probe(v TEXT PRIMARY
// KEY) for the tests to write to.
func probeStore(t *testing.T) *Store {
	t.Helper()
	s := openPGTemp(t)
	if err := s.db.Exec("CREATE TABLE gc_probe (v TEXT PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	return s
}

// idleGroupCommit is a group commit on s's pool whose batches the test runs
// itself (no flushers).
func idleGroupCommit(t *testing.T, s *Store) *groupCommit {
	t.Helper()
	db, err := s.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	return newGroupCommit("write", db, slog.New(slog.DiscardHandler), 8, 0)
}

// TestGroupCommitErrorStaysWithItsWrite: a statement that fails rolls its
// batch back; the others are written again one by one, and only the failed
// write's caller sees an error.
func TestGroupCommitErrorStaysWithItsWrite(t *testing.T) {
	t.Parallel()
	s := probeStore(t)
	g := idleGroupCommit(t, s)
	queries := []string{
		"INSERT INTO gc_probe VALUES ('a') RETURNING v",
		"INSERT INTO gc_probe VALUES ('b') RETURNING v",
		"INSERT INTO gc_probe VALUES (1/0) RETURNING v", // division by zero
		"INSERT INTO gc_probe VALUES ('d') RETURNING v",
	}
	out := queued(t, g, context.Background(), queries)
	batch := g.take(nil)
	if len(batch) != len(queries) {
		t.Fatalf("batch of %d, want %d", len(batch), len(queries))
	}
	g.run(batch)
	for range queries {
		r := next(t, out)
		if r.i == 2 {
			if r.err == nil {
				t.Errorf("failing statement reported no error")
			}
			continue
		}
		if r.err != nil || !r.found || r.v == "" {
			t.Errorf("write %d: %q found %v, %v; want its row", r.i, r.v, r.found, r.err)
		}
	}
	if n := count(t, s, "SELECT COUNT(*) FROM gc_probe"); n != 3 {
		t.Errorf("%d rows, want the 3 good writes", n)
	}
}

// TestGroupCommitSkipsCanceledWrites: a caller that gave up while its write
// was queued gets its context's error, and the write is not sent.
func TestGroupCommitSkipsCanceledWrites(t *testing.T) {
	t.Parallel()
	s := probeStore(t)
	g := idleGroupCommit(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	out := queued(t, g, ctx, []string{"INSERT INTO gc_probe VALUES ('gone') RETURNING v"})
	kept := queued(t, g, context.Background(), []string{"INSERT INTO gc_probe VALUES ('kept') RETURNING v"})
	cancel()
	if r := next(t, out); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("canceled write returned %v", r.err)
	}
	g.run(g.take(nil))
	if r := next(t, kept); r.err != nil || r.v != "kept" {
		t.Fatalf("kept write: %q, %v", r.v, r.err)
	}
	if n := count(t, s, "SELECT COUNT(*) FROM gc_probe WHERE v = 'gone'"); n != 0 {
		t.Errorf("the canceled write was sent")
	}
}

// TestGroupCommitClose: Close finishes the writes queued and in flight; a
// caller told the store is closed had nothing written, and a write after
// Close fails at once instead of waiting forever.
func TestGroupCommitClose(t *testing.T) {
	t.Parallel()
	s := probeStore(t)
	db, err := s.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	g := newGroupCommit("write", db, slog.New(slog.DiscardHandler), 8, 2)
	const writes = 64
	out := make(chan result, writes)
	for i := range writes {
		go func() {
			var v string
			_, err := g.queryOne(context.Background(), fmt.Sprintf("INSERT INTO gc_probe VALUES ('w%d') RETURNING v", i), nil, &v)
			out <- result{i: i, v: v, err: err}
		}()
	}
	for g.writes.Load() == 0 {
		time.Sleep(100 * time.Microsecond)
	}
	g.close()
	written := 0
	for range writes {
		r := next(t, out)
		n := count(t, s, "SELECT COUNT(*) FROM gc_probe WHERE v = ?", fmt.Sprint("w", r.i))
		switch {
		case r.err == nil && n == 1:
			written++
		case errors.Is(r.err, errStoreClosed) && n == 0:
		default:
			t.Errorf("write %d: %v with %d rows", r.i, r.err, n)
		}
	}
	if written == 0 {
		t.Error("no write finished")
	}
	done := make(chan error, 1)
	go func() {
		var v string
		_, err := g.queryOne(context.Background(), "SELECT 'late'", nil, &v)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errStoreClosed) {
			t.Errorf("write after close: %v, want errStoreClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("write after close hangs")
	}
}
