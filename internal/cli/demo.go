package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/demo"
)

// demoStarted is called with the running demo after its lines are
// printed (a test reaches the fake Telegram and the stores through it).
var demoStarted = func(*demo.Demo) {}

// runDemo runs the whole hub in one process with nothing installed (see
// internal/demo), prints the console's URL and the admin's credentials, and
// stops gracefully on SIGINT/SIGTERM.
func runDemo(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	addr := fs.String("addr", demo.DefaultAddr, "the console's address; port 0 picks a free one")
	data := fs.String("data", "", "keep the database in this directory (default: a temporary one, removed on exit)")
	if code, ok := parseFlags(env, fs, env.Args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "chathub demo: takes no arguments but --addr ADDR and --data DIR\n")
		return 2
	}
	if env.Getenv("LOG_LEVEL") == "" { // the hub's INFO lines would bury the instructions
		log = newLogger(config.Config{LogLevel: slog.LevelWarn, LogFormat: cfg.LogFormat}, env.Stderr)
	}
	d, err := demo.Start(ctx, demo.Config{Base: cfg, Addr: *addr, DataDir: *data, Logger: log})
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub demo: %v\n", err)
		if strings.Contains(err.Error(), "address already in use") {
			fmt.Fprintf(env.Stderr, "chathub demo: another program uses %s; try --addr 127.0.0.1:0 (any free port)\n", *addr)
		}
		return 1
	}
	printDemo(env.Stdout, d)
	demoStarted(d)
	<-ctx.Done()
	fmt.Fprintln(env.Stdout, "Останавливаю демо… / Stopping the demo…")
	kept := d.DataDir
	if err := d.Stop(context.WithoutCancel(ctx)); err != nil {
		fmt.Fprintf(env.Stderr, "chathub demo: stop: %v\n", err)
		return 1
	}
	if !d.Temporary {
		fmt.Fprintf(env.Stdout, "Данные сохранены / Data kept in %s (chathub demo --data %s continues with them)\n", kept, kept)
	}
	return 0
}

// printDemo says what runs and how to open it, in Russian and English.
func printDemo(w io.Writer, d *demo.Demo) {
	names := make([]string, 0, len(d.Personas))
	for _, p := range d.Personas {
		names = append(names, p.FirstName+" "+p.LastName)
	}
	fmt.Fprintf(w, "Демо запущено: откройте %s — вход: %s / %s\n", d.URL, demo.AdminName, d.AdminPassword)
	fmt.Fprintf(w, "Demo running: open %s — sign in: %s / %s\n\n", d.URL, demo.AdminName, d.AdminPassword)
	fmt.Fprintf(w, "  Клиенты / Clients: %d demo clients in Telegram (%s); a campaign reaches them on the in-process fake Telegram.\n",
		len(d.Personas), strings.Join(names, ", "))
	fmt.Fprintln(w, "  Тихие часы выключены: рассылки уходят в любое время. / Quiet hours are off: campaigns send at any hour.")
	fmt.Fprintln(w, "  Scenarios: the shipped ones ("+d.Config.ScenariosDir+"); database: embedded SQLite; Redis: in-process.")
	if d.Temporary {
		fmt.Fprintf(w, "  Данные / Data: %s (удаляются при выходе / removed on exit; --data DIR keeps them)\n", d.DataDir)
	} else {
		fmt.Fprintf(w, "  Данные / Data: %s (сохраняются / kept)\n", d.DataDir)
	}
	fmt.Fprintln(w, "  Ctrl-C — остановить / stop.")
}
