package scenario

import (
	"context"
	"errors"
	"fmt"
	"github.com/chathub/chathub/internal/platformtest/logtest"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = logtest.Buffer

// memStore is an in-memory VersionStore.
type memStore struct {
	mu    sync.Mutex
	files map[string]string
	srcs  map[string][]byte
	saves int
}

func newMemStore() *memStore {
	return &memStore{files: map[string]string{}, srcs: map[string][]byte{}}
}

func (m *memStore) SaveVersion(_ context.Context, g *Graph) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[g.ID+"@"+g.Version], m.srcs[g.ID+"@"+g.Version] = g.File, g.Source
	m.saves++
	return nil
}

func (m *memStore) LoadVersion(_ context.Context, id, version string) (string, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	src, ok := m.srcs[id+"@"+version]
	if !ok {
		return "", nil, fmt.Errorf("memstore %s@%s: %w", id, version, ErrVersionNotFound)
	}
	return m.files[id+"@"+version], src, nil
}

func scenarioSrc(id, command, greeting string) string {
	return fmt.Sprintf(`id: %s
title: Тест
triggers:
  commands: [%s]
  keywords: [%s-слово]
  payloads: [%s, "%s_*", "%s_vk_*"]
steps:
  hello:
    say: %q
    end: true
`, id, command, id, id, id, id, greeting)
}

func writeFile(t *testing.T, path, src string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeViaRename saves like editors that write a temporary file and rename it.
func writeViaRename(t *testing.T, path, src string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	writeFile(t, tmp, src)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

type fixture struct {
	dir   string
	reg   *Registry
	logs  *syncBuffer
	store *memStore
}

func newFixture(t *testing.T, files map[string]string) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), logs: &syncBuffer{}, store: newMemStore()}
	for name, src := range files {
		writeFile(t, filepath.Join(f.dir, name), src)
	}
	f.reg = NewRegistry(RegistryConfig{
		Dir:      f.dir,
		Logger:   slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Versions: f.store,
		Debounce: 20 * time.Millisecond,
	})
	return f
}

