package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// rollupTurn is one scripted dialog write.
type rollupTurn struct {
	at     time.Time
	client int
	ch     crm.Changes
	forget bool
}

// rollupScript generates random conversations over four days from base
// (an hour boundary): clients on two platforms with three sources (some
// learnt only later, first touch), two scenarios, two versions (a
// conversation may switch mid-way), steps visited more than once (loops),
// answers minutes to two days late, drops, conversations left waiting,
// and a client forgotten now and then.
func rollupScript(r *rand.Rand, base time.Time, clients int) []rollupTurn {
	var turns []rollupTurn
	steps := []string{"a", "b", "c", "d"}
	srcs := []string{"", "ads", "site"}
	for c := range clients {
		src := srcs[r.IntN(3)]
		turns = append(turns, rollupTurn{at: base.Add(-time.Hour), client: c, ch: crm.Changes{Source: src}})
		if src == "" && r.IntN(3) == 0 {
			at := base.Add(time.Duration(r.IntN(4*24*60)) * time.Minute)
			turns = append(turns, rollupTurn{at: at, client: c, ch: crm.Changes{Source: "late"}})
		}
		for range 1 + r.IntN(3) {
			t := base.Add(time.Duration(r.IntN(4*24*60))*time.Minute + time.Duration(r.IntN(60))*time.Second)
			sc := []string{"s1", "s2"}[r.IntN(2)]
			ver := []string{"v1", "v2"}[r.IntN(2)]
			run := t.UnixMicro()
			visit := func(ev crm.VisitEvent, step, next string) crm.StepVisit {
				return crm.StepVisit{Scenario: sc, Version: ver, Run: run, Step: step, Event: ev, Next: next}
			}
			step := steps[r.IntN(2)]
			var first []crm.StepVisit
			if r.IntN(3) == 0 { // a message step passed first
				first = append(first, visit(crm.VisitPass, "hello", step))
			}
			turns = append(turns, rollupTurn{at: t, client: c, ch: crm.Changes{Visits: append(first, visit(crm.VisitEnter, step, ""))}})
			for n := 0; ; n++ {
				switch d := r.IntN(20); {
				case d < 12:
					t = t.Add(time.Duration(1+r.IntN(600)) * time.Second)
				case d < 18:
					t = t.Add(time.Duration(1+r.IntN(300)) * time.Minute)
				default:
					t = t.Add(time.Duration(1+r.IntN(48)) * time.Hour)
				}
				if r.IntN(8) == 0 {
					ver = []string{"v1", "v2"}[r.IntN(2)] // the scenario changed under it
				}
				switch e := r.IntN(10); {
				case e == 0 || n > 6: // finished
					turns = append(turns, rollupTurn{at: t, client: c, ch: crm.Changes{Visits: []crm.StepVisit{visit(crm.VisitAnswer, step, "")}}})
				case e == 1:
					turns = append(turns, rollupTurn{at: t, client: c, ch: crm.Changes{Visits: []crm.StepVisit{visit(crm.VisitDrop, step, "")}}})
				case e == 2: // left waiting
				default:
					next := steps[r.IntN(len(steps))]
					turns = append(turns, rollupTurn{at: t, client: c, ch: crm.Changes{Visits: []crm.StepVisit{
						visit(crm.VisitAnswer, step, next), visit(crm.VisitEnter, next, "")}}})
					step = next
					continue
				}
				break
			}
		}
		if r.IntN(15) == 0 {
			turns = append(turns, rollupTurn{at: base.Add(time.Duration(r.IntN(5*24)) * time.Hour), client: c, forget: true})
		}
	}
	slices.SortStableFunc(turns, func(a, b rollupTurn) int { return a.at.Compare(b.at) })
	// A forgotten client's later turns start a new client.
	gone := map[int]bool{}
	for i := range turns {
		if gone[turns[i].client] {
			turns[i].client += 1000
		}
		if turns[i].forget {
			gone[turns[i].client] = true
		}
	}
	return turns
}

