package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/segment"
)

// Defaults of Config.
const (
	// DefaultFrequencyCap: one broadcast per client per 7 days.
	DefaultFrequencyCap = 7 * 24 * time.Hour
	// DefaultQuietHours: no broadcasts from 21:00 to 09:00 local time.
	DefaultQuietHours = "21:00-09:00"
	// DefaultFillBatch is how many clients one ledger fill step writes.
	DefaultFillBatch = 5000
	// DefaultChannelTTL is how long a bot registered by a process counts as
	// configured after the process's last stamp.
	DefaultChannelTTL = 10 * time.Minute
	// DefaultDryRunSize is DryRun's n when it is not positive; MaxDryRunSize caps it.
	DefaultDryRunSize = 5
	MaxDryRunSize     = 50
)

// Config wires a Service. Campaigns, Ledger, Admin, Segments and Clients
// are required (internal/store/postgres implements them all).
type Config struct {
	Campaigns CampaignStore
	Ledger    Ledger
	Admin     LedgerAdmin
	Segments  Segments
	Clients   ClientLoader
	// Scenarios, when set, checks that scenario buttons name a scenario.
	Scenarios ScenarioCatalog
	// Registry, when set, records the bots the chathub run processes send
	// through, so that every process (and a dry run) knows which rows some
	// process can send; nil: a process knows only its own channels.
	Registry ChannelRegistry
	// ChannelTTL: a bot counts as configured in the deployment while some
	// process registered it within ChannelTTL; the queued rows of a bot
	// nobody registered that recently are skipped (no_channel). Default
	// DefaultChannelTTL (10m).
	ChannelTTL time.Duration
	// FrequencyCap: at most one broadcast per client within it. Default
	// DefaultFrequencyCap (168h); negative: no cap.
	FrequencyCap time.Duration
	// QuietHours is the daily window without broadcasts ("21:00-09:00", or
	// "off"). Default DefaultQuietHours.
	QuietHours string
	// Location is the timezone of clients without one. Default Europe/Moscow.
	Location *time.Location
	// FillBatch is the ledger fill's page size. Default DefaultFillBatch (5000).
	FillBatch int
	// Logger receives lifecycle events (campaign ids, counts; never texts or
	// personal data). Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (c *Config) withDefaults() (Config, error) {
	out := *c
	if out.FrequencyCap == 0 {
		out.FrequencyCap = DefaultFrequencyCap
	}
	if out.FrequencyCap < 0 {
		out.FrequencyCap = 0
	}
	if out.QuietHours == "" {
		out.QuietHours = DefaultQuietHours
	}
	if out.Location == nil {
		loc, err := time.LoadLocation("Europe/Moscow")
		if err != nil {
			loc = time.FixedZone("MSK", 3*3600)
		}
		out.Location = loc
	}
	if out.FillBatch == 0 {
		out.FillBatch = DefaultFillBatch
	}
	if out.ChannelTTL == 0 {
		out.ChannelTTL = DefaultChannelTTL
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	return out, out.validate()
}

func (c *Config) validate() error {
	var errs []error
	if c.Campaigns == nil || c.Ledger == nil || c.Admin == nil || c.Segments == nil || c.Clients == nil {
		errs = append(errs, errors.New("broadcast config: Campaigns, Ledger, Admin, Segments and Clients are required"))
	}
	if c.FillBatch < 1 || c.FillBatch > 20000 {
		errs = append(errs, fmt.Errorf("broadcast config: fill batch %d: want 1..20000", c.FillBatch))
	}
	if c.ChannelTTL < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("broadcast config: channel TTL %s: want at least 100ms", c.ChannelTTL))
	}
	if _, err := ParseQuietHours(c.QuietHours); err != nil {
		errs = append(errs, fmt.Errorf("broadcast config: %w", err))
	}
	return errors.Join(errs...)
}

// Service is the broadcaster's management API: campaigns, their lifecycle,
// dry runs, the ledger fill and statistics. The API and the CLI use it;
// Workers send. It is safe for concurrent use.
type Service struct {
	cfg    Config
	policy *Policy
	log    *slog.Logger
}

