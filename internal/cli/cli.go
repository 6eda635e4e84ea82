// Package cli implements the chathub subcommands. cmd/chathub only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/chathub/chathub/internal/config"
)

// Env is what a subcommand runs with: its arguments and standard streams.
type Env struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (os.Getenv in main).
	Getenv func(string) string
	// Now is the clock of the commands that read it (funnel's periods);
	// nil is time.Now.
	Now func() time.Time
}

type command struct {
	name, usage string
	run         func(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int
}

func commands() []command {
	return []command{
		{"demo", "try everything with nothing installed: the console, a bot on an in-process fake Telegram, demo clients and campaigns: demo [--addr 127.0.0.1:8080] [--data DIR]", runDemo},
		{"run", "run the configured Telegram/VK bots, the inbound pipeline and the HTTP server (/healthz, /readyz, /metrics, /api, the console at /): run [--config FILE]", runRun},
		{"console", "serve the web console and the managers' API on HTTP_ADDR, without bots or broadcast workers: console [--config FILE]", runConsole},
		{"chat", "chat with a scenario in the terminal: chat [--scenario ID] [--user ID] [--name NAME]", runChat},
		{"validate", "check scenario files and print every problem as file:line:col: validate [--config FILE] [PATH...]", runValidate},
		{"test", "run the scenario tests (*.test.yaml) and print every failed expectation as file:line:col: test [--run REGEX] [--format text|json] [--coverage] [--scenarios DIR] [PATH...]", runTest},
		{"schema", "print the JSON Schema of scenario files (for editor autocompletion)", runSchema},
		{"clients", "list CRM records: clients [--format table|json|csv] [--platform P] [--bot NAME] [--id N] [--segment EXPR] [--search Q] [--limit N]", runClients},
		{"segment", "count, sample and save client segments: segment count|sample|explain|save|list|delete (segment help)", runSegment},
		{"broadcast", "segmented broadcasts: broadcast create|list|dry-run|start|pause|resume|cancel|status|export (broadcast help)", runBroadcast},
		{"user", "console accounts: user add NAME --role admin|manager|operator | list | passwd NAME | role NAME --role R | remove NAME (user help)", runUser},
		{"funnel", "a scenario's funnel, step by step in unique conversations: entered, answered, stuck, dropped, time to answer, reminders: funnel SCENARIO [--since 7d] [--version V] [--platform P] [--source S] [--bot NAME] [--format table|json|csv]", runFunnel},
		{"handoffs", "hand-off requests: the live ones, longest waiting first, then the newest closed: handoffs [--open] [--before ID] [--limit N] [--format table|json]", runHandoffs},
		{"transcript", "a client's conversation record, newest first: transcript CLIENT_ID [--before ID] [--limit N] [--format table|json]", runTranscript},
		{"audit", "the audit log, newest first: audit [--limit N] [--actor A] [--action X] [--before ID] [--format table|json]", runAudit},
		{"probe", "ask this host's HTTP_ADDR for /readyz (or --path /healthz); exit 0 on 200, 1 otherwise (container healthchecks): probe [--path P] [--timeout D]", runProbe},
		{"version", "print the version", runVersion},
	}
}

// Version is set at build time with -ldflags "-X github.com/chathub/chathub/internal/cli.Version=…".
var Version = "dev"

// Main runs the subcommand named by env.Args[0] and returns the exit code.
func Main(ctx context.Context, env *Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if len(env.Args) == 0 { // a usage error: usage to stderr, exit 2
		usage(env.Stderr)
		return 2
	}
	if isHelp(env.Args[0]) {
		usage(env.Stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != env.Args[0] {
			continue
		}
		cfg, err := config.FromEnv(env.Getenv)
		if err != nil && c.name == "run" { // every problem at once, the bots' too
			err = errors.Join(err, cfg.ValidateEnvBots())
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "chathub: configuration:\n%v\n", err)
			return 2
		}
		log := newLogger(cfg, env.Stderr)
		sub := *env
		sub.Args = env.Args[1:]
		return c.run(ctx, &sub, cfg, log)
	}
	fmt.Fprintf(env.Stderr, "chathub: unknown command %q\n\n", env.Args[0])
	usage(env.Stderr)
	return 2
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "chathub: Telegram and VK chat-bots on YAML scenarios, with a CRM of client portraits.")
	fmt.Fprintln(w, "\nUsage: chathub <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "\nConfiguration comes from environment variables (see README): DATABASE_URL, REDIS_URL, SCENARIOS_DIR, …;\nseveral bots: CONFIG_FILE or run --config FILE (docs/CONFIG.md)")
}

// isHelp reports whether arg asks for a command's usage: printed to stdout
// with exit 0, while a wrong command line prints it to stderr with exit 2.
func isHelp(arg string) bool { return arg == "help" || arg == "-h" || arg == "--help" }

func runVersion(_ context.Context, env *Env, _ config.Config, _ *slog.Logger) int {
	fmt.Fprintln(env.Stdout, "chathub", Version)
	return 0
}
