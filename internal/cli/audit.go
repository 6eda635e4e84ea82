package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chathub/chathub/internal/account"
	"github.com/chathub/chathub/internal/config"
)

// runAudit prints the audit log, newest first.
func runAudit(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	limit := fs.Int("limit", 50, fmt.Sprintf("how many entries to show (at most %d)", account.MaxAuditLimit))
	actor := fs.String("actor", "", `only this actor (a user name, "cli" or "api")`)
	action := fs.String("action", "", `only this action, e.g. "login.failed" or "campaign.start"`)
	before := fs.Int64("before", 0, "only entries with an ID below this (the next page)")
	format := fs.String("format", "table", "output format: table or json")
	if code, ok := parseFlags(env, fs, env.Args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(env.Stderr, "chathub audit: unexpected argument %q\n", fs.Arg(0))
		return 2
	case *limit < 1 || *limit > account.MaxAuditLimit:
		fmt.Fprintf(env.Stderr, "chathub audit: --limit must be from 1 to %d, got %d\n", account.MaxAuditLimit, *limit)
		return 2
	case *format != "table" && *format != "json":
		fmt.Fprintf(env.Stderr, "chathub audit: unknown format %q (table, json)\n", *format)
		return 2
	}
	svc, closeDB, err := openAccounts(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub audit: %v\n", err)
		return 1
	}
	defer closeDB()
	entries, err := svc.Audit(ctx, account.AuditFilter{Actor: *actor, Action: *action, Before: *before, Limit: *limit})
	if err == nil {
		if *format == "json" {
			err = writeAuditJSON(env.Stdout, entries)
		} else {
			err = writeAuditTable(env.Stdout, entries)
		}
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub audit: %v\n", err)
		return 1
	}
	return 0
}

func writeAuditTable(w io.Writer, entries []account.AuditEntry) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "no audit entries")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAT\tACTOR\tACTION\tOBJECT\tDETAILS")
	for _, e := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.At.UTC().Format(time.RFC3339), oneLine(e.Actor), e.Action,
			orDash(oneLine(e.Object)), orDash(oneLine(strings.ReplaceAll(e.Details, "\t", " "))))
	}
	return tw.Flush()
}

func writeAuditJSON(w io.Writer, entries []account.AuditEntry) error {
	type row struct {
		ID      int64     `json:"id"`
		At      time.Time `json:"at"`
		Actor   string    `json:"actor"`
		Action  string    `json:"action"`
		Object  string    `json:"object,omitempty"`
		Details string    `json:"details,omitempty"`
	}
	rows := make([]row, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, row{e.ID, e.At.UTC(), e.Actor, e.Action, e.Object, e.Details})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}
