package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
)

// segmentUsage is printed for `chathub segment` without a valid subcommand.
const segmentUsage = `Usage:
  chathub segment count 'EXPR'                         how many clients EXPR selects
  chathub segment sample 'EXPR' [-n 5] [--format table|json]
                                                       show a few of them, picked at random
  chathub segment explain 'EXPR'                       print the SQL EXPR compiles to
  chathub segment save NAME 'EXPR' [--description D]   save EXPR as NAME (use it as segment("NAME"))
  chathub segment list [--format table|json]           list the saved segments
  chathub segment delete NAME                          delete a saved segment

EXPR is a segment expression, e.g.
  city == "Москва" and age >= 25 and "fitness" in attributes.interests and subscribed and last_seen_at > ago("30d")
(see docs/SEGMENTS.md).`

// segmentCmd is one `chathub segment` subcommand.
type segmentCmd = subcommand[segmentCall]

// segmentCall is what a subcommand runs with.
type segmentCall struct {
	env *Env
	db  *postgres.Store
	// saved is db's saved segments, with changes audited as "cli".
	saved admin.SavedSegments
	args  []string
}

var segmentCmds = map[string]segmentCmd{
	"count":   {[]string{"EXPR"}, func(*flag.FlagSet) func(context.Context, *segmentCall) error { return segmentCount }},
	"sample":  {[]string{"EXPR"}, sampleFlags},
	"explain": {[]string{"EXPR"}, func(*flag.FlagSet) func(context.Context, *segmentCall) error { return segmentExplain }},
	"save":    {[]string{"NAME", "EXPR"}, saveFlags},
	"list":    {nil, listFlags},
	"delete":  {[]string{"NAME"}, func(*flag.FlagSet) func(context.Context, *segmentCall) error { return segmentDelete }},
}