// TestFunnelRollupMatchesLive: on random scripted data refreshed at random
// moments (incrementally), the rollup's counts equal the live query's for
// every period start, filter combination and reading time, and
// its medians are within 5 % (50 ms under 0.1 s).
func TestFunnelRollupMatchesLive(t *testing.T) {
	t.Parallel()
	for seed := range uint64(3) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			t.Parallel()
			s := openPGTemp(t)
			ctx := context.Background()
			r := rand.New(rand.NewPCG(seed, 13))
			base := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(24)) * time.Hour)
			openFor := time.Duration(6+r.IntN(30)) * time.Hour
			turns := rollupScript(r, base, 30)
			key := func(c int) messenger.ChatKey {
				return messenger.ChatKey{Platform: []messenger.Platform{messenger.Telegram, messenger.VK}[c%2],
					ID: "rollup-" + strconv.Itoa(c)}
			}
			seq := 0
			refreshes := 0
			for i, tr := range turns {
				if tr.forget {
					if _, err := s.DeleteClient(ctx, key(tr.client)); err != nil {
						t.Fatal(err)
					}
				} else {
					seq++
					tr.ch.Now, tr.ch.UpdateID = tr.at, "u"+strconv.Itoa(seq)
					if err := s.RecordChanges(ctx, key(tr.client), &tr.ch); err != nil {
						t.Fatalf("RecordChanges: %v", err)
					}
				}
				if r.IntN(25) == 0 || i == len(turns)-1 {
					refreshes++
					now := tr.at.Add(time.Minute)
					if _, err := s.RefreshFunnel(ctx, now, openFor); err != nil {
						t.Fatal(err)
					}
					compareRollup(t, s, base, now, openFor, refreshes == 1 || i == len(turns)-1)
				}
			}
			// Later readings: conversations waiting cross the window.
			end := turns[len(turns)-1].at
			for _, later := range []time.Duration{time.Hour, openFor, 3 * openFor} {
				now := end.Add(later)
				if _, err := s.RefreshFunnel(ctx, now, openFor); err != nil {
					t.Fatal(err)
				}
				compareRollup(t, s, base, now, openFor, true)
			}
			t.Logf("%d turns, %d refreshes", len(turns), refreshes)
		})
	}
}