// NewService checks cfg and returns a Service.
func NewService(cfg Config) (*Service, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	q, _ := ParseQuietHours(c.QuietHours)
	return &Service{cfg: c, log: c.Logger, policy: &Policy{FrequencyCap: c.FrequencyCap, Quiet: q, Location: c.Location}}, nil
}

// Policy is the mailing etiquette the Service applies.
func (s *Service) Policy() *Policy { return s.policy }

// StartAtSlack is how far in the past a campaign's StartAt may be (a
// clock a little behind, a time typed as "now"): such a campaign is
// scheduled and starts at once; an earlier StartAt is refused.
const StartAtSlack = time.Minute

// Create validates c (name, segment, template, buttons, image, platforms,
// schedule) and stores it as a draft, or scheduled when StartAt is set.
// Validation errors are *ValidationError (a bad segment expression keeps its
// *segment.Error inside Message's text).
func (s *Service) Create(ctx context.Context, c Campaign) (Campaign, error) {
	if err := s.validate(ctx, &c); err != nil {
		return Campaign{}, err
	}
	now := s.cfg.Now().UTC()
	c.ID, c.State = 0, Draft
	if c.StartAt != nil {
		c.State = Scheduled
	}
	c.CreatedAt, c.UpdatedAt, c.StartedAt, c.FinishedAt = now, now, nil, nil
	c.SegmentAt, c.FillCursor, c.Filled = nil, 0, false
	out, err := s.cfg.Campaigns.CreateCampaign(ctx, c)
	if err != nil {
		return Campaign{}, err // the store names the operation
	}
	s.log.InfoContext(ctx, "campaign created", "campaign", out.ID, "state", string(out.State))
	return out, nil
}

func (s *Service) validate(ctx context.Context, c *Campaign) error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" || len([]rune(c.Name)) > 200 {
		return invalid("name", "want 1..200 characters")
	}
	if strings.TrimSpace(c.Segment) == "" {
		return invalid("segment", "is empty")
	}
	if _, err := s.cfg.Segments.CompileSegment(ctx, c.Segment); err != nil {
		var se *segment.Error
		if errors.As(err, &se) {
			return invalid("segment", "%s", err.Error())
		}
		return fmt.Errorf("compile segment: %w", err)
	}
	if _, err := ParseTemplate(c.Text); err != nil {
		return err
	}
	if err := validateButtons(c.Buttons, s.cfg.Scenarios); err != nil {
		return err
	}
	if c.ImageURL != "" && !httpURL(c.ImageURL) {
		return invalid("image_url", "must be an absolute http(s) link")
	}
	if err := platformsValid(c.Platforms); err != nil {
		return err
	}
	if now := s.cfg.Now(); c.StartAt != nil && c.StartAt.Before(now.Add(-StartAtSlack)) {
		return invalid("start_at", "%s is in the past (now %s); give a future time, or leave it out and start the campaign now",
			c.StartAt.Format(time.RFC3339), now.In(c.StartAt.Location()).Format(time.RFC3339))
	}
	slices.Sort(c.Platforms)
	c.Platforms = slices.Compact(c.Platforms)
	return nil
}

// Get returns campaign id; the error wraps ErrNotFound when there is none.
func (s *Service) Get(ctx context.Context, id int64) (Campaign, error) {
	return s.cfg.Campaigns.GetCampaign(ctx, id)
}

// List returns every campaign, newest first.
func (s *Service) List(ctx context.Context) ([]Campaign, error) {
	return s.cfg.Campaigns.ListCampaigns(ctx)
}

// DryRun renders the message for up to n (default 5, at most 50) random
// clients of the campaign's segment and says which would be skipped and why:
// the etiquette as the ledger fill applies it (with each client's last
// broadcast, for the frequency cap), and no_channel for a client no bot of
// the deployment sends to. A text that fails to render for a client, or
// renders longer than one message, is an error naming the client id.
func (s *Service) DryRun(ctx context.Context, id int64, n int) ([]Preview, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	out, err := s.previews(ctx, &c, n)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, err
		}
		return nil, fmt.Errorf("dry run of campaign %d: %w", id, err)
	}
	return out, nil
}