// runSegment counts, samples, explains and manages saved segments.
func runSegment(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	name, run, args, code, ok := parseSubcommand(env, "segment", segmentUsage, "; quote the expression", segmentCmds)
	if !ok {
		return code
	}
	db, err := app.OpenCRM(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub segment %s: %v\n", name, err)
		return 1
	}
	defer db.Close()
	if name != "list" && name != "delete" {
		db.UseScenarios(app.ScenarioCatalog{Registries: scenarioRegistries(ctx, cfg, log, slog.LevelDebug)})
	}
	saved, err := app.NewAudited(db, nil, cliActor, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub segment %s: %v\n", name, err)
		return 1
	}
	if err := run(ctx, &segmentCall{env: env, db: db, saved: saved, args: args}); err != nil {
		reportSegmentError(env.Stderr, name, err)
		return 1
	}
	return 0
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// reportSegmentError prints a compile error as "segment:1:12: …" with the
// expression and a caret under the position, anything else after the
// command's name.
func reportSegmentError(w io.Writer, name string, err error) {
	var se *segment.Error
	if !errors.As(err, &se) {
		fmt.Fprintf(w, "chathub segment %s: %v\n", name, err)
		return
	}
	fmt.Fprintln(w, err)
}

// compile compiles an expression argument with the saved segments.
func (sc *segmentCall) compile(ctx context.Context, src string) (*segment.Segment, error) {
	seg, err := sc.db.CompileSegment(ctx, src)
	var se *segment.Error
	if errors.As(err, &se) && se.Source == segment.DefaultSource {
		return nil, fmt.Errorf("%w\n%s", err, caret(src, se.Line, se.Column))
	}
	return seg, err
}

// caret shows line of src with a ^ under column.
func caret(src string, line, column int) string {
	lines := strings.Split(src, "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	l := lines[line-1]
	pad := strings.Repeat(" ", max(0, min(column-1, utf8.RuneCountInString(l))))
	return "  " + l + "\n  " + pad + "^"
}

func segmentCount(ctx context.Context, sc *segmentCall) error {
	seg, err := sc.compile(ctx, sc.args[0])
	if err != nil {
		return err
	}
	n, err := sc.db.CountSegment(ctx, seg)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(sc.env.Stdout, n)
	return err
}

func segmentExplain(ctx context.Context, sc *segmentCall) error {
	seg, err := sc.compile(ctx, sc.args[0])
	if err != nil {
		return err
	}
	w, err := seg.SQL(segment.Dialect(sc.db.Dialect()))
	if err != nil {
		return err
	}
	out := sc.env.Stdout
	fmt.Fprintf(out, "-- %s, relative times as of %s\nSELECT id FROM clients WHERE %s\n", sc.db.Dialect(), seg.Now().Format(time.RFC3339), w.SQL)
	for i, a := range w.Args {
		if t, ok := a.(time.Time); ok {
			a = t.Format(time.RFC3339Nano)
		}
		fmt.Fprintf(out, "-- arg %d: %#v\n", i+1, a)
	}
	return nil
}

func sampleFlags(fs *flag.FlagSet) func(context.Context, *segmentCall) error {
	n := fs.Int("n", postgres.DefaultSampleSize, fmt.Sprintf("how many clients to show (at most %d)", postgres.MaxSampleSize))
	format := fs.String("format", "table", "output format: table or json")
	return func(ctx context.Context, sc *segmentCall) error {
		write, ok := map[string]func(io.Writer, []crm.Client) error{"table": writeClientsTable, "json": writeClientsJSON}[*format]
		if !ok {
			return fmt.Errorf("unknown format %q (table, json)", *format)
		}
		if *n < 1 || *n > postgres.MaxSampleSize {
			return fmt.Errorf("-n must be from 1 to %d, got %d", postgres.MaxSampleSize, *n)
		}
		seg, err := sc.compile(ctx, sc.args[0])
		if err != nil {
			return err
		}
		clients, err := sc.db.SampleSegment(ctx, seg, *n)
		if err != nil {
			return err
		}
		if len(clients) == 0 && *format == "table" {
			_, err := fmt.Fprintln(sc.env.Stdout, "no clients in this segment")
			return err
		}
		return write(sc.env.Stdout, clients)
	}
}

func saveFlags(fs *flag.FlagSet) func(context.Context, *segmentCall) error {
	desc := fs.String("description", "", "what the segment is for")
	return func(ctx context.Context, sc *segmentCall) error {
		d, err := sc.saved.SaveSegment(ctx, segment.Definition{Name: sc.args[0], Expression: sc.args[1], Description: *desc})
		var se *segment.Error
		if errors.As(err, &se) && se.Source == segment.DefaultSource {
			return fmt.Errorf("%w\n%s", err, caret(sc.args[1], se.Line, se.Column))
		}
		if err != nil {
			return err
		}
		seg, err := sc.db.CompileSegment(ctx, d.Expression)
		if err != nil {
			return err
		}
		n, err := sc.db.CountSegment(ctx, seg)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(sc.env.Stdout, "saved segment %s: %d client(s) match now; use it as segment(%q)\n", d.Name, n, d.Name)
		return err
	}
}

func listFlags(fs *flag.FlagSet) func(context.Context, *segmentCall) error {
	format := fs.String("format", "table", "output format: table or json")
	return func(ctx context.Context, sc *segmentCall) error {
		if *format != "table" && *format != "json" {
			return fmt.Errorf("unknown format %q (table, json)", *format)
		}
		defs, err := sc.db.ListSegments(ctx)
		if err != nil {
			return err
		}
		if *format == "json" {
			return writeSegmentsJSON(sc.env.Stdout, defs)
		}
		return writeSegmentsTable(sc.env.Stdout, defs)
	}
}

func writeSegmentsTable(w io.Writer, defs []segment.Definition) error {
	if len(defs) == 0 {
		_, err := fmt.Fprintln(w, "no saved segments yet: chathub segment save NAME 'EXPR'")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tEXPRESSION\tDESCRIPTION\tUPDATED")
	for _, d := range defs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Name, oneLine(d.Expression), orDash(oneLine(d.Description)), d.UpdatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func writeSegmentsJSON(w io.Writer, defs []segment.Definition) error {
	type row struct {
		Name        string    `json:"name"`
		Expression  string    `json:"expression"`
		Description string    `json:"description"`
		CreatedAt   time.Time `json:"created_at"`
		UpdatedAt   time.Time `json:"updated_at"`
	}
	out := make([]row, 0, len(defs))
	for _, d := range defs {
		out = append(out, row{d.Name, d.Expression, d.Description, d.CreatedAt.UTC(), d.UpdatedAt.UTC()})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // expressions are full of < and >
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// oneLine folds whitespace runs (newlines, tabs) into single spaces for a table cell.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func segmentDelete(ctx context.Context, sc *segmentCall) error {
	if err := sc.saved.DeleteSegment(ctx, sc.args[0]); err != nil {
		if errors.Is(err, postgres.ErrNotFound) {
			return fmt.Errorf("no saved segment %q (see chathub segment list)", sc.args[0])
		}
		return err
	}
	_, err := fmt.Fprintf(sc.env.Stdout, "deleted segment %s\n", sc.args[0])
	return err
}
