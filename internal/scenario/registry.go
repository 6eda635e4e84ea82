package scenario

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrVersionNotFound is returned (wrapped) when a scenario version is neither
// in memory nor in the VersionStore.
var ErrVersionNotFound = errors.New("scenario version not found")

// VersionStore persists every scenario version that was ever loaded, so a
// conversation can resume on its version after a restart (PostgreSQL
// implements it).
type VersionStore interface {
	// SaveVersion stores g's id, version, file and source; saving a version
	// that is already stored is not an error.
	SaveVersion(ctx context.Context, g *Graph) error
	// LoadVersion returns the file name and source of a stored version, or an
	// error wrapping ErrVersionNotFound when there is none.
	LoadVersion(ctx context.Context, id, version string) (file string, src []byte, err error)
}

// DefaultDebounce is how long the registry waits after the last change in
// the directory before reloading.
const DefaultDebounce = 200 * time.Millisecond

// RegistryConfig configures a Registry.
type RegistryConfig struct {
	// Dir is the scenario directory (required).
	Dir string
	// Logger receives reload reports; nil discards them.
	Logger *slog.Logger
	// Versions persists versions (optional; without it old versions live
	// only in memory).
	Versions VersionStore
	// Debounce is the quiet time before a reload (default DefaultDebounce).
	Debounce time.Duration
}