// previews is DryRun over campaign c, stored or not.
func (s *Service) previews(ctx context.Context, c *Campaign, n int) ([]Preview, error) {
	if n <= 0 {
		n = DefaultDryRunSize
	}
	n = min(n, MaxDryRunSize)
	tmpl, err := ParseTemplate(c.Text)
	if err != nil {
		return nil, err
	}
	seg, err := s.cfg.Segments.CompileSegment(ctx, c.Segment)
	if err != nil {
		return nil, err
	}
	clients, err := s.cfg.Segments.SampleSegment(ctx, seg, n)
	if err != nil {
		return nil, err
	}
	recips, err := s.dryRunRecipients(ctx, clients)
	if err != nil {
		return nil, err
	}
	reach, err := s.reachable(ctx)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	out := make([]Preview, 0, len(clients))
	for i := range clients {
		cl := &clients[i]
		text, err := tmpl.Render(cl)
		if err != nil {
			return nil, &ValidationError{Field: "text", Message: fmt.Sprintf("client %d: %v", cl.ID, err)}
		}
		msg := buildMessage(c, cl.Key(), text)
		r := recips[cl.ID]
		v := s.policy.Check(c, &r, now)
		skipped := v.Reason
		switch {
		case skipped == "" && !reach(ChannelKey{Platform: cl.Platform, Bot: cl.Bot}):
			skipped = ReasonNoChannel
		case skipped == "" && !v.NotBefore.IsZero():
			skipped = ReasonQuietHours + " until " + v.NotBefore.Format("15:04 MST")
		}
		out = append(out, Preview{ClientID: cl.ID, Platform: cl.Platform, Name: displayName(cl), Text: msg.Text, Skipped: skipped})
	}
	return out, nil
}

// dryRunRecipients reads the sampled clients as the ledger fill does (the
// card lacks the last broadcast the frequency cap needs); a client deleted
// since the sample keeps what its card says.
func (s *Service) dryRunRecipients(ctx context.Context, clients []crm.Client) (map[int64]Recipient, error) {
	ids := make([]int64, len(clients))
	for i := range clients {
		ids[i] = clients[i].ID
	}
	recips, err := s.cfg.Admin.RecipientsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range clients {
		if _, ok := recips[clients[i].ID]; !ok {
			recips[clients[i].ID] = *recipientOf(&clients[i])
		}
	}
	return recips, nil
}

// reachable returns whether a channel is registered by a running process.
// With no registry, or no process registered at all (none runs now: the
// rows would wait for one), every channel counts as reachable.
func (s *Service) reachable(ctx context.Context) (func(ChannelKey) bool, error) {
	if s.cfg.Registry == nil {
		return func(ChannelKey) bool { return true }, nil
	}
	live, err := s.cfg.Registry.LiveChannels(ctx, s.cfg.Now().Add(-s.cfg.ChannelTTL))
	if err != nil {
		return nil, err
	}
	if len(live) == 0 {
		return func(ChannelKey) bool { return true }, nil
	}
	return func(k ChannelKey) bool { return slices.Contains(live, k) }, nil
}

func displayName(c *crm.Client) string {
	name := strings.TrimSpace(c.FirstName + " " + c.LastName)
	if name == "" && c.Username != "" {
		name = "@" + c.Username
	}
	return name
}

// recipientOf reduces a client card to what eligibility needs.
func recipientOf(c *crm.Client) *Recipient {
	return &Recipient{
		ClientID: c.ID, Platform: c.Platform, Bot: c.Bot, PlatformUserID: c.PlatformUserID,
		Subscribed: c.Subscribed, Blocked: c.BlockedAt != nil, Timezone: c.Timezone,
	}
}

// Start moves a draft or scheduled campaign to running and fills its
// ledger. If the fill is cut short (ctx ends, the process dies) the
// campaign stays running and Workers finish the fill where it stopped.
func (s *Service) Start(ctx context.Context, id int64) error {
	c, err := s.transition(ctx, id, Running, Draft, Scheduled)
	if err != nil {
		return err
	}
	return s.Fill(ctx, c)
}

