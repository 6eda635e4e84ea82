package console

import (
	"context"
	"time"

	"github.com/chathub/chathub/internal/console/i18n"
)

// Обзор's «Недавно завершённые рассылки»: a campaign that finished lately
// stays on Обзор with its result, so whoever started it sees how it went
// after it leaves «Рассылки в работе» (the demo's tour ends there).
const (
	// tourFinishedMax is how many finished campaigns are shown.
	tourFinishedMax = 5
	// tourFinishedWithin is how recently they finished.
	tourFinishedWithin = 7 * 24 * time.Hour
)

// tourFinishedCampaign is a finished campaign with its final progress and
// when it ended (FinishedISO for <time>).
type tourFinishedCampaign struct {
	ovCampaign
	FinishedAt, FinishedISO string
}

// tourFinished lists the campaigns finished in the last tourFinishedWithin
// before now with their results. Like the campaigns under way, a failure
// does not take Обзор down: a failing list shows none (logged), a failing
// campaign's statistics show its row without the result.
func (c *Console) tourFinished(ctx context.Context, lang i18n.Lang, loc *time.Location, now time.Time) []tourFinishedCampaign {
	p := c.cfg.Overview
	list, err := p.Stats.FinishedCampaigns(ctx, now.Add(-tourFinishedWithin), tourFinishedMax)
	if err != nil {
		c.cfg.Logger.Error("console: overview finished campaigns", "err", err)
		return nil
	}
	out := make([]tourFinishedCampaign, 0, len(list))
	for _, camp := range list {
		oc, err := c.overviewCampaign(ctx, lang, loc, camp)
		if err != nil {
			c.cfg.Logger.Error("console: overview finished campaign stats", "campaign", camp.ID, "err", err)
			oc = ovCampaign{ID: camp.ID, Name: camp.Name, State: string(camp.State),
				StateLabel: ovLabel(lang, "overview.state.", string(camp.State))}
		}
		fc := tourFinishedCampaign{ovCampaign: oc}
		if camp.FinishedAt != nil {
			// UTC with the zone, as every page shows times.
			fc.FinishedAt = camp.FinishedAt.UTC().Format(i18n.T(lang, "overview.time_layout"))
			fc.FinishedISO = camp.FinishedAt.UTC().Format(time.RFC3339)
		}
		out = append(out, fc)
	}
	return out
}