func (f *fixture) start(t *testing.T) {
	t.Helper()
	if err := f.reg.Load(context.Background()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := f.reg.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(f.reg.Stop)
}

func (f *fixture) path(name string) string { return filepath.Join(f.dir, name) }

func (f *fixture) version(id string) string {
	g, ok := f.reg.Get(id)
	if !ok {
		return ""
	}
	return g.Version
}

func TestRegistryInitialLoadAndLookups(t *testing.T) {
	t.Parallel()
	f := newFixture(t, map[string]string{
		"b.yaml":       scenarioSrc("beta", "start", "Привет"),
		"a.yml":        scenarioSrc("alpha", "alpha", "Здравствуйте"),
		"notes.txt":    "не сценарий",
		".hidden.yaml": "не: [сценарий",
		// a scenario test (internal/scenariotest) beside the scenarios
		"b.test.yaml": "scenario: beta\ncases: []\n",
		"a.Test.yml":  "scenario: alpha\n",
	})
	if err := f.reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, g := range f.reg.All() {
		ids = append(ids, g.ID)
	}
	if got := strings.Join(ids, ","); got != "alpha,beta" {
		t.Fatalf("All = %s", got)
	}
	lookups := []struct {
		name string
		fn   func() (*Graph, bool)
		want string
	}{
		{"command with slash and bot", func() (*Graph, bool) { return f.reg.ByCommand("/Start@chathub_bot") }, "beta"},
		{"command plain", func() (*Graph, bool) { return f.reg.ByCommand("alpha") }, "alpha"},
		{"unknown command", func() (*Graph, bool) { return f.reg.ByCommand("/help") }, ""},
		{"keyword", func() (*Graph, bool) { return f.reg.ByKeyword("  BETA-Слово ") }, "beta"},
		{"keyword partial", func() (*Graph, bool) { return f.reg.ByKeyword("beta-слово!") }, ""},
		{"payload exact", func() (*Graph, bool) { return f.reg.ByPayload("alpha") }, "alpha"},
		{"payload prefix", func() (*Graph, bool) { return f.reg.ByPayload("beta_tg") }, "beta"},
		{"payload longest prefix", func() (*Graph, bool) { return f.reg.ByPayload("beta_vk_1") }, "beta"},
		{"payload none", func() (*Graph, bool) { return f.reg.ByPayload("gamma") }, ""},
		{"get", func() (*Graph, bool) { return f.reg.Get("alpha") }, "alpha"},
	}
	for _, l := range lookups {
		got := ""
		if g, ok := l.fn(); ok {
			got = g.ID
		}
		if got != l.want {
			t.Errorf("%s: got %q, want %q", l.name, got, l.want)
		}
	}
	if f.store.saves != 2 {
		t.Errorf("versions saved = %d, want 2", f.store.saves)
	}
}

func TestRegistryInitialLoadReportsAllErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, map[string]string{
		"a.yaml": scenarioSrc("alpha", "start", "Привет"),
		"b.yaml": strings.Replace(scenarioSrc("beta", "start", "Дубль"), "id: beta", "id: alpha", 1),
		"c.yaml": "id: gamma\nsteps:\n  a: { sya: x, end: true }\n",
	})
	err := f.reg.Load(context.Background())
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Load error = %v, want ErrorList", err)
	}
	want := []string{
		f.path("b.yaml") + `:1:5: scenario id "alpha" is already used by a.yaml`,
		f.path("b.yaml") + `:4:14: command "start" already starts scenario "alpha" (a.yaml)`,
		f.path("c.yaml") + `:3:8: unknown key "sya" in step "a"; did you mean "say"?`,
	}
	if len(list) != len(want) {
		t.Fatalf("got %d errors:\n%v", len(list), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(list[i].Error(), w) {
			t.Errorf("error %d = %s, want %s...", i, list[i], w)
		}
	}
	if len(f.reg.All()) != 0 {
		t.Errorf("scenarios loaded despite errors")
	}
}

func TestRegistryHotReload(t *testing.T) {
	t.Parallel()
	f := newFixture(t, map[string]string{"p.yaml": scenarioSrc("portrait", "start", "Привет")})
	f.start(t)
	v1 := f.version("portrait")

	// A valid edit swaps the scenario.
	writeFile(t, f.path("p.yaml"), scenarioSrc("portrait", "start", "Добрый день"))
	eventually(t, "valid edit to load", func() bool { return f.version("portrait") != v1 })
	v2 := f.version("portrait")
	if !strings.Contains(f.logs.String(), "scenario reloaded") || !strings.Contains(f.logs.String(), "version="+v2) {
		t.Errorf("no reload log:\n%s", f.logs)
	}

	// An invalid edit keeps the last good version and logs every error.
	writeFile(t, f.path("p.yaml"), "id: portrait\nsteps:\n  hello: { sya: x, end: true, next: nowhere }\n")
	eventually(t, "invalid edit to be logged", func() bool { return strings.Contains(f.logs.String(), `unknown step \"nowhere\"`) })
	logs := f.logs.String()
	for _, want := range []string{`unknown key \"sya\"`, `unknown step \"nowhere\"`, "kept_version=" + v2} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if got := f.version("portrait"); got != v2 {
		t.Errorf("version after invalid edit = %s, want %s", got, v2)
	}

	// Old versions stay retrievable for conversations that started on them.
	for _, v := range []string{v1, v2} {
		if g, err := f.reg.Version(context.Background(), "portrait", v); err != nil || g.Version != v {
			t.Errorf("Version(%s) = %v, %v", v, g, err)
		}
	}
}