// compareRollup checks the rollup against the live count as of now
// (every filter combination when all, else a few).
func compareRollup(t *testing.T, s *Store, base, now time.Time, openFor time.Duration, all bool) {
	t.Helper()
	ctx := context.Background()
	sinces := []time.Time{{}, base, base.Add(5*time.Hour + 17*time.Minute + 3*time.Second), base.Add(24 * time.Hour),
		base.Add(31*time.Hour + 42*time.Minute), base.Add(50 * time.Hour), base.Add(71*time.Hour + 59*time.Minute)}
	type filter struct{ version, platform, source string }
	filters := []filter{{}, {version: "v1"}, {platform: "vk"}, {source: "ads"}}
	if all {
		filters = nil
		for _, v := range []string{"", "v1", "v2"} {
			for _, p := range []string{"", "telegram", "vk"} {
				for _, src := range []string{"", "ads", "late"} {
					filters = append(filters, filter{v, p, src})
				}
			}
		}
	}
	for _, sc := range []string{"s1", "s2"} {
		for _, since := range sinces {
			for _, f := range filters {
				q := crm.FunnelQuery{Scenario: sc, Since: since, Version: f.version, Platform: f.platform, Source: f.source,
					OpenSince: now.Add(-openFor)}
				name := fmt.Sprintf("%s since %s %+v at %s", sc, since.Format(time.DateTime), f, now.Format(time.DateTime))
				got, asOf, err := s.FunnelStepsAsOf(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if asOf.IsZero() {
					t.Fatalf("%s: not from the rollup", name)
				}
				byStep := map[string]*crm.FunnelStepCount{}
				if err := s.funnelLive(ctx, q, func(step string) *crm.FunnelStepCount {
					c := byStep[step]
					if c == nil {
						c = &crm.FunnelStepCount{Step: step}
						byStep[step] = c
					}
					return c
				}); err != nil {
					t.Fatal(err)
				}
				gotBy := map[string]crm.FunnelStepCount{}
				for _, c := range got {
					gotBy[c.Step] = c
				}
				for step, w := range byStep {
					g := gotBy[step]
					if g.Entered != w.Entered || g.Answered != w.Answered || g.Stuck != w.Stuck || g.Dropped != w.Dropped {
						t.Fatalf("%s step %s: rollup %+v, live %+v", name, step, g, *w)
					}
					if !medianClose(g.MedianAnswer, w.MedianAnswer) {
						t.Fatalf("%s step %s: median %v, live %v", name, step, g.MedianAnswer, w.MedianAnswer)
					}
					delete(gotBy, step)
				}
				for step, g := range gotBy {
					if g.Entered != 0 || g.Stuck != 0 || g.Dropped != 0 {
						t.Fatalf("%s step %s: rollup %+v, live nothing", name, step, g)
					}
				}
			}
		}
	}
}

// medianClose: got is within 5 % of want, or 50 ms of it.
func medianClose(got, want time.Duration) bool {
	d := (got - want).Abs()
	return d <= 50*time.Millisecond || float64(d) <= 0.05*float64(want)
}

func TestHistMedian(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		n := 1 + r.IntN(40)
		var ds []time.Duration
		h := map[int]int{}
		for range n {
			d := time.Duration(r.Int64N(int64(48 * time.Hour)))
			if r.IntN(4) == 0 {
				d = time.Duration(r.Int64N(int64(2 * time.Second)))
			}
			ds = append(ds, d)
			h[histBucket(d)]++
		}
		want := median(ds)
		if got := histMedian(h); !medianClose(got, want) {
			t.Fatalf("median %v of %v, want %v", got, ds, want)
		}
	}
	in := map[int]int{0: 3, 7: 1, 120: 9}
	out := map[int]int{}
	if err := parseHist(formatHist(in)+",", out); err != nil || !maps.Equal(in, out) {
		t.Fatalf("parseHist(formatHist(%v)) = %v, %v", in, out, err)
	}
	if err := parseHist("1:x", out); err == nil {
		t.Fatal("parseHist accepted 1:x")
	}
}

// histBucket is pgHistBucket in Go (for TestHistMedian).
func histBucket(d time.Duration) int {
	sec := d.Seconds()
	if sec < histFloor {
		return 0
	}
	return 1 + int(math.Floor(math.Log(sec/histFloor)/math.Log(histRatio)))
}

// TestXidWindow: the window of transaction ids a refresh looks in, in Go
// and as the SQL of xidNewer, across the 32-bit wrap-around; rows frozen
// long ago (their original xmin kept) stay out of it.
func TestXidWindow(t *testing.T) {
	t.Parallel()
	const epoch = int64(1) << 32
	tests := []struct {
		name             string
		prev, xmin, xmax int64
		ok               bool
		in, out          []uint32 // row xmins in and out of the window
	}{
		{name: "plain", prev: 1000, xmin: 1500, xmax: 1600, ok: true,
			in: []uint32{1000, 1200, 1599}, out: []uint32{999, 1600, 1 << 31, 3, math.MaxUint32}},
		{name: "wraps", prev: epoch - 100, xmin: epoch + 10, xmax: epoch + 50, ok: true,
			in: []uint32{math.MaxUint32 - 99, math.MaxUint32, 0, 3, 49}, out: []uint32{50, 1 << 31, math.MaxUint32 - 100}},
		{name: "frozen 2^31+ old", prev: 5 * epoch / 4, xmin: 5*epoch/4 + 900, xmax: 5*epoch/4 + 1000, ok: true,
			in: []uint32{uint32(5 * epoch / 4 % epoch)},
			out: []uint32{uint32((5*epoch/4 - 1<<31 - 5) % epoch), uint32((5*epoch/4 - 1<<31 - 1<<30) % epoch),
				uint32((5*epoch/4 + 1000) % epoch)}},
		{name: "nothing since", prev: 700, xmin: 700, xmax: 700, ok: true, out: []uint32{699, 700, 701}},
		{name: "ids went back (restored)", prev: 9000, xmin: 800, xmax: 850},
		{name: "2^31 apart", prev: 10, xmin: 20, xmax: 10 + 1<<31},
		{name: "xmax below xmin", prev: 10, xmin: 20, xmax: 15},
	}
	var s *Store // nil: the Go predicate only
	if os.Getenv("CHATHUB_SKIP_PG") != "1" {
		s = openPGTemp(t)
	}
	for _, tt := range tests {
		w, ok := newXidWindow(tt.prev, tt.xmin, tt.xmax)
		if ok != tt.ok {
			t.Fatalf("%s: ok %v, want %v", tt.name, ok, tt.ok)
		}
		if !ok {
			continue
		}
		for _, want := range []bool{true, false} {
			xs := tt.out
			if want {
				xs = tt.in
			}
			for _, x := range xs {
				if got := w.has(x); got != want {
					t.Errorf("%s: has(%d) = %v, want %v", tt.name, x, got, want)
				}
				if s == nil {
					continue
				}
				var got bool
				if err := s.db.Raw("SELECT "+xidNewer("t")+" FROM (SELECT CAST(CAST(? AS TEXT) AS xid) AS xmin) AS t",
					w.lo, w.width, strconv.FormatUint(uint64(x), 10)).Row().Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s: SQL xidNewer(%d) = %v, want %v", tt.name, x, got, want)
				}
			}
		}
	}
}

