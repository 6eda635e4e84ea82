package logtest

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// fakeTB records what the checker reports.
type fakeTB struct {
	errs    []string
	cleanup []func()
}

func (f *fakeTB) Cleanup(fn func()) { f.cleanup = append(f.cleanup, fn) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func TestUniqueKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		log  func(l *slog.Logger)
		dup  string // "" when the line is fine
	}{
		{"distinct", func(l *slog.Logger) { l.With("platform", "vk").Info("m", "bot", "shop") }, ""},
		{"With twice", func(l *slog.Logger) { l.With("platform", "vk").With("platform", "vk").Info("m") }, "platform"},
		{"With and call", func(l *slog.Logger) { l.With("chat", "1").Info("m", "chat", "1") }, "chat"},
		{"twice in a call", func(l *slog.Logger) { l.Info("m", "err", 1, "err", 2) }, "err"},
		{"in a group is another key", func(l *slog.Logger) { l.With("a", 1).WithGroup("g").Info("m", "a", 2) }, ""},
		{"twice in a group", func(l *slog.Logger) { l.WithGroup("g").With("a", 1).Info("m", "a", 2) }, "g.a"},
		{"group attr", func(l *slog.Logger) { l.Info("m", slog.Group("g", "a", 1), "g", 2) }, ""},
		{"inline group", func(l *slog.Logger) { l.With("a", 1).Info("m", slog.Group("", "a", 2)) }, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf Buffer
			tb := &fakeTB{}
			tt.log(slog.New(UniqueKeys(tb, slog.NewTextHandler(&buf, nil))))
			if len(tb.errs) > 0 {
				t.Errorf("reported before the test ended: %v", tb.errs)
			}
			for _, fn := range tb.cleanup {
				fn()
			}
			switch {
			case tt.dup == "" && len(tb.errs) > 0:
				t.Errorf("reported %v", tb.errs)
			case tt.dup != "" && (len(tb.errs) != 1 || !strings.HasSuffix(tb.errs[0], "repeats key(s) "+tt.dup)):
				t.Errorf("reported %v, want the key %s", tb.errs, tt.dup)
			}
			if !strings.Contains(buf.String(), "msg=m") {
				t.Errorf("the line was not passed on: %q", buf.String())
			}
		})
	}
}
