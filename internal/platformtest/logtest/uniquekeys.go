package logtest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// TB is the part of testing.TB the checker uses.
type TB interface {
	Errorf(format string, args ...any)
	Cleanup(func())
}

// UniqueKeys wraps h so that every record it handles is checked for a key
// that appears twice in the line (platform=telegram platform=telegram): one
// added by Logger.With and again by With or by the call, or twice in one
// call. Keys inside a group count with the group's name. Records are passed
// on to h unchanged; the duplicates found fail tb when the test ends (so a
// goroutine may still log after its test finished).
func UniqueKeys(tb TB, h slog.Handler) slog.Handler {
	f := &dupFindings{}
	tb.Cleanup(func() {
		for _, d := range f.take() {
			tb.Errorf("%s", d)
		}
	})
	return &uniqueKeys{next: h, found: f}
}

// dupFindings collects the duplicates of every handler derived from one
// UniqueKeys call.
type dupFindings struct {
	mu    sync.Mutex
	lines []string
	done  bool
}

func (f *dupFindings) add(line string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.done && len(f.lines) < 20 {
		f.lines = append(f.lines, line)
	}
}

func (f *dupFindings) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = true
	return f.lines
}

type uniqueKeys struct {
	next   slog.Handler
	prefix string   // the open groups, "a.b."
	keys   []string // the keys of WithAttrs so far, prefixed
	found  *dupFindings
}

// Enabled implements slog.Handler.
func (u *uniqueKeys) Enabled(ctx context.Context, l slog.Level) bool { return u.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (u *uniqueKeys) Handle(ctx context.Context, r slog.Record) error {
	keys := slices.Clone(u.keys)
	r.Attrs(func(a slog.Attr) bool {
		keys = appendKeys(keys, u.prefix, a)
		return true
	})
	if dup := Duplicates(keys); len(dup) > 0 {
		u.found.add(fmt.Sprintf("log line %q repeats key(s) %s", r.Message, strings.Join(dup, ", ")))
	}
	return u.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (u *uniqueKeys) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *u
	c.keys = slices.Clone(u.keys)
	for _, a := range attrs {
		c.keys = appendKeys(c.keys, u.prefix, a)
	}
	c.next = u.next.WithAttrs(attrs)
	return &c
}

// WithGroup implements slog.Handler.
func (u *uniqueKeys) WithGroup(name string) slog.Handler {
	if name == "" {
		return u
	}
	c := *u
	c.prefix = u.prefix + name + "."
	c.next = u.next.WithGroup(name)
	return &c
}

// appendKeys adds a's key (or, for a group, its members' keys) under prefix.
func appendKeys(keys []string, prefix string, a slog.Attr) []string {
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" { // an empty key inlines the group
			p = prefix + a.Key + "."
		}
		for _, m := range a.Value.Group() {
			keys = appendKeys(keys, p, m)
		}
		return keys
	}
	if a.Equal(slog.Attr{}) {
		return keys // slog drops empty attributes
	}
	return append(keys, prefix+a.Key)
}

// Duplicates returns the keys that occur more than once, in order of their
// second occurrence.
func Duplicates(keys []string) []string {
	seen := make(map[string]int, len(keys))
	var dup []string
	for _, k := range keys {
		seen[k]++
		if seen[k] == 2 {
			dup = append(dup, k)
		}
	}
	return dup
}
