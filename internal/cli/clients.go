package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
)

// runClients lists CRM records with their fields, tags and attributes,
// newest first, filtered by platform, bot, id, segment and search.
func runClients(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	fs := flag.NewFlagSet("clients", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	format := fs.String("format", "table", "output format: table, json or csv")
	platform := fs.String("platform", "", "only clients of this platform (telegram, vk, terminal)")
	bot := fs.String("bot", "", "only clients of this bot (a name from the config file)")
	id := fs.Int64("id", 0, "only the client with this id")
	segmentExpr := fs.String("segment", "", `only clients this segment expression selects, e.g. 'city == "Москва" and subscribed' (docs/SEGMENTS.md)`)
	search := fs.String("search", "", `find by phone ("+7 912 345-67-89"), @username, or the beginnings of first/last name or username ("анна пет")`)
	limit := fs.Int("limit", 100, "at most this many clients, newest first")
	if code, ok := parseFlags(env, fs, env.Args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "chathub clients: unexpected argument %q; quote a --segment expression or a --search with spaces\n", fs.Arg(0))
		return 2
	}
	if *platform != "" && !messenger.Platform(*platform).Valid() {
		fmt.Fprintf(env.Stderr, "chathub clients: unknown platform %q (telegram, vk, terminal)\n", *platform)
		return 2
	}
	if *id < 0 {
		fmt.Fprintf(env.Stderr, "chathub clients: --id must be a positive client id, got %d\n", *id)
		return 2
	}
	write, ok := clientWriters[*format]
	if !ok {
		fmt.Fprintf(env.Stderr, "chathub clients: unknown format %q (table, json, csv)\n", *format)
		return 2
	}
	db, err := app.OpenCRM(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub clients: %v\n", err)
		return 1
	}
	defer db.Close()
	opt := postgres.ListOptions{Platform: messenger.Platform(*platform), Bot: *bot, ID: *id, Search: *search, Limit: *limit}
	if *segmentExpr != "" {
		sc := &segmentCall{env: env, db: db}
		if opt.Segment, err = sc.compile(ctx, *segmentExpr); err != nil {
			reportClientsSegmentError(env.Stderr, err)
			return 1
		}
	}
	clients, err := db.ListClients(ctx, opt)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub clients: %v\n", err)
		return 1
	}
	if len(clients) == 0 && *format == "table" {
		return noClients(ctx, env, db)
	}
	if err := write(env.Stdout, clients); err != nil {
		fmt.Fprintf(env.Stderr, "chathub clients: %v\n", err)
		return 1
	}
	return 0
}

// reportClientsSegmentError prints a --segment error: a position error as
// is (it names the expression and shows a caret), anything else after the
// command's name.
func reportClientsSegmentError(w io.Writer, err error) {
	var se *segment.Error
	if errors.As(err, &se) {
		fmt.Fprintln(w, err)
		return
	}
	fmt.Fprintf(w, "chathub clients --segment: %v\n", err)
}

var clientWriters = map[string]func(io.Writer, []crm.Client) error{
	"table": writeClientsTable,
	"json":  writeClientsJSON,
	"csv":   writeClientsCSV,
}

// clientColumns are the table, CSV and JSON columns, in order: every field
// of crm.Client. Columns added after "bot" come after it, so files read by
// position keep lining up.
var clientColumns = []string{
	"id", "platform", "user_id", "first_name", "last_name", "username", "phone", "email",
	"gender", "birth_date", "age", "city", "region", "family_status", "children_count",
	"income_level", "occupation", "source", "lifecycle_stage", "temperature", "subscribed",
	"consent_at", "blocked_at", "handoff_requested_at", "tags", "attributes", "last_seen_at",
	"bot", // before bots existed the columns ended here
	"language", "timezone", "assigned_manager", "unsubscribed_at", "created_at", "updated_at", "confirmed",
}

// botColumn is the index of "bot" in clientColumns.
const botColumn = 27

