package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chathub/chathub/internal/admin"
	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/messenger"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// createFlags are the flags of `broadcast create`.
type createFlags struct {
	name, segment, saved, text, image, at string
	buttons, scenarioButtons, platforms   listFlag
	ignoreCap, ignoreQuiet                bool
}

func (f *createFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.name, "name", "", "campaign name (for managers)")
	fs.StringVar(&f.segment, "segment", "", "segment expression of the recipients")
	fs.StringVar(&f.saved, "saved", "", "name of a saved segment of the recipients (instead of --segment)")
	fs.StringVar(&f.text, "text", "", "message text: a template over the client card")
	fs.Var(&f.buttons, "button", `link button "Текст|https://url" (repeatable)`)
	fs.Var(&f.scenarioButtons, "button-scenario", `button starting a scenario "Текст|scenario_id" (repeatable)`)
	fs.StringVar(&f.image, "image", "", "http(s) link to a picture shown with the message")
	fs.Var(&f.platforms, "platform", "only this platform: telegram or vk (repeatable; default all)")
	fs.StringVar(&f.at, "at", "", "schedule the start at this RFC 3339 time, e.g. 2026-12-24T10:00:00+03:00")
	fs.BoolVar(&f.ignoreCap, "ignore-cap", false, "send even to clients who had a broadcast within the frequency cap")
	fs.BoolVar(&f.ignoreQuiet, "ignore-quiet-hours", false, "send during quiet hours too")
}

func parseCreate(fs *flag.FlagSet, args []string) (broadcastRun, error) {
	var f createFlags
	f.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 0 {
		return nil, usagef("unexpected argument %q: quote the text and the segment", pos[0])
	}
	c, err := f.campaign()
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, bc *broadcastCall) error {
		created, err := bc.svc.Create(ctx, c)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(bc.env.Stdout, "created campaign %d %q (%s)\n  preview: chathub broadcast dry-run %d\n%s",
			created.ID, created.Name, created.State, created.ID, startHint(&created, bc.now()))
		return err
	}, nil
}

// startHint says how the created campaign c starts: by command, at its
// time, or now when that time has passed (a start time up to
// broadcast.StartAtSlack ago is accepted; an earlier one is refused).
func startHint(c *broadcast.Campaign, now time.Time) string {
	switch {
	case c.StartAt == nil:
		return fmt.Sprintf("  send:    chathub broadcast start %d\n", c.ID)
	case !c.StartAt.After(now):
		return fmt.Sprintf("  starts:  now (%s has passed); chathub run starts it\n", c.StartAt.Format(time.RFC3339))
	}
	return fmt.Sprintf("  starts:  %s, by itself while chathub run runs (in %s)\n", c.StartAt.Format(time.RFC3339),
		shortDuration(c.StartAt.Sub(now)))
}

// campaign checks the flags and builds the campaign to create.
func (f *createFlags) campaign() (broadcast.Campaign, error) {
	if strings.TrimSpace(f.name) == "" || strings.TrimSpace(f.text) == "" {
		return broadcast.Campaign{}, usagef("--name and --text are required")
	}
	expr, err := admin.SegmentExpr(f.segment, f.saved)
	if err != nil {
		return broadcast.Campaign{}, usagef("give the recipients with --segment 'EXPR' or --saved NAME (one of them): %v", err)
	}
	c := broadcast.Campaign{Name: f.name, Segment: expr, Text: f.text, ImageURL: f.image,
		IgnoreFrequencyCap: f.ignoreCap, IgnoreQuietHours: f.ignoreQuiet}
	for _, b := range f.buttons {
		text, url, err := splitButton("--button", b, "https://url")
		if err != nil {
			return broadcast.Campaign{}, err
		}
		c.Buttons = append(c.Buttons, broadcast.Button{Text: text, URL: url})
	}
	for _, b := range f.scenarioButtons {
		text, id, err := splitButton("--button-scenario", b, "scenario_id")
		if err != nil {
			return broadcast.Campaign{}, err
		}
		c.Buttons = append(c.Buttons, broadcast.Button{Text: text, Scenario: id})
	}
	if c.Platforms, err = parsePlatforms(f.platforms); err != nil {
		return broadcast.Campaign{}, err
	}
	if f.at != "" {
		at, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return broadcast.Campaign{}, usagef("--at %q: want an RFC 3339 time such as 2026-12-24T10:00:00+03:00", f.at)
		}
		c.StartAt = &at
	}
	return c, nil
}

