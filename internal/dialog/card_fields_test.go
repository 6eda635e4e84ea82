package dialog

import (
	"maps"
	"slices"
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/scenario"
)

// TestClientCardMatchesLoader checks that the card texts see holds exactly
// the names the scenario loader lets texts use (scenario.CardFields), so
// that a name validate accepts is one the engine passes.
func TestClientCardMatchesLoader(t *testing.T) {
	t.Parallel()
	got := slices.Sorted(maps.Keys(ClientCard(&crm.Client{})))
	if want := scenario.CardFields(); !slices.Equal(got, want) {
		t.Errorf("ClientCard keys = %v\nscenario.CardFields = %v", got, want)
	}
}

// TestMissingValuesRenderEmpty: what a client lacks (an unknown age, an
// attribute never saved, .answer before any answer) reaches the client as
// nothing, never as text/template's "<no value>".
func TestMissingValuesRenderEmpty(t *testing.T) {
	t.Parallel()
	src := "id: gaps\nsteps:\n" +
		"  a: { say: \"Возраст: {{ .client.age }}; хобби: {{ .client.attributes.hobby }}; ответ: {{ .answer }}.\", next: b }\n" +
		"  b: { say: \"Имя?\", input: text, end: true }\n"
	g, err := scenario.Load("gaps.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	NewEngine(EngineConfig{}).Start(g, &Turn{Chat: testChat, Now: testNow}, &res)
	if len(res.Replies) == 0 || res.Replies[0].Text != "Возраст: ; хобби: ; ответ: ." {
		t.Fatalf("replies = %+v", res.Replies)
	}
}