func clientRow(c *crm.Client) []string {
	attrs, _ := json.Marshal(c.Attributes)
	if len(c.Attributes) == 0 {
		attrs = []byte("{}")
	}
	confirmed := []byte("{}")
	if len(c.Confirmed) > 0 {
		confirmed, _ = json.Marshal(utcTimes(c.Confirmed))
	}
	return []string{
		strconv.FormatInt(c.ID, 10), string(c.Platform), c.PlatformUserID, c.FirstName, c.LastName,
		c.Username, c.Phone, c.Email, c.Gender, dateCell(c.BirthDate), intCell(c.Age), c.City, c.Region,
		c.FamilyStatus, intCell(c.ChildrenCount), c.IncomeLevel, c.Occupation, c.Source,
		c.LifecycleStage, c.Temperature, strconv.FormatBool(c.Subscribed), timeCell(c.ConsentAt),
		timeCell(c.BlockedAt), timeCell(c.HandoffRequestedAt), strings.Join(c.Tags, ","),
		string(attrs), c.LastSeenAt.UTC().Format(time.RFC3339), c.Bot,
		c.Language, c.Timezone, c.AssignedManager, timeCell(c.UnsubscribedAt),
		timeCell(&c.CreatedAt), timeCell(&c.UpdatedAt), string(confirmed),
	}
}

// utcTimes returns m with its times in UTC.
func utcTimes(m map[string]time.Time) map[string]time.Time {
	out := make(map[string]time.Time, len(m))
	for k, v := range m {
		out[k] = v.UTC()
	}
	return out
}

// noClients explains an empty table: an empty database gets the hint to
// make a client with `chathub chat`, filters that match nobody say so.
func noClients(ctx context.Context, env *Env, db *postgres.Store) int {
	some, err := db.ListClients(ctx, postgres.ListOptions{Limit: 1})
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub clients: %v\n", err)
		return 1
	}
	if len(some) == 0 {
		fmt.Fprintln(env.Stdout, "no clients yet: run `chathub chat` and answer a few questions")
	} else {
		fmt.Fprintln(env.Stdout, "no client matches the filter")
	}
	return 0
}

func writeClientsTable(w io.Writer, clients []crm.Client) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cols := []int{0, 1, 2, 3, 6, 7, 10, 11, 13, 20, 24, 25}
	if anyBot(clients) { // the BOT column only once several bots exist
		cols = []int{0, 1, botColumn, 2, 3, 6, 7, 10, 11, 13, 20, 24, 25}
	}
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = strings.ToUpper(clientColumns[c])
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for i := range clients {
		row := clientRow(&clients[i])
		cells := make([]string, len(cols))
		for j, c := range cols {
			cells[j] = orDash(row[c])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func writeClientsCSV(w io.Writer, clients []crm.Client) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(clientColumns); err != nil {
		return err
	}
	for i := range clients {
		if err := cw.Write(clientRow(&clients[i])); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeClientsJSON(w io.Writer, clients []crm.Client) error {
	out := make([]map[string]any, 0, len(clients))
	for i := range clients {
		c := &clients[i]
		row := clientRow(c)
		m := make(map[string]any, len(clientColumns))
		for j, col := range clientColumns {
			if row[j] != "" {
				m[col] = row[j]
			}
		}
		m["id"], m["subscribed"], m["tags"], m["attributes"] = c.ID, c.Subscribed, nonNil(c.Tags), c.Attributes
		if c.Age != nil {
			m["age"] = *c.Age
		}
		if c.ChildrenCount != nil {
			m["children_count"] = *c.ChildrenCount
		}
		if len(c.Confirmed) > 0 {
			m["confirmed"] = utcTimes(c.Confirmed)
		} else {
			delete(m, "confirmed")
		}
		out = append(out, m)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orDash(s string) string {
	if s == "" || s == "{}" {
		return "-"
	}
	return s
}

func dateCell(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("2006-01-02")
}

func timeCell(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func intCell(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// anyBot reports whether a client belongs to a named bot (a config file's).
func anyBot(clients []crm.Client) bool {
	for i := range clients {
		if clients[i].Bot != "" {
			return true
		}
	}
	return false
}
