package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/chathub/chathub/internal/config"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
)

// transcriptOptions are `chathub transcript`' flags.
type transcriptOptions struct {
	client int64
	before int64
	limit  int
	format string
}

// runTranscript prints a client's conversation record, newest first, a
// page at a time.
func runTranscript(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) int {
	fs := flag.NewFlagSet("transcript", flag.ContinueOnError)
	var o transcriptOptions
	fs.Int64Var(&o.before, "before", 0, "only messages with an ID below this (the next page)")
	fs.IntVar(&o.limit, "limit", 50, fmt.Sprintf("at most this many messages (1..%d)", maxHandoffList))
	fs.StringVar(&o.format, "format", "table", "output format: table or json")
	// The client id may come before or after the flags.
	args := env.Args
	var client string
	if len(args) > 0 && !isFlag(args[0]) {
		client, args = args[0], args[1:]
	}
	if code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if client == "" && fs.NArg() > 0 {
		client = fs.Arg(0) // flags after the id
		if code, ok := parseFlags(env, fs, fs.Args()[1:]); !ok {
			return code
		}
	}
	if code, ok := checkTranscriptArgs(env, fs, client, &o); !ok {
		return code
	}
	r, closeDB, err := openHandoffs(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub transcript: %v\n", err)
		return 1
	}
	defer closeDB()
	return printTranscript(ctx, env, r, o)
}

// isFlag reports whether arg looks like a flag.
func isFlag(arg string) bool { return len(arg) > 1 && arg[0] == '-' }

// checkTranscriptArgs validates the client id and the flags.
func checkTranscriptArgs(env *Env, fs *flag.FlagSet, client string, o *transcriptOptions) (int, bool) {
	id, err := strconv.ParseInt(client, 10, 64)
	switch {
	case client == "":
		fmt.Fprintln(env.Stderr, "chathub transcript: which client? usage: chathub transcript CLIENT_ID [--before ID] [--limit N] [--format table|json]")
		return 2, false
	case err != nil || id < 1:
		fmt.Fprintf(env.Stderr, "chathub transcript: %q is not a client ID (a positive number, see chathub clients)\n", client)
		return 2, false
	case fs.NArg() > 0:
		fmt.Fprintf(env.Stderr, "chathub transcript: unexpected argument %q\n", fs.Arg(0))
		return 2, false
	case o.limit < 1 || o.limit > maxHandoffList:
		fmt.Fprintf(env.Stderr, "chathub transcript: --limit must be from 1 to %d, got %d\n", maxHandoffList, o.limit)
		return 2, false
	case o.before < 0:
		fmt.Fprintf(env.Stderr, "chathub transcript: --before must be a message ID, got %d\n", o.before)
		return 2, false
	case o.format != "table" && o.format != "json":
		fmt.Fprintf(env.Stderr, "chathub transcript: unknown format %q (table, json)\n", o.format)
		return 2, false
	}
	o.client = id
	return 0, true
}

// printTranscript prints one page of the transcript o selects and, when
// the page is full, how to get the next one.
func printTranscript(ctx context.Context, env *Env, r handoffReader, o transcriptOptions) int {
	ms, err := r.Transcript(ctx, o.client, handoff.Page{BeforeID: o.before, Limit: o.limit})
	if err == nil {
		if o.format == "json" {
			err = writeTranscriptJSON(env.Stdout, ms)
		} else {
			err = writeTranscriptTable(env.Stdout, ms)
		}
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "chathub transcript: %v\n", err)
		return 1
	}
	switch {
	case len(ms) == 0 && o.format == "table" && o.before > 0:
		fmt.Fprintf(env.Stderr, "chathub transcript: no messages of client %d before message %d\n", o.client, o.before)
	case len(ms) == 0 && o.format == "table":
		fmt.Fprintf(env.Stderr, "chathub transcript: no messages of client %d\n", o.client)
	case len(ms) == o.limit && o.format == "table":
		fmt.Fprintf(env.Stderr, "older messages: chathub transcript %d --before %d --limit %d\n", o.client, ms[len(ms)-1].ID, o.limit)
	}
	return 0
}

func writeTranscriptTable(w io.Writer, ms []crm.Message) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME (UTC)\tFROM\tSTATUS\tTEXT")
	for i := range ms {
		m := &ms[i]
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", m.ID, m.CreatedAt.UTC().Format("2006-01-02 15:04:05"), author(m),
			orDash(statusCell(m)), cell(messageText(m), 200))
	}
	return tw.Flush()
}

// author names who wrote a message: client, bot, manager NAME, broadcast
// ID or system.
func author(m *crm.Message) string {
	if m.Author != "" && (m.AuthorKind == crm.AuthorManager || m.AuthorKind == crm.AuthorBroadcast) {
		return m.AuthorKind + " " + m.Author
	}
	return m.AuthorKind
}

// statusCell is a manager's message's delivery ("failed: blocked").
func statusCell(m *crm.Message) string {
	if m.Status == crm.MessageFailed && m.Error != "" {
		return m.Status + ": " + m.Error
	}
	return m.Status
}

// messageText is what a message said: its text, the pressed button or
// the media it carried ("[photo] caption").
func messageText(m *crm.Message) string {
	switch {
	case m.Media != "" && m.Text != "":
		return "[" + m.Media + "] " + m.Text
	case m.Text != "":
		return m.Text
	case m.Button != "":
		return "[button] " + m.Button
	case m.Media != "":
		return "[" + m.Media + "]"
	}
	return ""
}

// messageJSON is one message of `chathub transcript --format json`.
type messageJSON struct {
	ID            int64     `json:"id"`
	Direction     string    `json:"direction"`
	AuthorKind    string    `json:"author_kind"`
	Author        string    `json:"author"`
	Text          string    `json:"text"`
	Button        string    `json:"button"`
	Media         string    `json:"media"`
	PlatformMsgID string    `json:"platform_message_id"`
	HandoffID     int64     `json:"handoff_id"`
	Status        string    `json:"status"`
	Error         string    `json:"error"`
	CreatedAt     time.Time `json:"created_at"`
}

func writeTranscriptJSON(w io.Writer, ms []crm.Message) error {
	out := make([]messageJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, messageJSON{ID: m.ID, Direction: m.Direction, AuthorKind: m.AuthorKind, Author: m.Author,
			Text: m.Text, Button: m.Button, Media: m.Media, PlatformMsgID: m.PlatformMsgID, HandoffID: m.HandoffID,
			Status: m.Status, Error: m.Error, CreatedAt: m.CreatedAt.UTC()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
