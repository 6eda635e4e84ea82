package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/scenario"
)

// broadcastUsage is printed for `chathub broadcast` without a valid subcommand.
const broadcastUsage = `Usage:
  chathub broadcast create --name N (--segment 'EXPR' | --saved NAME) --text T
        [--button "Текст|https://url"]... [--button-scenario "Текст|scenario_id"]...
        [--image URL] [--platform telegram|vk]... [--at 2026-12-24T10:00:00+03:00]
        [--ignore-cap] [--ignore-quiet-hours]      create a draft (scheduled with --at)
  chathub broadcast list                           list the campaigns, newest first
  chathub broadcast dry-run ID [-n 5]              render the message for a few random recipients
  chathub broadcast start|pause|resume|cancel ID   move a campaign through its lifecycle
  chathub broadcast status ID [--follow]           statistics; --follow shows live progress until it ends
  chathub broadcast export ID [-o file.csv]        the delivery ledger as CSV (stdout by default)

Segments are expressions (docs/SEGMENTS.md); texts are templates over the client card,
e.g. "Здравствуйте, {{ .client.first_name | default \"друг\" }}!".`

// broadcaster is what `chathub broadcast` drives; *broadcast.Service
// implements it.
type broadcaster interface {
	admin.CampaignBook
	admin.CampaignControl
	admin.CampaignReports
}

// broadcastRun is one parsed subcommand, ready to run against a service.
type broadcastRun func(ctx context.Context, bc *broadcastCall) error

// broadcastCall is what a subcommand runs with.
type broadcastCall struct {
	env *Env
	svc broadcaster
	// tty: stdout is a terminal (status --follow redraws one line).
	tty bool
	// now and sleep are the clock of status --follow.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// broadcastParsers parse each subcommand's flags and arguments.
var broadcastParsers = map[string]func(fs *flag.FlagSet, args []string) (broadcastRun, error){
	"create":  parseCreate,
	"list":    parseList,
	"dry-run": parseDryRun,
	"start":   transitionParser("start", broadcaster.Start),
	"pause":   transitionParser("pause", broadcaster.Pause),
	"resume":  transitionParser("resume", broadcaster.Resume),
	"cancel":  transitionParser("cancel", broadcaster.Cancel),
	"status":  parseStatus,
	"export":  parseExport,
}

// usageError is a command line the subcommand cannot run (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// runBroadcast creates, controls and reports on broadcast campaigns.
func runBroadcast(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	bc := &broadcastCall{env: env, tty: isTerminal(env.Stdout), now: time.Now, sleep: sleepCtx}
	return broadcastMain(ctx, bc, func(ctx context.Context) (broadcaster, func(), error) {
		return openBroadcast(ctx, cfg, log)
	})
}

// broadcastMain parses the subcommand, opens the service with open (only
// for a valid command line) and runs it; it returns the exit code.
func broadcastMain(ctx context.Context, bc *broadcastCall, open func(context.Context) (broadcaster, func(), error)) int {
	env := bc.env
	run, code := parseBroadcast(env)
	if run == nil {
		return code
	}
	svc, closeFn, err := open(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub broadcast %s: %v\n", env.Args[0], err)
		return 1
	}
	defer closeFn()
	bc.svc = svc
	return finishBroadcast(env, env.Args[0], run(ctx, bc))
}

// parseBroadcast picks the subcommand and parses its flags; a nil run
// means stop with code (usage printed).
func parseBroadcast(env *Env) (broadcastRun, int) {
	if len(env.Args) == 0 { // a usage error: usage to stderr, exit 2
		fmt.Fprintln(env.Stderr, broadcastUsage)
		return nil, 2
	}
	if isHelp(env.Args[0]) { // asked for: stdout, exit 0, like `chathub help`
		fmt.Fprintln(env.Stdout, broadcastUsage)
		return nil, 0
	}
	name := env.Args[0]
	parse, ok := broadcastParsers[name]
	if !ok {
		fmt.Fprintf(env.Stderr, "chathub broadcast: unknown subcommand %q\n\n%s\n", name, broadcastUsage)
		return nil, 2
	}
	fs := flag.NewFlagSet("broadcast "+name, flag.ContinueOnError)
	msgs := captureFlags(env, fs)
	run, err := parse(fs, env.Args[1:])
	fs.SetOutput(env.Stderr)
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "chathub broadcast %s: %v\n\n%s\n", name, err, broadcastUsage)
		return nil, 2
	case err != nil: // -h/--help, or a wrong flag the flag package described
		return nil, msgs.exit(err)
	}
	return run, 0
}

