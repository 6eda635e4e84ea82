package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/scenariotest"
)

// testOptions are the flags of `chathub test`.
type testOptions struct {
	run, format, scenarios string
	coverage               bool
}

// runTest runs the scenario tests (*.test.yaml) of the paths (default:
// SCENARIOS_DIR and its tests/) in-process on the embedded storage, prints
// every failed expectation as file:line:col and exits 1 when any failed.
func runTest(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	var o testOptions
	fs.StringVar(&o.run, "run", "", "run only the cases whose name matches this regular expression")
	fs.StringVar(&o.format, "format", "text", "output format: text or json")
	fs.BoolVar(&o.coverage, "coverage", false, "print each scenario's coverage and the steps, branches and re-asks no case went through")
	fs.StringVar(&o.scenarios, "scenarios", "", "run against the scenarios of this directory (default: the one above tests/, else beside the test file)")
	m := captureFlags(env, fs)
	paths, err := parseInterspersed(fs, env.Args)
	fs.SetOutput(env.Stderr)
	if err != nil {
		return m.exit(err)
	}
	var filter *regexp.Regexp
	if o.run != "" {
		if filter, err = regexp.Compile(o.run); err != nil {
			fmt.Fprintf(env.Stderr, "chathub test: --run: %v\n", err)
			return 2
		}
	}
	if o.format != "text" && o.format != "json" {
		fmt.Fprintf(env.Stderr, "chathub test: --format must be text or json, got %q\n", o.format)
		return 2
	}
	if len(paths) == 0 {
		paths = []string{cfg.ScenariosDir}
	}
	suites, err := scenariotest.Discover(paths)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub test: %v\n", err)
		return 1
	}
	tc, err := app.ScenarioTestConfig(cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub test: %v\n", err)
		return 1
	}
	runner, err := scenariotest.NewRunner(ctx, tc)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub test: %v\n", err)
		return 1
	}
	defer runner.Close()
	total := &scenariotest.Report{}
	for _, s := range suites {
		rep, ok := runSuite(ctx, env, runner, s, o, filter)
		if !ok {
			return 1
		}
		total.Add(rep)
	}
	return printTestReport(env, total, o)
}

// runSuite loads a suite's scenarios and files and runs them; false when
// they did not load (the problems are printed).
func runSuite(ctx context.Context, env *Env, runner *scenariotest.Runner, s scenariotest.Suite, o testOptions, filter *regexp.Regexp) (*scenariotest.Report, bool) {
	dir := s.ScenariosDir
	if o.scenarios != "" {
		dir = o.scenarios
	}
	reg := scenario.NewRegistry(scenario.RegistryConfig{Dir: dir})
	if err := reg.Load(ctx); err != nil {
		fmt.Fprintf(env.Stderr, "chathub test: the scenarios of %s do not load:\n", dir)
		printLoadError(env, err)
		return nil, false
	}
	files, err := scenariotest.ParseFiles(s.Files, reg)
	if err != nil {
		printLoadError(env, err)
		return nil, false
	}
	return runner.Run(ctx, reg, files, scenariotest.Options{Filter: filter}), true
}

// printTestReport prints the report; the exit code is 1 when a case failed.
func printTestReport(env *Env, rep *scenariotest.Report, o testOptions) int {
	if o.format == "json" {
		if err := rep.WriteJSON(env.Stdout, o.coverage); err != nil {
			fmt.Fprintf(env.Stderr, "chathub test: %v\n", err)
			return 1
		}
	} else {
		rep.WriteText(env.Stdout, o.coverage)
	}
	if rep.Failed > 0 {
		return 1
	}
	return 0
}
