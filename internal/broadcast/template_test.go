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
