package console

import (
	"testing"
	"time"

	"github.com/chathub/chathub/internal/account"

	"github.com/chathub/chathub/internal/broadcast"
	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/handoff"
	"github.com/chathub/chathub/internal/localchat"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/segment"
)

// everyPageConfig is a console with every area configured with the fakes
// of the areas' own handler tests, for the browser tests that walk the
// whole console (newSite).
func everyPageConfig(t *testing.T, audit AuditLog) Config {
	t.Helper()
	clients := newFakeClientPages(30)
	segments := newFakeSegments()
	overview := newFakeOverview()
	compose := &fakeComposer{count: 1234, saved: []segment.Definition{{Name: "moscow", Description: "москвичи"}}}
	policy := &broadcast.Policy{FrequencyCap: 7 * 24 * time.Hour, Quiet: broadcast.QuietHours{Start: 21 * 60, End: 9 * 60}, Location: composeMoscow}
	return Config{
		Audit:     audit,
		Overview:  OverviewPages{Stats: overview, Campaigns: overview, Location: composeMoscow},
		Clients:   ClientPages{Clients: clients, Segments: clients, Saver: clients, Editor: clients, Users: clients},
		Segments:  SegmentPages{Book: segments, Queries: segments},
		Campaigns: campaignPages(sampleCampaigns()),
		Compose: ComposePages{Campaigns: compose, Drafts: compose, Planner: compose, Segments: compose, Scenarios: compose,
			Policy: policy, Location: composeMoscow,
			Now: func() time.Time { return time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) }},
		Scenarios: everyPageScenarios(t),
		Users:     siteUsers(),
		Handoffs:  everyPageHandoffs(),
		Profile: ProfilePages{Platforms: []string{account.PlatformTelegram}, Links: newFakeLinks(account.Link{
			User: "manager", Platform: account.PlatformTelegram, PlatformUserID: "4242", DisplayName: "Иван Сидоров (@ivan)",
			LinkedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)})},
	}
}

// everyPageHandoffs is Диалоги's sample with a conversation for client 3
// (the card the every-page walk opens).
func everyPageHandoffs() *fakeHandoffs {
	f := sampleHandoffs()
	f.add(handoff.Request{ID: 5, ClientID: 3, ClientName: "Клиент3", Status: handoff.StatusOpen}, time.Now().Add(-time.Minute),
		crm.Message{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Text: "/manager"},
		crm.Message{Direction: crm.DirectionOut, AuthorKind: crm.AuthorBot, Text: "Менеджер ответит здесь в течение 10 минут."},
		crm.Message{Direction: crm.DirectionIn, AuthorKind: crm.AuthorClient, Text: "<script>alert(3)</script>"})
	return f
}

// everyPageScenarios is Сценарии over the shipped scenarios with a
// playground showing a short conversation.
func everyPageScenarios(t *testing.T) ScenarioPages {
	t.Helper()
	play := &fakePlayground{screen: localchat.Screen{Scenario: "portrait", LiveMessage: "1",
		Live: []messenger.Button{{Text: "Да", Value: "yes"}},
		Messages: []localchat.Message{
			{ID: "1", From: localchat.FromBot, Text: "Здравствуйте! Как вас зовут?"},
			{ID: "2", From: localchat.FromClient, Text: "Анна"},
		}}}
	return ScenarioPages{
		Catalog: fakeCatalog{bots: []ScenarioBot{{
			Scenarios: shippedScenarios(t), Problems: []scenario.Problem{},
			Links: []DeepLinkBase{{Platform: messenger.Telegram, Prefix: "https://t.me/shop_bot?start="}},
		}}},
		Playground: play,
		Tests:      fakeTests{"": sampleTestRun()},
		Funnels:    newFakeFunnels(t, &fakeFunnelStore{}),
	}
}
