package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
)

// progressBarWidth is the number of cells of the --follow progress bar.
const progressBarWidth = 24

func parseStatus(fs *flag.FlagSet, args []string) (broadcastRun, error) {
	follow := fs.Bool("follow", false, "show live progress until the campaign is done or cancelled")
	interval := fs.Duration("interval", time.Second, "how often --follow refreshes")
	id, err := parseID(fs, args)
	if err != nil {
		return nil, err
	}
	if *interval < 100*time.Millisecond {
		return nil, usagef("--interval must be at least 100ms, got %s", *interval)
	}
	return func(ctx context.Context, bc *broadcastCall) error {
		if *follow {
			return followStatus(ctx, bc, id, *interval)
		}
		c, s, err := readStatus(ctx, bc, id)
		if err != nil {
			return err
		}
		_, err = io.WriteString(bc.env.Stdout, statusReport(&c, &s))
		return err
	}, nil
}

func readStatus(ctx context.Context, bc *broadcastCall, id int64) (broadcast.Campaign, broadcast.Stats, error) {
	c, err := bc.svc.Get(ctx, id)
	if err != nil {
		return c, broadcast.Stats{}, err
	}
	s, err := bc.svc.Stats(ctx, id)
	return c, s, err
}

// followStatus redraws one progress line on a terminal (plain, time-stamped
// lines when stdout is not one, each when the line changes) until the
// campaign is done or cancelled, then prints the full report. An interrupt
// stops watching, not the campaign.
func followStatus(ctx context.Context, bc *broadcastCall, id int64, interval time.Duration) error {
	out, last := bc.env.Stdout, ""
	for {
		c, s, err := readStatus(ctx, bc, id)
		if err != nil {
			return endLine(bc, err)
		}
		line := progressLine(c.State, &s, progressBarWidth)
		switch {
		case bc.tty:
			fmt.Fprintf(out, "\r%s\x1b[K", line)
		case line != last:
			fmt.Fprintf(out, "%s %s\n", bc.now().UTC().Format(time.TimeOnly), line)
		}
		last = line
		if c.State.Final() {
			_ = endLine(bc, nil)
			_, err := io.WriteString(out, statusReport(&c, &s))
			return err
		}
		if err := bc.sleep(ctx, interval); err != nil {
			if errors.Is(err, context.Canceled) {
				return endLine(bc, nil)
			}
			return endLine(bc, err)
		}
	}
}

// endLine ends the redrawn line on a terminal and passes err on.
func endLine(bc *broadcastCall, err error) error {
	if bc.tty {
		fmt.Fprintln(bc.env.Stdout)
	}
	return err
}

// finished counts the deliveries that reached a final status.
func finished(s *broadcast.Stats) int { return s.Sent + s.Failed + s.Blocked + s.Skipped }

// progressLine renders one line of progress, e.g.
//
//	[##########--------------]  45% sent 400/950 · failed 30 · skipped 50 · 10.0/s · ETA 50s · running
//
// Skipped rows are nobody to send to: the percentage and "sent x/y" count
// the rows to send (targeted less skipped), and how many of them were sent,
// failed or blocked.
func progressLine(state broadcast.State, s *broadcast.Stats, width int) string {
	toSend := s.Targeted - s.Skipped
	frac := 0.0
	switch {
	case toSend > 0:
		frac = min(1, float64(s.Sent+s.Failed+s.Blocked)/float64(toSend))
	case state.Final() || s.Targeted > 0:
		frac = 1 // nothing to send: every row was skipped
	}
	cells := int(math.Floor(frac * float64(width)))
	var b strings.Builder
	fmt.Fprintf(&b, "[%s%s] %3d%% sent %d/%d", strings.Repeat("#", cells), strings.Repeat("-", width-cells),
		int(math.Floor(frac*100)), s.Sent, max(toSend, 0))
	fmt.Fprintf(&b, " · failed %d", s.Failed)
	if s.Blocked > 0 {
		fmt.Fprintf(&b, " · blocked %d", s.Blocked)
	}
	fmt.Fprintf(&b, " · skipped %d · %.1f/s · %s · %s", s.Skipped, s.Rate, eta(state, s), state)
	return b.String()
}

// eta is how long the rest takes at the current rate.
func eta(state broadcast.State, s *broadcast.Stats) string {
	remaining := s.Targeted - finished(s)
	switch {
	case state.Final():
		return "took " + shortDuration(s.Duration)
	case remaining <= 0 && s.Targeted > 0:
		return "ETA 0s"
	case s.Rate <= 0 || remaining <= 0:
		return "ETA —"
	}
	return "ETA " + shortDuration(time.Duration(float64(remaining)/s.Rate*float64(time.Second)))
}

// shortDuration prints d rounded to seconds: 45s, 5m10s, 2h03m.
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

// statusReport is the full statistics of a campaign.
func statusReport(c *broadcast.Campaign, s *broadcast.Stats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "campaign %d %q: %s\n", c.ID, c.Name, c.State)
	row := func(label string, n int, detail string) {
		if detail != "" {
			detail = "  (" + detail + ")"
		}
		fmt.Fprintf(&b, "  %-9s %7d%s\n", label, n, detail)
	}
	row("targeted", s.Targeted, "")
	row("sent", s.Sent, "")
	row("failed", s.Failed, sortedCounts(s.FailedByReason))
	row("blocked", s.Blocked, "")
	row("skipped", s.Skipped, sortedCounts(s.SkippedByReason))
	row("queued", s.Queued, sortedCounts(s.QueuedByReason))
	switch {
	case s.StartedAt != nil && s.FinishedAt != nil:
		fmt.Fprintf(&b, "  started   %s, finished %s, took %s, %.1f/s on average\n", s.StartedAt.UTC().Format(time.RFC3339),
			s.FinishedAt.UTC().Format(time.RFC3339), shortDuration(s.Duration), s.Rate)
	case s.StartedAt != nil:
		fmt.Fprintf(&b, "  started   %s, running %s, %.1f/s, %s\n", s.StartedAt.UTC().Format(time.RFC3339),
			shortDuration(s.Duration), s.Rate, eta(c.State, s))
	case c.StartAt != nil:
		fmt.Fprintf(&b, "  scheduled %s\n", c.StartAt.UTC().Format(time.RFC3339))
	}
	return b.String()
}