// splitButton splits "Текст|target" at its last "|".
func splitButton(flagName, v, target string) (string, string, error) {
	i := strings.LastIndex(v, "|")
	if i < 0 {
		return "", "", usagef("%s %q: want \"Текст|%s\"", flagName, v, target)
	}
	text, rest := strings.TrimSpace(v[:i]), strings.TrimSpace(v[i+1:])
	if text == "" || rest == "" {
		return "", "", usagef("%s %q: want \"Текст|%s\" with both parts", flagName, v, target)
	}
	return text, rest, nil
}

// parsePlatforms reads --platform values (each may list several: "telegram,vk").
func parsePlatforms(vals []string) ([]messenger.Platform, error) {
	var out []messenger.Platform
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			pl := messenger.Platform(strings.TrimSpace(p))
			if pl != messenger.Telegram && pl != messenger.VK {
				return nil, usagef("--platform %q: want telegram or vk", p)
			}
			out = append(out, pl)
		}
	}
	return out, nil
}

func parseList(fs *flag.FlagSet, args []string) (broadcastRun, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 0 {
		return nil, usagef("list takes no arguments")
	}
	return func(ctx context.Context, bc *broadcastCall) error {
		cs, err := bc.svc.List(ctx)
		if err != nil {
			return err
		}
		return writeCampaigns(bc.env.Stdout, cs)
	}, nil
}

func writeCampaigns(w io.Writer, cs []broadcast.Campaign) error {
	if len(cs) == 0 {
		_, err := fmt.Fprintln(w, "no campaigns yet: chathub broadcast create --name N --segment 'EXPR' --text T")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tPLATFORMS\tSTART_AT\tCREATED\tSEGMENT")
	for _, c := range cs {
		platforms := "all"
		if len(c.Platforms) > 0 {
			ps := make([]string, len(c.Platforms))
			for i, p := range c.Platforms {
				ps[i] = string(p)
			}
			platforms = strings.Join(ps, ",")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, oneLine(c.Name), c.State, platforms,
			orDash(timeCell(c.StartAt)), c.CreatedAt.UTC().Format(time.RFC3339), oneLine(c.Segment))
	}
	return tw.Flush()
}

func parseDryRun(fs *flag.FlagSet, args []string) (broadcastRun, error) {
	n := fs.Int("n", broadcast.DefaultDryRunSize, fmt.Sprintf("how many random recipients to render (1..%d)", broadcast.MaxDryRunSize))
	id, err := parseID(fs, args)
	if err != nil {
		return nil, err
	}
	if *n < 1 || *n > broadcast.MaxDryRunSize {
		return nil, usagef("-n must be from 1 to %d, got %d", broadcast.MaxDryRunSize, *n)
	}
	return func(ctx context.Context, bc *broadcastCall) error {
		ps, err := bc.svc.DryRun(ctx, id, *n)
		if err != nil {
			return err
		}
		return writePreviews(bc.env.Stdout, id, ps)
	}, nil
}

func writePreviews(w io.Writer, id int64, ps []broadcast.Preview) error {
	if len(ps) == 0 {
		_, err := fmt.Fprintf(w, "campaign %d: its segment selects no clients now\n", id)
		return err
	}
	for _, p := range ps {
		verdict := "would be sent"
		if p.Skipped != "" {
			verdict = "would be skipped: " + p.Skipped
		}
		fmt.Fprintf(w, "client %d (%s, %s): %s\n", p.ClientID, p.Platform, orDash(p.Name), verdict)
		for _, line := range strings.Split(p.Text, "\n") {
			fmt.Fprintf(w, "  | %s\n", line)
		}
	}
	return nil
}
