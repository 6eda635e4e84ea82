package scenario

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSayLength: a say: of more than 20 messages' worth (MaxSayLen
// characters, counted as Telegram counts them) is refused at load with its
// position; one at the bound loads.
func TestSayLength(t *testing.T) {
	t.Parallel()
	const bound = 20 * 4096 // as docs/SCENARIOS.md says
	tests := []struct {
		name string
		say  string
		want string // the error line; "" loads
	}{
		{"at the bound", strings.Repeat("я", bound), ""},
		{"one over", strings.Repeat("я", bound+1),
			`t.yaml:4:10: "say" in step "long" is 81921 characters long, at most 81920 (20 messages of 4096); shorten it or spread it over several steps`},
		{"an emoji counts twice", strings.Repeat("😀", bound/2) + "!",
			`t.yaml:4:10: "say" in step "long" is 81921 characters long`},
		{"a template counts as written", strings.Repeat("a", bound-20) + "{{ .client.first_name }}",
			`t.yaml:4:10: "say" in step "long" is 81924 characters long`},
		{"10 MB", strings.Repeat("слово ", 10<<20/len("слово ")),
			`t.yaml:4:10: "say" in step "long" is 5719500 characters long`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "id: x\nsteps:\n  long:\n    say: \"" + tt.say + "\"\n    end: true\n"
			errs := loadErrors(t, src)
			switch {
			case tt.want == "" && errs != nil:
				t.Fatalf("errors %q, want none", errs)
			case tt.want != "" && (len(errs) != 1 || !strings.HasPrefix(errs[0], tt.want)):
				t.Fatalf("errors %q, want one starting %q", errs, tt.want)
			}
		})
	}
}

// TestSchemaSayLength: the JSON Schema bounds say: as load does, for
// editors (maxLength counts code points, so an emoji-heavy text can pass
// the schema and still fail at load).
func TestSchemaSayLength(t *testing.T) {
	t.Parallel()
	var doc struct {
		Defs struct {
			Step struct {
				Properties struct {
					Say struct {
						MaxLength int `json:"maxLength"`
					} `json:"say"`
				} `json:"properties"`
			} `json:"step"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Defs.Step.Properties.Say.MaxLength; got != MaxSayLen {
		t.Fatalf("say maxLength = %d, want %d", got, MaxSayLen)
	}
}