// TestFunnelRollupRestoredCluster: when the stored snapshot is ahead of
// the database's transaction ids (restored into a new cluster), the next
// refresh rebuilds every day and the counts match the live ones.
func TestFunnelRollupRestoredCluster(t *testing.T) {
	t.Parallel()
	s := openPGTemp(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 13))
	base := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	openFor := 12 * time.Hour
	turns := rollupScript(r, base, 10)
	record := func(from, to int) {
		for i, tr := range turns[from:to] {
			key := messenger.ChatKey{Platform: messenger.Telegram, ID: "restored-" + strconv.Itoa(tr.client)}
			if tr.forget {
				if _, err := s.DeleteClient(ctx, key); err != nil {
					t.Fatal(err)
				}
				continue
			}
			tr.ch.Now, tr.ch.UpdateID = tr.at, "u"+strconv.Itoa(from+i)
			if err := s.RecordChanges(ctx, key, &tr.ch); err != nil {
				t.Fatalf("RecordChanges: %v", err)
			}
		}
	}
	half := len(turns) / 2
	record(0, half)
	now := turns[half-1].at.Add(time.Minute)
	if res, err := s.RefreshFunnel(ctx, now, openFor); err != nil || !res.Full {
		t.Fatalf("first refresh: %+v, %v; want a full build", res, err)
	}
	if err := s.db.Exec("UPDATE funnel_state SET xid = xid + 1000000000").Error; err != nil {
		t.Fatal(err)
	}
	record(half, len(turns))
	now = turns[len(turns)-1].at.Add(time.Minute)
	res, err := s.RefreshFunnel(ctx, now, openFor)
	if err != nil || !res.Full {
		t.Fatalf("refresh after the ids went back: %+v, %v; want a full build", res, err)
	}
	compareRollup(t, s, base, now, openFor, true)
	if res, err := s.RefreshFunnel(ctx, now, openFor); err != nil || res.Full || !res.Ran {
		t.Fatalf("next refresh: %+v, %v; want an incremental one", res, err)
	}
}

// TestRefreshConflict: a concurrent refresh's unique or serialization
// conflict counts as a skipped turn; other errors stay errors.
func TestRefreshConflict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{fmt.Errorf("refresh: %w", &pgconn.PgError{Code: "23505"}), true},
		{fmt.Errorf("refresh: %w", &pgconn.PgError{Code: "40001"}), true},
		{&pgconn.PgError{Code: "40P01"}, true},
		{fmt.Errorf("refresh: %w", &pgconn.PgError{Code: "23503"}), false},
		{&pgconn.PgError{Code: "57014"}, false},
		{context.Canceled, false},
	}
	for _, tt := range tests {
		if got := refreshConflict(tt.err); got != tt.want {
			t.Errorf("refreshConflict(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