// finishBroadcast prints a subcommand's error and returns the exit code.
func finishBroadcast(env *Env, name string, err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(env.Stderr, "chathub broadcast "+name+": interrupted")
		return 1
	}
	fmt.Fprintf(env.Stderr, "chathub broadcast %s: %v\n", name, describeBroadcastError(err))
	return 1
}

// describeBroadcastError says what to do about the service's errors.
func describeBroadcastError(err error) string {
	var ve *broadcast.ValidationError
	switch {
	case errors.As(err, &ve):
		return fmt.Sprintf("--%s: %s", flagOf(ve.Field), ve.Message)
	case errors.Is(err, broadcast.ErrNotFound):
		return err.Error() + " (see chathub broadcast list)"
	}
	return err.Error()
}

// flagOf names the create flag a campaign field comes from.
func flagOf(field string) string {
	base, _, _ := strings.Cut(field, "[")
	switch base {
	case "buttons":
		return "button"
	case "image_url":
		return "image"
	case "platforms":
		return "platform"
	case "start_at":
		return "at"
	}
	return base
}

// parseID reads the one positional argument: a campaign id.
func parseID(fs *flag.FlagSet, args []string) (int64, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 0, err
	}
	if len(pos) != 1 {
		return 0, usagef("want one campaign ID, got %d argument(s)", len(pos))
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("campaign ID must be a positive whole number, got %q", pos[0])
	}
	return id, nil
}

func transitionParser(verb string, do func(broadcaster, context.Context, int64) error) func(*flag.FlagSet, []string) (broadcastRun, error) {
	return func(fs *flag.FlagSet, args []string) (broadcastRun, error) {
		id, err := parseID(fs, args)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, bc *broadcastCall) error {
			if err := do(bc.svc, ctx, id); err != nil {
				return err
			}
			c, err := bc.svc.Get(ctx, id)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(bc.env.Stdout, "campaign %d %q is %s%s\n", c.ID, c.Name, c.State, nextHint(verb, &c))
			return err
		}, nil
	}
}

// nextHint suggests what to run after a state change.
func nextHint(verb string, c *broadcast.Campaign) string {
	switch {
	case verb == "start" || verb == "resume":
		return fmt.Sprintf("; follow it with: chathub broadcast status %d --follow", c.ID)
	case verb == "pause":
		return fmt.Sprintf("; continue with: chathub broadcast resume %d", c.ID)
	}
	return ""
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// openBroadcast opens the CRM database and the scenarios (to check
// scenario buttons and the names segments use) and builds the broadcast
// service over them.
func openBroadcast(ctx context.Context, cfg config.Config, log *slog.Logger) (broadcaster, func(), error) {
	db, err := app.OpenCRM(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	regs := scenarioRegistries(ctx, cfg, log, slog.LevelWarn)
	db.UseScenarios(app.ScenarioCatalog{Registries: regs})
	svc, err := app.BroadcastService(cfg, db, scenarioCatalog(regs), log)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	audited, err := app.NewAudited(db, svc, cliActor, log)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return auditedBroadcaster{audited, svc}, func() { db.Close() }, nil
}

// auditedBroadcaster records the campaign changes in the audit log (as
// "cli") and passes the reports through.
type auditedBroadcaster struct {
	*admin.Audited
	admin.CampaignReports
}

// sortedCounts prints counts by reason, largest first: "transient 25, bad_request 5".
func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k, n := range m {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// scenarioCatalog is what scenario buttons may name: the scenarios of
// regs; nil when none loaded (buttons are then not checked).
func scenarioCatalog(regs []*scenario.Registry) broadcast.ScenarioCatalog {
	if len(regs) == 0 {
		return nil
	}
	return app.ScenarioCatalog{Registries: regs}
}
