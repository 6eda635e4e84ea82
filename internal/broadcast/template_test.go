package broadcast

import (
	"errors"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/crm"
)

func TestParseTemplate(t *testing.T) {
	t.Parallel()
	anna := &crm.Client{FirstName: "Анна", City: "Самара", Attributes: map[string]any{"interests": []string{"фитнес", "йога"}}}
	for _, tc := range []struct {
		src, want, errField string
		personal            bool
	}{
		{src: "Скидка 10% до пятницы", want: "Скидка 10% до пятницы"},
		{src: "{{ .client.first_name }}, привет из {{ .client.city }}!", want: "Анна, привет из Самара!", personal: true},
		{src: `{{ .client.last_name | default "друг" }}`, want: "друг", personal: true},
		{src: `{{ join ", " .client.attributes.interests }}`, want: "фитнес, йога", personal: true},
		{src: `{{ .client.attributes.missing }}!`, want: "!", personal: true},
		{src: "{{ .client.agee }}", errField: "text"},
		{src: "{{ .vars.x }}", errField: "text"},
		{src: "{{ .client.first_name ", errField: "text"},
		{src: "{{ nosuchfunc 1 }}", errField: "text"},
		{src: "   ", errField: "text"},
		{src: strings.Repeat("я", MaxTextRunes+1), errField: "text"},
	} {
		tmpl, err := ParseTemplate(tc.src)
		if tc.errField != "" {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.errField {
				t.Errorf("ParseTemplate(%.30q) error = %v, want a ValidationError on %s", tc.src, err, tc.errField)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTemplate(%.30q): %v", tc.src, err)
			continue
		}
		got, err := tmpl.Render(anna)
		if err != nil || got != tc.want || tmpl.Personal() != tc.personal {
			t.Errorf("Render(%q) = %q, %v (personal %v); want %q (personal %v)", tc.src, got, err, tmpl.Personal(), tc.want, tc.personal)
		}
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"{{ .client.first_name }}", "Привет", "{{ if .client.city }}x{{ end }}", "{{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := ParseTemplate(src)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is not a ValidationError: %v", err)
			}
			return
		}
		if _, err := tmpl.Render(&crm.Client{FirstName: "A"}); err != nil && !strings.Contains(err.Error(), "render") {
			t.Fatalf("render error without context: %v", err)
		}
	})
}

// TestTemplateLimits: campaign texts share the scenario texts' rules (no
// {{range}} over a number, however written) and render to at most one
// message: refused at creation when even an empty card renders too long, a
// too_long render error when one client's card does.
func TestTemplateLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, msg string
	}{
		{"range over a huge number", "{{range 20000000}}x{{end}}", "{{range}} over a number"},
		{"range over a number", "{{range 100000}}x{{end}}", "{{range}} over a number"},
		{"range over a number with index", "{{range $i := 100000}}x{{end}}", "{{range}} over a number"},
		{"range over a variable set from a number", "{{$n := 100000}}{{range $n}}x{{end}}", "{{range}} over a number"},
		{"range over a variable reassigned from one", "{{$n := .client.tags}}{{$n = 100000}}{{range $n}}x{{end}}", "{{range}} over a number"},
		{"range over a numeric client field", "{{range .client.age}}x{{end}}", "{{range}} over a number"},
		{"range over a function's number", `{{range len "aaaa"}}{{range len "bbbb"}}{{end}}{{end}}`, "{{range}} over a number"},
		{"range over a function's result in parentheses", `{{range (slice .client.tags 0)}}x{{end}}`, "or a function's result"},
		{"range over a variable set by a function", `{{$n := len "aaaa"}}{{range $n}}{{end}}`, "{{range}} over a number"},
		{"define", `{{define "a"}}x{{end}}{{template "a"}}`, "{{define}}"},
		{"renders longer than a message", `{{printf "%05000d" 1}}`, "longer than one message"},
		{"grows past one message", strings.Repeat(`{{printf "%0900d" 1}}`, 5), "longer than one message"},
	} {
		_, err := ParseTemplate(tc.src)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "text" || !strings.Contains(ve.Message, tc.msg) {
			t.Errorf("%s: ParseTemplate(%q) error = %v, want a ValidationError on text saying %q", tc.name, tc.src, err, tc.msg)
		}
	}

	tmpl, err := ParseTemplate(`{{range .client.tags}}{{.}} {{end}}{{ .client.attributes.bio }}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		card    *crm.Client
		tooLong bool
	}{
		{"short", &crm.Client{Tags: []string{"a", "b"}, Attributes: map[string]any{"bio": "ok"}}, false},
		{"exactly one message", &crm.Client{Attributes: map[string]any{"bio": strings.Repeat("я", MaxMessageLen)}}, false},
		{"one character more", &crm.Client{Attributes: map[string]any{"bio": strings.Repeat("я", MaxMessageLen+1)}}, true},
		{"astral characters count twice", &crm.Client{Attributes: map[string]any{"bio": strings.Repeat("😀", MaxMessageLen/2+1)}}, true},
		{"huge", &crm.Client{Attributes: map[string]any{"bio": strings.Repeat("x", 10<<20)}}, true},
	} {
		_, err := tmpl.Render(tc.card)
		if tc.tooLong != errors.Is(err, ErrTooLong) || (!tc.tooLong && err != nil) {
			t.Errorf("%s: Render error = %v, want too long %v", tc.name, err, tc.tooLong)
		}
	}
}
