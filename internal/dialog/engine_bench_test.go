package dialog

import (
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// BenchmarkEngineStep measures one engine step alone (no I/O): a validated
// text answer saved to a core column, then the next question rendered from a
// template with the client card. Target: ≤ 10 µs and ≤ 40 allocations.
func BenchmarkEngineStep(b *testing.B) {
	g := loadGraph(b, "../../scenarios/portrait.yaml")
	e := NewEngine(EngineConfig{})
	st := State{Scenario: g.ID, Version: g.Version, Step: "name"}
	client := &crm.Client{Platform: messenger.Telegram, PlatformUserID: "42", Subscribed: true, Tags: []string{"vip"}}
	upd := text("Анна")
	t := Turn{Chat: testChat, Update: upd, Client: client, Now: testNow}
	var res Result
	b.ReportAllocs()
	for b.Loop() {
		res.Reset()
		e.Answer(g, &st, &t, &res)
	}
	if res.State.Step != "age" {
		b.Fatalf("step = %q", res.State.Step)
	}
}

// BenchmarkEngineChoiceStep measures a button press routed by a condition.
func BenchmarkEngineChoiceStep(b *testing.B) {
	g := loadGraph(b, "../../scenarios/feedback.yaml")
	e := NewEngine(EngineConfig{})
	st := State{Scenario: g.ID, Version: g.Version, Step: "csat"}
	t := Turn{Chat: testChat, Update: button("2"), Client: &crm.Client{}, Now: testNow}
	var res Result
	b.ReportAllocs()
	for b.Loop() {
		res.Reset()
		e.Answer(g, &st, &t, &res)
	}
	if res.State.Step != "csat_why" {
		b.Fatalf("step = %q", res.State.Step)
	}
}
