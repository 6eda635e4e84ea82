package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/console"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/scenariotest"
)

// scenarioTestTimeout bounds one run of a bot's scenario tests.
const scenarioTestTimeout = time.Minute

// botTests runs one bot's scenario tests (the *.test.yaml files of its
// scenario directory's tests/) for Сценарии and keeps the last result in
// the process: they run again when a scenario version or a test file
// changed since, and only then. The run happens in the request that
// first sees the change; other requests wait for it.
type botTests struct {
	dir string
	reg *scenario.Registry
	cfg scenariotest.Config
	log *slog.Logger

	mu   sync.Mutex
	key  string // fingerprint of what the last run tested
	last console.TestRun
}

// results returns the results for the bot's current scenarios and test
// files, running the tests first when either changed; ok is false when the
// bot has no test files.
func (b *botTests) results(ctx context.Context) (console.TestRun, bool) {
	files, err := scenariotest.Files(filepath.Join(b.dir, scenariotest.TestsDir))
	if err != nil {
		return console.TestRun{At: time.Now(), Problems: []string{err.Error()}}, true
	}
	if len(files) == 0 {
		return console.TestRun{}, false
	}
	graphs := b.reg.All()
	key, err := fingerprint(graphs, files)
	if err != nil {
		return console.TestRun{At: time.Now(), Problems: []string{err.Error()}}, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if key == b.key {
		return b.last, true
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), scenarioTestTimeout)
	defer cancel()
	b.last, b.key = b.run(ctx, files), key
	return b.last, true
}

// run runs the tests of files on an embedded storage of their own.
func (b *botTests) run(ctx context.Context, files []string) console.TestRun {
	out := console.TestRun{At: time.Now()}
	parsed, err := scenariotest.ParseFiles(files, b.reg)
	if err != nil {
		out.Problems = errorLines(err)
		b.log.Warn("scenario tests not run: a test file has errors", "dir", b.dir, "problems", len(out.Problems))
		return out
	}
	runner, err := scenariotest.NewRunner(ctx, b.cfg)
	if err != nil {
		out.Problems = []string{err.Error()}
		return out
	}
	defer runner.Close()
	rep := runner.Run(ctx, b.reg, parsed, scenariotest.Options{})
	out.Took = time.Since(out.At)
	out.Scenarios = map[string]console.TestResult{}
	for id, s := range rep.ByScenario() {
		r := console.TestResult{Passed: s.Passed, Failed: s.Failed}
		if s.First != nil {
			r.First = s.First.Error()
		}
		out.Scenarios[id] = r
	}
	b.log.Info("scenario tests ran", "dir", b.dir, "passed", rep.Passed, "failed", rep.Failed, "took", out.Took.Round(time.Millisecond))
	return out
}

// errorLines splits a parse error into its file:line:col lines.
func errorLines(err error) []string {
	var list scenario.ErrorList
	if errors.As(err, &list) {
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = e.Error()
		}
		return out
	}
	return []string{err.Error()}
}

// fingerprint identifies the scenario versions and the test files' names
// and contents.
func fingerprint(graphs []*scenario.Graph, files []string) (string, error) {
	h := sha256.New()
	for _, g := range graphs {
		fmt.Fprintf(h, "scenario %s %s\n", g.ID, g.Version)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("scenario tests: %w", err)
		}
		fmt.Fprintf(h, "file %s %d\n", f, len(src))
		h.Write(src)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