func TestRegistryDeleteAndRename(t *testing.T) {
	t.Parallel()
	f := newFixture(t, map[string]string{
		"p.yaml": scenarioSrc("portrait", "start", "Привет"),
		"f.yaml": scenarioSrc("feedback", "feedback", "Оцените нас"),
	})
	f.start(t)
	v1 := f.version("feedback")

	// Editors that write a temporary file and rename it over the original.
	writeViaRename(t, f.path("p.yaml"), scenarioSrc("portrait", "start", "Через переименование"))
	eventually(t, "rename-style write to load", func() bool {
		g, ok := f.reg.Get("portrait")
		return ok && strings.Contains(string(g.Source), "Через переименование")
	})

	if err := os.Remove(f.path("f.yaml")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "removal", func() bool { _, ok := f.reg.Get("feedback"); return !ok })
	if _, ok := f.reg.ByCommand("feedback"); ok {
		t.Errorf("removed scenario still answers its command")
	}
	if _, err := f.reg.Version(context.Background(), "feedback", v1); err != nil {
		t.Errorf("removed scenario's version lost: %v", err)
	}
	if !strings.Contains(f.logs.String(), "scenario removed") {
		t.Errorf("no removal log:\n%s", f.logs)
	}
}

func TestRegistryTriggerClashOnReload(t *testing.T) {
	t.Parallel()
	f := newFixture(t, map[string]string{"a.yaml": scenarioSrc("alpha", "start", "Привет")})
	f.start(t)

	writeFile(t, f.path("b.yaml"), scenarioSrc("beta", "start", "Тоже старт"))
	eventually(t, "clash to be logged", func() bool {
		return strings.Contains(f.logs.String(), `command \"start\" already starts scenario \"alpha\"`)
	})
	if _, ok := f.reg.Get("beta"); ok {
		t.Fatalf("clashing scenario loaded")
	}

	// Freeing the command lets the waiting file load without touching it.
	writeFile(t, f.path("a.yaml"), scenarioSrc("alpha", "alpha", "Привет"))
	eventually(t, "beta to load", func() bool { _, ok := f.reg.Get("beta"); return ok })
	if g, _ := f.reg.ByCommand("start"); g == nil || g.ID != "beta" {
		t.Errorf("start now belongs to %v", g)
	}
}

func TestRegistryVersionFromStore(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	old, err := Load("old.yaml", []byte(scenarioSrc("portrait", "start", "Старый текст")))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SaveVersion(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	reg := NewRegistry(RegistryConfig{Dir: t.TempDir(), Versions: store})
	if err := reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	g, err := reg.Version(context.Background(), "portrait", old.Version)
	if err != nil || g.Steps["hello"].Say.Raw != "Старый текст" {
		t.Fatalf("Version from store = %v, %v", g, err)
	}
	if _, err := reg.Version(context.Background(), "portrait", "0000000000000000"); !errors.Is(err, ErrVersionNotFound) {
		t.Errorf("missing version error = %v, want ErrVersionNotFound", err)
	}
	bare := NewRegistry(RegistryConfig{Dir: t.TempDir()})
	if _, err := bare.Version(context.Background(), "portrait", old.Version); !errors.Is(err, ErrVersionNotFound) {
		t.Errorf("without a store: %v, want ErrVersionNotFound", err)
	}
}

func TestRegistryConfigValidate(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "f.yaml")
	writeFile(t, file, "x")
	tests := []struct {
		name string
		cfg  RegistryConfig
		want string
	}{
		{"no dir", RegistryConfig{}, "Dir is required"},
		{"negative debounce", RegistryConfig{Dir: t.TempDir(), Debounce: -time.Second}, "must not be negative"},
		{"missing dir", RegistryConfig{Dir: filepath.Join(t.TempDir(), "nope")}, "no such file"},
		{"file", RegistryConfig{Dir: file}, "is not a directory"},
		{"ok", RegistryConfig{Dir: t.TempDir()}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("validate() = %v, want %q", err, tt.want)
			}
			if tt.want != "" {
				if err := NewRegistry(tt.cfg).Start(context.Background()); err == nil {
					t.Errorf("Start accepted an invalid config")
				}
			}
		})
	}
}

func TestRegistryStopIsIdempotent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.start(t)
	if err := f.reg.Start(context.Background()); err == nil {
		t.Errorf("second Start succeeded")
	}
	f.reg.Stop()
	f.reg.Stop()
}