// validate reports a config that cannot work.
func (c RegistryConfig) validate() error {
	if c.Dir == "" {
		return errors.New("scenario registry: Dir is required")
	}
	if c.Debounce < 0 {
		return fmt.Errorf("scenario registry: Debounce must not be negative, got %v", c.Debounce)
	}
	st, err := os.Stat(c.Dir)
	if err != nil {
		return fmt.Errorf("scenario registry: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("scenario registry: %s is not a directory", c.Dir)
	}
	return nil
}

// Registry holds the current scenarios of a directory, swapped atomically on
// hot reload, and every version seen so far so that conversations stay on
// the version they started on. It is safe for concurrent use.
type Registry struct {
	cfg RegistryConfig
	log *slog.Logger
	cur atomic.Pointer[snapshot]

	mu       sync.Mutex // guards versions and saved
	versions map[versionKey]*Graph
	saved    map[versionKey]bool

	reloadMu sync.Mutex // serialises Load and reloads; guards files
	files    map[string]fileState
	// problems are the files rejected by the last reload (see Problems),
	// rebuilt from files after every Load and sync.
	problems atomic.Pointer[[]Problem]

	watchMu sync.Mutex // guards stop and done
	stop    context.CancelFunc
	done    chan struct{}
}

type versionKey struct{ id, version string }

// fileState is what the last reload made of a file.
type fileState struct {
	version string
	// errText is the last error reported for this content; clash is true
	// when it came from another file (so it is retried on every reload).
	errText string
	clash   bool
	// errs are the problems of the rejected content, one line each
	// ("file:line:col: message"), nil when the file loaded.
	errs []string
}

// Problem is a scenario file the registry rejected on hot reload: its
// problems as `chathub validate` prints them, and the last good version
// that keeps running (nil when the file never loaded).
type Problem struct {
	File string
	// Errors are the file's problems, one "file:line:col: message" each.
	Errors []string
	// Kept is the file's last good version, still serving conversations;
	// nil when there is none.
	Kept *Graph
}

// NewRegistry returns an empty registry; call Load, then Start to follow
// changes.
func NewRegistry(cfg RegistryConfig) *Registry {
	if cfg.Debounce == 0 {
		cfg.Debounce = DefaultDebounce
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Registry{
		cfg:      cfg,
		log:      log,
		versions: map[versionKey]*Graph{},
		saved:    map[versionKey]bool{},
		files:    map[string]fileState{},
	}
	r.cur.Store(newSnapshot(nil))
	return r
}

// Load loads every scenario of Dir. If any file is invalid nothing is
// loaded and the error is an ErrorList of every problem, so operators see
// them all at start.
func (r *Registry) Load(ctx context.Context) error {
	if err := r.cfg.validate(); err != nil {
		return err
	}
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	graphs, err := LoadDir(r.cfg.Dir)
	if err != nil {
		return err
	}
	for _, g := range graphs {
		if err := r.persist(ctx, g); err != nil {
			return err
		}
	}
	r.files = map[string]fileState{}
	for _, g := range graphs {
		r.remember(g)
		r.files[g.File] = fileState{version: g.Version}
		r.log.Info("scenario loaded", "id", g.ID, "version", g.Version, "file", g.File)
	}
	r.cur.Store(newSnapshot(graphs))
	r.noteProblems()
	return nil
}

// Problems lists the files whose current content the registry rejected
// (invalid, or clashing with another file) sorted by file name; each keeps
// its last good version running. Empty when every file loaded. A failed
// Load reports its problems as its error instead.
func (r *Registry) Problems() []Problem {
	p := r.problems.Load()
	if p == nil {
		return nil
	}
	return slices.Clone(*p)
}

// noteProblems rebuilds the list Problems returns; reloadMu must be held.
func (r *Registry) noteProblems() {
	cur := r.cur.Load()
	var out []Problem
	for file, st := range r.files {
		if st.errText == "" {
			continue
		}
		out = append(out, Problem{File: file, Errors: slices.Clone(st.errs), Kept: cur.byFile[file]})
	}
	slices.SortFunc(out, func(a, b Problem) int { return cmp.Compare(a.File, b.File) })
	r.problems.Store(&out)
}

// Get returns the current version of scenario id.
func (r *Registry) Get(id string) (*Graph, bool) {
	g, ok := r.cur.Load().byID[id]
	return g, ok
}

// All returns the current scenarios sorted by id.
func (r *Registry) All() []*Graph {
	return slices.Clone(r.cur.Load().all)
}

// ByCommand returns the scenario started by a command ("/start",
// "start@MyBot" and "Start" all match "start").
func (r *Registry) ByCommand(cmd string) (*Graph, bool) {
	return r.cur.Load().trigger(trigCommand, NormalizeCommand(cmd))
}

// ByKeyword returns the scenario whose keyword is the whole text,
// case-insensitively, ignoring surrounding and repeated spaces.
func (r *Registry) ByKeyword(text string) (*Graph, bool) {
	return r.cur.Load().trigger(trigKeyword, NormalizeKeyword(text))
}

// ByPayload returns the scenario for a deep-link payload: an exact payload
// first, else the longest matching prefix pattern ("ads_*").
func (r *Registry) ByPayload(p string) (*Graph, bool) {
	return r.cur.Load().payload(p)
}

// Version returns scenario id at version: from memory, else from the
// VersionStore (compiled and kept). An unknown version yields an error
// wrapping ErrVersionNotFound.
func (r *Registry) Version(ctx context.Context, id, version string) (*Graph, error) {
	key := versionKey{id, version}
	r.mu.Lock()
	g, ok := r.versions[key]
	r.mu.Unlock()
	if ok {
		return g, nil
	}
	if r.cfg.Versions == nil {
		return nil, fmt.Errorf("scenario %s version %s: %w", id, version, ErrVersionNotFound)
	}
	file, src, err := r.cfg.Versions.LoadVersion(ctx, id, version)
	if err != nil {
		return nil, fmt.Errorf("scenario %s version %s: %w", id, version, err)
	}
	g, err = Load(file, src)
	if err != nil {
		return nil, fmt.Errorf("scenario %s version %s: compile stored source: %w", id, version, err)
	}
	if g.ID != id || g.Version != version {
		return nil, fmt.Errorf("scenario %s version %s: the store returned %s version %s", id, version, g.ID, g.Version)
	}
	r.mu.Lock()
	r.saved[key] = true
	r.mu.Unlock()
	r.remember(g)
	return g, nil
}

// remember keeps g among the versions seen.
func (r *Registry) remember(g *Graph) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := versionKey{g.ID, g.Version}
	if _, ok := r.versions[key]; !ok {
		r.versions[key] = g
	}
}

// persist saves g to the VersionStore unless it is already saved.
func (r *Registry) persist(ctx context.Context, g *Graph) error {
	if r.cfg.Versions == nil {
		return nil
	}
	key := versionKey{g.ID, g.Version}
	r.mu.Lock()
	done := r.saved[key]
	r.mu.Unlock()
	if done {
		return nil
	}
	if err := r.cfg.Versions.SaveVersion(ctx, g); err != nil {
		return fmt.Errorf("scenario %s: save version %s: %w", g.ID, g.Version, err)
	}
	r.mu.Lock()
	r.saved[key] = true
	r.mu.Unlock()
	return nil
}

// snapshot is an immutable view of the current scenarios.
type snapshot struct {
	byID   map[string]*Graph
	byFile map[string]*Graph
	all    []*Graph
	index  *triggerIndex
	// prefixes are the payload patterns without "*", longest first.
	prefixes []string
}

// newSnapshot indexes graphs, which must have unique ids and triggers.
func newSnapshot(graphs []*Graph) *snapshot {
	s := &snapshot{byID: map[string]*Graph{}, byFile: map[string]*Graph{}, index: newTriggerIndex()}
	for _, g := range graphs {
		s.byID[g.ID], s.byFile[g.File] = g, g
		s.all = append(s.all, g)
		_ = s.index.add(g) // uniqueness is checked before a graph gets here
		for _, p := range g.Triggers.Payloads {
			if prefix, ok := strings.CutSuffix(p, "*"); ok {
				s.prefixes = append(s.prefixes, prefix)
			}
		}
	}
	slices.SortFunc(s.all, func(a, b *Graph) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.prefixes, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a, b)) })
	return s
}

func (s *snapshot) trigger(kind, value string) (*Graph, bool) {
	g, ok := s.index.triggers[kind+":"+value]
	return g, ok
}

func (s *snapshot) payload(p string) (*Graph, bool) {
	if g, ok := s.trigger(trigPayload, p); ok && !strings.HasSuffix(p, "*") {
		return g, true
	}
	for _, prefix := range s.prefixes {
		if strings.HasPrefix(p, prefix) {
			return s.trigger(trigPayload, prefix+"*")
		}
	}
	return nil, false
}
