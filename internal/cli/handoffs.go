package cli

import (
	"context"
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
	"unicode/utf8"

	"github.com/chathub/chathub/internal/app"
	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
)

// handoffReader is what `chathub handoffs` and `chathub transcript` read
// (*handoff.Service implements it).
type handoffReader interface {
	Inbox(ctx context.Context, manager string, f handoff.Filter) ([]handoff.Request, error)
	Transcript(ctx context.Context, clientID int64, p handoff.Page) ([]crm.Message, error)
}

// maxHandoffList is the most --limit allows (the Service's page cap).
const maxHandoffList = 200

// questionColumn is how many characters of the question the table shows.
const questionColumn = 60

// openHandoffs opens the CRM database as a hand-off Service.
func openHandoffs(ctx context.Context, cfg config.Config, log *slog.Logger) (handoffReader, func(), error) {
	db, err := app.OpenCRM(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	st, ok := any(db).(handoff.Store)
	if !ok {
		db.Close()
		return nil, nil, errors.New("this build's CRM store does not keep hand-off requests")
	}
	svc, err := handoff.NewService(handoff.Config{Store: st, SLA: cfg.Handoff.SLA, Idle: cfg.Handoff.Idle, Logger: log})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return svc, func() { db.Close() }, nil
}

// handoffsOptions are `chathub handoffs`' flags.
type handoffsOptions struct {
	open   bool
	before int64
	limit  int
	format string
}

// runHandoffs lists hand-off requests: the live ones (longest waiting
// first), then, without --open, the newest closed ones.
func runHandoffs(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	fs := flag.NewFlagSet("handoffs", flag.ContinueOnError)
	var o handoffsOptions
	fs.BoolVar(&o.open, "open", false, "only live requests (waiting for a manager or taken)")
	fs.Int64Var(&o.before, "before", 0, "closed requests with an ID below this (the next page of closed ones)")
	fs.IntVar(&o.limit, "limit", 50, fmt.Sprintf("at most this many requests (1..%d)", maxHandoffList))
	fs.StringVar(&o.format, "format", "table", "output format: table or json")
	if code, ok := parseFlags(env, fs, env.Args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(env.Stderr, "chathub handoffs: unexpected argument %q\n", fs.Arg(0))
		return 2
	case o.limit < 1 || o.limit > maxHandoffList:
		fmt.Fprintf(env.Stderr, "chathub handoffs: --limit must be from 1 to %d, got %d\n", maxHandoffList, o.limit)
		return 2
	case o.before < 0:
		fmt.Fprintf(env.Stderr, "chathub handoffs: --before must be a request ID, got %d\n", o.before)
		return 2
	case o.format != "table" && o.format != "json":
		fmt.Fprintf(env.Stderr, "chathub handoffs: unknown format %q (table, json)\n", o.format)
		return 2
	}
	r, closeDB, err := openHandoffs(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub handoffs: %v\n", err)
		return 1
	}
	defer closeDB()
	return listHandoffs(ctx, env, r, o, time.Now())
}

// listHandoffs prints the requests o selects as of now.
func listHandoffs(ctx context.Context, env *Env, r handoffReader, o handoffsOptions, now time.Time) int {
	var rs []handoff.Request
	var err error
	if o.before == 0 { // the live requests lead the first page only
		rs, err = r.Inbox(ctx, "", handoff.Filter{Tab: handoff.TabAll, Limit: o.limit})
	}
	if err == nil && !o.open && len(rs) < o.limit {
		var closed []handoff.Request
		closed, err = r.Inbox(ctx, "", handoff.Filter{Tab: handoff.TabClosed, BeforeID: o.before, Limit: o.limit - len(rs)})
		rs = append(rs, closed...)
	}
	if err == nil {
		if o.format == "json" {
			err = writeHandoffsJSON(env.Stdout, rs, now)
		} else {
			err = writeHandoffsTable(env.Stdout, rs, now)
		}
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub handoffs: %v\n", err)
		return 1
	}
	if len(rs) == 0 && o.format == "table" {
		fmt.Fprintln(env.Stderr, "chathub handoffs: no hand-off requests")
	}
	return 0
}

func writeHandoffsTable(w io.Writer, rs []handoff.Request, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCLIENT\tSTATUS\tMANAGER\tWAITING\tQUESTION")
	for i := range rs {
		r := &rs[i]
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, cell(clientLabel(r), 30), r.Status, orDash(r.Manager),
			waitingCell(r, now), cell(r.Question, questionColumn))
	}
	return tw.Flush()
}

// clientLabel is the client's id and name.
func clientLabel(r *handoff.Request) string {
	if r.ClientName == "" {
		return strconv.FormatInt(r.ClientID, 10)
	}
	return fmt.Sprintf("%d %s", r.ClientID, r.ClientName)
}

// waitingCell is how long the client has waited ("-" when answered or
// closed), in minutes or hours.
func waitingCell(r *handoff.Request, now time.Time) string {
	d := r.Waiting(now)
	switch {
	case d <= 0:
		return "-"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// cell flattens s to one line of at most n characters ("…" when cut).
func cell(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return orDash(s)
	}
	return string([]rune(s)[:n-1]) + "…"
}

// handoffJSON is one request of `chathub handoffs --format json`.
type handoffJSON struct {
	ID             int64      `json:"id"`
	ClientID       int64      `json:"client_id"`
	ClientName     string     `json:"client_name"`
	Platform       string     `json:"platform"`
	Status         string     `json:"status"`
	Manager        string     `json:"manager"`
	Question       string     `json:"question"`
	WaitingSeconds int64      `json:"waiting_seconds"`
	CreatedAt      time.Time  `json:"created_at"`
	TakenAt        *time.Time `json:"taken_at"`
	FirstReplyAt   *time.Time `json:"first_reply_at"`
	ClosedAt       *time.Time `json:"closed_at"`
	CloseReason    string     `json:"close_reason"`
	ReturnError    string     `json:"return_error,omitempty"`
}

func writeHandoffsJSON(w io.Writer, rs []handoff.Request, now time.Time) error {
	out := make([]handoffJSON, 0, len(rs))
	for i := range rs {
		r := &rs[i]
		out = append(out, handoffJSON{
			ID: r.ID, ClientID: r.ClientID, ClientName: r.ClientName, Platform: string(r.Chat.Platform),
			Status: string(r.Status), Manager: r.Manager, Question: r.Question,
			WaitingSeconds: int64(r.Waiting(now).Seconds()), CreatedAt: r.CreatedAt.UTC(),
			TakenAt: utcPtr(r.TakenAt), FirstReplyAt: utcPtr(r.FirstReplyAt), ClosedAt: utcPtr(r.ClosedAt),
			CloseReason: r.CloseReason, ReturnError: r.ReturnError,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
