package scenario

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Start watches Dir and reloads changed files until Stop or ctx ends. The
// directory is watched, not the files, so editors that save by writing a
// temporary file and renaming it (and Kubernetes ConfigMap swaps) work.
// After a quiet period of Debounce, every changed file is re-validated; a
// valid one replaces its scenario in a new snapshot swapped atomically, an
// invalid one is logged with every error and its last good version stays.
// A removed file removes its scenario (its versions stay retrievable).
func (r *Registry) Start(ctx context.Context) error {
	if err := r.cfg.validate(); err != nil {
		return err
	}
	r.watchMu.Lock()
	defer r.watchMu.Unlock()
	if r.done != nil {
		return errors.New("scenario registry: already started")
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("scenario registry: watch %s: %w", r.cfg.Dir, err)
	}
	if err := w.Add(r.cfg.Dir); err != nil {
		_ = w.Close()
		return fmt.Errorf("scenario registry: watch %s: %w", r.cfg.Dir, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	r.stop, r.done = cancel, make(chan struct{})
	go r.watch(ctx, w, r.done)
	return nil
}

// Stop stops watching and waits for a reload in progress to finish. It is
// safe to call more than once.
func (r *Registry) Stop() {
	r.watchMu.Lock()
	defer r.watchMu.Unlock()
	if r.stop == nil {
		return
	}
	r.stop()
	<-r.done
	r.stop, r.done = nil, nil
}

// watch runs the event loop: any event (re)arms the debounce timer, which
// then syncs the directory.
func (r *Registry) watch(ctx context.Context, w *fsnotify.Watcher, done chan struct{}) {
	defer close(done)
	defer func() { _ = w.Close() }()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	r.sync(ctx) // pick up changes made between Load and Start
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Op != fsnotify.Chmod {
				timer.Reset(r.cfg.Debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			r.log.Warn("scenario directory watch error; rescanning", "dir", r.cfg.Dir, "error", err)
			timer.Reset(r.cfg.Debounce)
		case <-timer.C:
			r.sync(ctx)
		}
	}
}

// sync compares the directory with what is loaded: removed files drop
// their scenario, new or changed files are re-validated, and the result is
// swapped in as one snapshot.
func (r *Registry) sync(ctx context.Context) {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	files, err := scenarioFiles(r.cfg.Dir)
	if err != nil {
		r.log.Warn("scenario reload failed; keeping the current scenarios", "dir", r.cfg.Dir, "error", err)
		return
	}
	cur := r.cur.Load()
	next := make(map[string]*Graph, len(cur.byFile))
	for f, g := range cur.byFile {
		next[f] = g
	}
	changed := r.dropRemoved(files, next)
	for _, file := range files {
		if r.reloadFile(ctx, file, next) {
			changed = true
		}
	}
	if changed {
		graphs := make([]*Graph, 0, len(next))
		for _, g := range next {
			graphs = append(graphs, g)
		}
		r.cur.Store(newSnapshot(graphs))
	}
	r.noteProblems()
}

// dropRemoved removes from next the files no longer in the directory.
func (r *Registry) dropRemoved(files []string, next map[string]*Graph) bool {
	present := make(map[string]bool, len(files))
	for _, f := range files {
		present[f] = true
	}
	changed := false
	for f, g := range next {
		if !present[f] {
			delete(next, f)
			changed = true
			r.log.Info("scenario removed", "id", g.ID, "version", g.Version, "file", f)
		}
	}
	for f := range r.files {
		if !present[f] {
			delete(r.files, f)
		}
	}
	return changed
}

// reloadFile re-validates one file if its content changed (or it failed
// only because of another file) and puts it into next. It reports whether
// next changed.
func (r *Registry) reloadFile(ctx context.Context, file string, next map[string]*Graph) bool {
	src, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return r.dropFile(file, next)
		}
		r.log.Warn("scenario file unreadable; keeping the last good version", "file", file, "error", err)
		return false
	}
	version := versionOf(src)
	prev, seen := r.files[file]
	if seen && prev.version == version && !prev.clash {
		return false
	}
	g, err := Load(file, src)
	clash := false
	if err == nil {
		err, clash = clashWith(g, next), true
	}
	if err != nil {
		r.reject(file, version, err, clash, next[file])
		return false
	}
	if err := r.persist(ctx, g); err != nil {
		r.log.Error("scenario version not persisted; conversations on it cannot resume after a restart", "id", g.ID, "version", g.Version, "error", err)
	}
	r.remember(g)
	r.files[file] = fileState{version: version}
	old := next[file]
	next[file] = g
	if old != nil && old.Version == g.Version && old.ID == g.ID {
		return false
	}
	r.log.Info("scenario reloaded", "id", g.ID, "version", g.Version, "file", file)
	return true
}

// dropFile handles a file that vanished during the reload.
func (r *Registry) dropFile(file string, next map[string]*Graph) bool {
	delete(r.files, file)
	g, ok := next[file]
	if ok {
		delete(next, file)
		r.log.Info("scenario removed", "id", g.ID, "version", g.Version, "file", file)
	}
	return ok
}

// clashWith reports g's id or triggers taken by another file of next.
func clashWith(g *Graph, next map[string]*Graph) error {
	idx := newTriggerIndex()
	for f, other := range next {
		if f != g.File {
			_ = idx.add(other)
		}
	}
	return idx.clashes(g).Err()
}

// reject logs an invalid file once per distinct error and keeps its last
// good version.
func (r *Registry) reject(file, version string, err error, clash bool, kept *Graph) {
	text := err.Error()
	prev := r.files[file]
	r.files[file] = fileState{version: version, errText: text, clash: clash, errs: errorLines(err)}
	if prev.version == version && prev.errText == text {
		return
	}
	attrs := []any{"file", file, "errors", errorLines(err)}
	if kept != nil {
		attrs = append(attrs, "id", kept.ID, "kept_version", kept.Version)
	}
	r.log.Warn("scenario file invalid; keeping the last good version", attrs...)
}

// errorLines lists the problems of a load error, one string each.
func errorLines(err error) []string {
	var list ErrorList
	if errors.As(err, &list) {
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = e.Error()
		}
		return out
	}
	return []string{err.Error()}
}
