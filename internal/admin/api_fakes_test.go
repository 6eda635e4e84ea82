package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
)

// fakeSegments is an in-memory CRM for the segment endpoints: expressions
// compile with the real compiler over its saved segments and are matched
// against its clients in memory.
type fakeSegments struct {
	mu      sync.Mutex
	clients []crm.Client
	saved   map[string]segment.Definition
	// fail, when set, is returned by CountSegment and SampleSegment.
	fail error
}

func newFakeSegments(clients ...crm.Client) *fakeSegments {
	return &fakeSegments{clients: clients, saved: map[string]segment.Definition{}}
}

func (f *fakeSegments) SegmentExpression(_ context.Context, name string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.saved[name]
	return d.Expression, ok, nil
}

func (f *fakeSegments) CompileSegment(ctx context.Context, expr string) (*segment.Segment, error) {
	c, err := segment.NewCompiler(segment.Config{Library: f})
	if err != nil {
		return nil, err
	}
	return c.Compile(ctx, expr)
}

func (f *fakeSegments) match(seg *segment.Segment) ([]crm.Client, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	var out []crm.Client
	for _, c := range f.clients {
		ok, err := seg.Match(&c, nil)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeSegments) CountSegment(_ context.Context, seg *segment.Segment) (int64, error) {
	m, err := f.match(seg)
	return int64(len(m)), err
}

func (f *fakeSegments) SampleSegment(_ context.Context, seg *segment.Segment, n int) ([]crm.Client, error) {
	m, err := f.match(seg)
	return m[:min(n, len(m))], err
}

func (f *fakeSegments) SaveSegment(ctx context.Context, d segment.Definition) (*segment.Definition, error) {
	c, err := segment.NewCompiler(segment.Config{Library: segment.Overlay{Name: d.Name, Expr: d.Expression, Base: f}})
	if err != nil {
		return nil, err
	}
	if _, err := c.Compile(ctx, d.Expression); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	d.CreatedAt, d.UpdatedAt = now, now
	if old, ok := f.saved[d.Name]; ok {
		d.CreatedAt = old.CreatedAt
	}
	f.saved[d.Name] = d
	return &d, nil
}

func (f *fakeSegments) GetSegment(_ context.Context, name string) (*segment.Definition, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.saved[name]
	if !ok {
		return nil, fmt.Errorf("get segment %q: %w", name, postgres.ErrNotFound)
	}
	return &d, nil
}

func (f *fakeSegments) ListSegments(context.Context) ([]segment.Definition, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []segment.Definition
	for _, d := range f.saved {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeSegments) DeleteSegment(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.saved[name]; !ok {
		return fmt.Errorf("delete segment %q: %w", name, postgres.ErrNotFound)
	}
	for _, d := range f.saved {
		if d.Name != name && slices.Contains(segment.References(d.Expression), name) {
			return fmt.Errorf("delete segment %q: %w: %s", name, postgres.ErrSegmentInUse, d.Name)
		}
	}
	delete(f.saved, name)
	return nil
}

// fakeCampaigns is an in-memory broadcast service: campaigns move through
// the real state machine (broadcast.CanTransition); previews, stats and
// deliveries are what the test put in.
type fakeCampaigns struct {
	mu         sync.Mutex
	campaigns  map[int64]*broadcast.Campaign
	nextID     int64
	previews   []broadcast.Preview
	stats      broadcast.Stats
	deliveries []broadcast.Delivery
	// deliveriesErr is returned by Deliveries after the deliveries.
	deliveriesErr error
	// createErr, when set, is Create's answer.
	createErr error
	// listErr, when set, is List's answer.
	listErr error
	// dryRunN records the last DryRun's n.
	dryRunN int
}

func newFakeCampaigns() *fakeCampaigns {
	return &fakeCampaigns{campaigns: map[int64]*broadcast.Campaign{}}
}

var fakeNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func (f *fakeCampaigns) Create(_ context.Context, c broadcast.Campaign) (broadcast.Campaign, error) {
	if f.createErr != nil {
		return broadcast.Campaign{}, f.createErr
	}
	if c.Name == "" {
		return broadcast.Campaign{}, &broadcast.ValidationError{Field: "name", Message: "is required"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	c.ID, c.State, c.CreatedAt, c.UpdatedAt = f.nextID, broadcast.Draft, fakeNow, fakeNow
	if c.StartAt != nil {
		c.State = broadcast.Scheduled
	}
	f.campaigns[c.ID] = &c
	return c, nil
}

func (f *fakeCampaigns) Get(_ context.Context, id int64) (broadcast.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.campaigns[id]
	if !ok {
		return broadcast.Campaign{}, fmt.Errorf("campaign %d: %w", id, broadcast.ErrNotFound)
	}
	return *c, nil
}

func (f *fakeCampaigns) List(context.Context) ([]broadcast.Campaign, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []broadcast.Campaign
	for id := f.nextID; id > 0; id-- {
		if c, ok := f.campaigns[id]; ok {
			out = append(out, *c)
		}
	}
	return out, nil
}

func (f *fakeCampaigns) move(id int64, to broadcast.State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.campaigns[id]
	if !ok {
		return fmt.Errorf("campaign %d: %w", id, broadcast.ErrNotFound)
	}
	if !broadcast.CanTransition(c.State, to) {
		return fmt.Errorf("campaign %d is %s, cannot become %s: %w", id, c.State, to, broadcast.ErrInvalidTransition)
	}
	c.State = to
	return nil
}

func (f *fakeCampaigns) Start(_ context.Context, id int64) error {
	return f.move(id, broadcast.Running)
}
func (f *fakeCampaigns) Pause(_ context.Context, id int64) error { return f.move(id, broadcast.Paused) }
func (f *fakeCampaigns) Cancel(_ context.Context, id int64) error {
	return f.move(id, broadcast.Cancelled)
}

func (f *fakeCampaigns) Resume(_ context.Context, id int64) error {
	if c, err := f.Get(context.Background(), id); err == nil && c.State != broadcast.Paused {
		return fmt.Errorf("campaign %d is %s, not paused: %w", id, c.State, broadcast.ErrInvalidTransition)
	}
	return f.move(id, broadcast.Running)
}

func (f *fakeCampaigns) DryRun(ctx context.Context, id int64, n int) ([]broadcast.Preview, error) {
	if _, err := f.Get(ctx, id); err != nil {
		return nil, err
	}
	f.dryRunN = n
	return f.previews[:min(n, len(f.previews))], nil
}

func (f *fakeCampaigns) Stats(ctx context.Context, id int64) (broadcast.Stats, error) {
	if _, err := f.Get(ctx, id); err != nil {
		return broadcast.Stats{}, err
	}
	return f.stats, nil
}

func (f *fakeCampaigns) Deliveries(ctx context.Context, id int64, fn func(broadcast.Delivery) error) error {
	if _, err := f.Get(ctx, id); err != nil {
		return err
	}
	for _, d := range f.deliveries {
		if err := fn(d); err != nil {
			return err
		}
	}
	return f.deliveriesErr
}

var errDatabaseDown = errors.New("dial tcp 10.0.0.5:5432: connection refused (password=hunter2)")