// Pause stops a running campaign: workers claim none of its rows until
// Resume (a batch already in a worker's hands finishes).
func (s *Service) Pause(ctx context.Context, id int64) error {
	_, err := s.transition(ctx, id, Paused, Running)
	return err
}

// Resume continues a paused campaign. Rows held for quiet hours are
// re-checked against the quiet hours as configured now (RecheckQuietHours).
func (s *Service) Resume(ctx context.Context, id int64) error {
	c, err := s.transition(ctx, id, Running, Paused)
	if err != nil {
		return err
	}
	if !c.Filled {
		if err := s.Fill(ctx, c); err != nil {
			return err
		}
	}
	_, err = s.RecheckQuietHours(ctx, c)
	return err
}

// Cancel stops a campaign for good; its queued rows become skipped
// (reason cancelled).
func (s *Service) Cancel(ctx context.Context, id int64) error {
	if _, err := s.transition(ctx, id, Cancelled, Draft, Scheduled, Running, Paused); err != nil {
		return err
	}
	if err := s.cfg.Admin.SkipQueued(ctx, id, ReasonCancelled); err != nil {
		return fmt.Errorf("cancel campaign %d: %w", id, err)
	}
	return nil
}

// transition moves campaign id to `to` from one of from.
func (s *Service) transition(ctx context.Context, id int64, to State, from ...State) (Campaign, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return Campaign{}, err
	}
	if !slices.Contains(from, cur.State) || !CanTransition(cur.State, to) {
		return Campaign{}, fmt.Errorf("campaign %d is %s, cannot become %s this way: %w", id, cur.State, to, ErrInvalidTransition)
	}
	c, err := s.cfg.Campaigns.SetCampaignState(ctx, id, from, to, s.cfg.Now().UTC())
	if err != nil {
		return Campaign{}, err
	}
	s.log.InfoContext(ctx, "campaign state", "campaign", id, "from", string(cur.State), "to", string(to))
	return c, nil
}

// Stats summarises campaign id's ledger.
func (s *Service) Stats(ctx context.Context, id int64) (Stats, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return Stats{}, err
	}
	now := s.cfg.Now().UTC()
	st, err := s.cfg.Admin.DeliveryStats(ctx, id, rateWindow(&c, now), now)
	if err != nil {
		return Stats{}, err // the store names the operation and the campaign
	}
	st.StartedAt, st.FinishedAt = c.StartedAt, c.FinishedAt
	if c.StartedAt != nil {
		end := now
		if c.FinishedAt != nil {
			end = *c.FinishedAt
		}
		st.Duration = end.Sub(*c.StartedAt)
		if c.FinishedAt != nil {
			st.Rate = 0
			if secs := st.Duration.Seconds(); secs > 0 {
				st.Rate = float64(st.Sent) / secs
			}
		}
	}
	return st, nil
}

// RateWindow is how far back Stats.Rate looks while a campaign runs.
const RateWindow = time.Minute

// rateWindow is the start of the window the current rate is measured over:
// the last RateWindow, or since the start for a younger campaign (at least
// a second, so the first sends do not read as a burst).
func rateWindow(c *Campaign, now time.Time) time.Time {
	since := now.Add(-RateWindow)
	if c.StartedAt != nil && c.StartedAt.After(since) {
		since = *c.StartedAt
		if latest := now.Add(-time.Second); since.After(latest) {
			since = latest
		}
	}
	return since
}

// Deliveries streams campaign id's ledger rows in client order (for a CSV
// export); it stops at fn's first error and returns it.
func (s *Service) Deliveries(ctx context.Context, id int64, fn func(Delivery) error) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	return s.cfg.Admin.EachDelivery(ctx, id, fn)
}

// platformSet is the platforms a campaign targets (all known when empty).
func platformSet(c *Campaign) []messenger.Platform {
	if len(c.Platforms) == 0 {
		return []messenger.Platform{messenger.Telegram, messenger.VK}
	}
	return c.Platforms
}
