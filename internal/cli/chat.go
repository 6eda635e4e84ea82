package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/messenger"
)

// runChat talks to a scenario in the terminal: one client message per line
// from stdin (interactive or piped), the bot's replies on stdout.
func runChat(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	id := fs.String("scenario", "", "scenario id to start (default: DEFAULT_SCENARIO or the /start scenario)")
	user := fs.String("user", "local", "client id in the CRM (platform \"terminal\")")
	name := fs.String("name", "", "the client's first name as a platform profile would give it")
	if code, ok := parseFlags(env, fs, env.Args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "chathub chat: unexpected argument %q; the conversation comes from stdin\n", fs.Arg(0))
		return 2
	}
	if strings.TrimSpace(*user) == "" {
		fmt.Fprintln(env.Stderr, "chathub chat: --user must not be empty (it is the client's id in the CRM, e.g. --user anna)")
		return 2
	}
	if env.Getenv("LOG_LEVEL") == "" {
		// Keep the transcript readable: only warnings (e.g. a rejected hot
		// reload) unless LOG_LEVEL asks for more.
		cfg.LogLevel = slog.LevelWarn
		log = newLogger(cfg, env.Stderr)
	}
	stores, err := app.Open(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub chat: %v\n", err)
		return 1
	}
	defer stores.Close()
	if *id == "" {
		*id = cfg.DefaultScenario
	}
	if *id == "" {
		if g, ok := stores.Scenarios.ByCommand("start"); ok {
			*id = g.ID
		}
	}
	if _, ok := stores.Scenarios.Get(*id); !ok {
		fmt.Fprintf(env.Stderr, "chathub chat: no scenario %q; available: %s\n", *id, scenarioIDs(stores))
		return 2
	}
	if err := stores.Scenarios.Start(ctx); err != nil {
		log.Warn("hot reload disabled", "err", err)
	}
	term := &terminal{out: env.Stdout, chat: messenger.ChatKey{Platform: messenger.Terminal, ID: *user}}
	h, err := stores.Handler(cfg, term)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub chat: %v\n", err)
		return 1
	}
	var profile *messenger.Profile
	if *name != "" {
		profile = &messenger.Profile{FirstName: *name}
	}
	if err := h.Begin(ctx, term.chat, *id, profile); err != nil {
		fmt.Fprintf(env.Stderr, "chathub chat: %v\n", err)
		return 1
	}
	return chatLoop(ctx, env, term, h.Handle, profile)
}

type handleFunc func(ctx context.Context, upd *messenger.Update) error

// chatLoop feeds stdin lines to the handler until EOF or cancellation. A
// message that failed is reported at once and the conversation goes on, but
// the exit code is then 1, so a script notices.
func chatLoop(ctx context.Context, env *Env, term *terminal, handle handleFunc, profile *messenger.Profile) int {
	interactive := isTerminal(env.Stdin)
	in := bufio.NewScanner(env.Stdin)
	in.Buffer(make([]byte, 64*1024), 1<<20)
	prompt := func() {
		if interactive {
			fmt.Fprint(env.Stdout, "вы> ")
		}
	}
	prompt()
	code := 0
	for in.Scan() {
		if ctx.Err() != nil {
			return 130
		}
		line := strings.TrimRight(in.Text(), "\r")
		if !interactive {
			fmt.Fprintf(env.Stdout, "вы> %s\n", line)
		}
		upd, ready := term.update(line)
		if ready {
			upd.Profile = profile
			if err := handle(ctx, &upd); err != nil {
				fmt.Fprintf(env.Stderr, "chathub chat: %v\n", err)
				code = 1
			}
		}
		prompt()
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(env.Stderr, "chathub chat: read input: %v\n", err)
		return 1
	}
	return code
}

func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func scenarioIDs(s *app.Stores) string {
	var ids []string
	for _, g := range s.Scenarios.All() {
		ids = append(ids, g.ID)
	}
	return strings.Join(ids, ", ")
}
