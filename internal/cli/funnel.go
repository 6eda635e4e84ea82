package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/funnel"
	"github.com/chathub/chathub/internal/messenger"
)

// funnelReader is what `chathub funnel` reads (*funnel.Service).
type funnelReader interface {
	Funnel(ctx context.Context, q funnel.Query) (*funnel.Report, error)
}

// funnelWriters print a report in each --format.
var funnelWriters = map[string]func(io.Writer, *funnel.Report) error{
	"table": writeFunnelTable,
	"json":  writeFunnelJSON,
	"csv":   writeFunnelCSV,
}

// runFunnel prints a scenario's funnel.
func runFunnel(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	fs := flag.NewFlagSet("funnel", flag.ContinueOnError)
	since := fs.String("since", funnel.DefaultPeriod, `conversations started in this period: e.g. 7d, 24h, 2w, or "all"`)
	bot := fs.String("bot", "", "the bot whose scenario file gives the steps, when several bots have the scenario (a config file's bot name)")
	version := fs.String("version", "", "only conversations on this scenario version")
	platform := fs.String("platform", "", "only clients of this platform (telegram, vk, terminal)")
	source := fs.String("source", "", "only clients who came by this deep-link source")
	format := fs.String("format", "table", "output format: table, json or csv")
	pos, err := parseInterspersed(fs, env.Args)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub funnel: %v\n", err)
		return 2
	}
	period, perr := funnel.ParsePeriod(*since)
	write, ok := funnelWriters[*format]
	switch {
	case len(pos) != 1:
		fmt.Fprintln(env.Stderr, "chathub funnel: name one scenario: funnel SCENARIO [--since 7d] [--version V] [--platform P] [--source S] [--bot NAME] [--format table|json|csv]")
		return 2
	case perr != nil:
		fmt.Fprintf(env.Stderr, "chathub funnel: --since: %v\n", perr)
		return 2
	case *platform != "" && !messenger.Platform(*platform).Valid():
		fmt.Fprintf(env.Stderr, "chathub funnel: unknown platform %q (telegram, vk, terminal)\n", *platform)
		return 2
	case !ok:
		fmt.Fprintf(env.Stderr, "chathub funnel: unknown format %q (table, json, csv)\n", *format)
		return 2
	}
	db, err := app.OpenCRM(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub funnel: %v\n", err)
		return 1
	}
	defer db.Close()
	svc, err := app.FunnelService(cfg, db, scenarioBots(ctx, cfg, log, slog.LevelWarn), env.Now)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub funnel: %v\n", err)
		return 1
	}
	q := funnel.Query{Scenario: pos[0], Bot: *bot, Period: period, Version: *version,
		Platform: *platform, Source: *source}
	return printFunnel(ctx, env, svc, q, write)
}

// printFunnel prints q's funnel with write.
func printFunnel(ctx context.Context, env *Env, r funnelReader, q funnel.Query, write func(io.Writer, *funnel.Report) error) int {
	rep, err := r.Funnel(ctx, q)
	if err == nil {
		err = write(env.Stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub funnel: %v\n", err)
		return 1
	}
	return 0
}

func writeFunnelTable(w io.Writer, r *funnel.Report) error {
	fmt.Fprintf(w, "Funnel of %s: unique conversations", r.Scenario)
	if !r.Query.Since.IsZero() {
		fmt.Fprintf(w, " started since %s", r.Query.Since.Local().Format("2006-01-02 15:04"))
	}
	if !r.AsOf.IsZero() {
		fmt.Fprintf(w, " (as of %s)", r.AsOf.Local().Format("15:04"))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "STEP\tENTERED\tANSWERED\t% START\t% PREV\tSTUCK\tDROPPED\tMEDIAN\tREMINDED\tCAME BACK\t")
	for _, s := range r.Steps {
		id := s.ID
		if s.Removed {
			id += " (removed)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%d\t%s\t%d\t%d\t\n", id, s.Entered, answeredCell(s),
			pctCell(s.OfStart), pctCell(s.OfPrevious), s.Stuck, s.Dropped, medianCell(s), s.Reminded, s.CameBack)
	}
	return tw.Flush()
}

// answeredCell is "-" for a message-only step (passed, not answered).
func answeredCell(s funnel.Step) string {
	if !s.Question {
		return "-"
	}
	return strconv.Itoa(s.Answered)
}

func pctCell(p float64) string {
	if p < 0 {
		return "-"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

func medianCell(s funnel.Step) string {
	if !s.Question || s.Answered == 0 {
		return "-"
	}
	return s.MedianAnswer.Round(time.Second).String()
}

func writeFunnelJSON(w io.Writer, r *funnel.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.Export())
}

// writeFunnelCSV writes one row per step with the JSON's fields; removed
// (a step only older versions had) is last, so the other columns keep
// their positions.
func writeFunnelCSV(w io.Writer, r *funnel.Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"step", "question", "entered", "answered", "percent_of_start", "percent_of_previous",
		"stuck", "dropped", "median_answer_seconds", "reminded", "came_back", "removed"})
	for _, s := range r.Export().Steps {
		_ = cw.Write([]string{s.Step, strconv.FormatBool(s.Question), strconv.Itoa(s.Entered), strconv.Itoa(s.Answered),
			floatCell(s.OfStart), floatCell(s.OfPrevious), strconv.Itoa(s.Stuck), strconv.Itoa(s.Dropped),
			floatCell(s.MedianSeconds), strconv.Itoa(s.Reminded), strconv.Itoa(s.CameBack), strconv.FormatBool(s.Removed)})
	}
	cw.Flush()
	return cw.Error()
}

func floatCell(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}
