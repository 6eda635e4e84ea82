package broadcast

import (
	"errors"
	"testing"

	"github.com/chathub/chathub/internal/crm"
)

// TestTemplateNames checks campaign texts with the checker scenario texts
// use: unknown names are refused with their place and the name meant,
// known ones render (missing values as nothing, never "<no value>"), and
// every way of reaching the card makes the text personal.
func TestTemplateNames(t *testing.T) {
	t.Parallel()
	anna := &crm.Client{FirstName: "Анна", City: "Самара"}
	tests := []struct {
		name, src string
		wantErr   string // the ValidationError's message
		want      string
		personal  bool
	}{
		{name: "client typo", src: "Привет, {{ .client.frist_name }}",
			wantErr: `1:20: unknown client field "frist_name"; did you mean .client.first_name?`},
		{name: "root typo", src: "{{ .clinet.city }}", wantErr: `1:5: unknown name .clinet; texts see .client; did you mean .client?`},
		{name: "no answer in campaigns", src: "{{ .answer }}", wantErr: `1:5: unknown name .answer; texts see .client`},
		{name: "second line", src: "Привет!\n{{ $.client.agee }}", wantErr: `2:13: unknown client field "agee"; did you mean .client.age?`},
		{name: "with follows the card", src: "{{ with .client }}{{ .first_name }}{{ end }}", want: "Анна", personal: true},
		{name: "$ reaches the card", src: "{{ $.client.first_name }}!", want: "Анна!", personal: true},
		{name: "unknown age renders empty", src: "Возраст: {{ .client.age }}.", want: "Возраст: .", personal: true},
		{name: "a literal <no value> stays", src: "Ответ <no value> из {{ .client.city }}", want: "Ответ <no value> из Самара", personal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := ParseTemplate(tt.src)
			if tt.wantErr != "" {
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Field != "text" || ve.Message != tt.wantErr {
					t.Fatalf("ParseTemplate(%q) = %v, want text: %s", tt.src, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTemplate(%q): %v", tt.src, err)
			}
			got, err := tmpl.Render(anna)
			if err != nil || got != tt.want || tmpl.Personal() != tt.personal {
				t.Errorf("Render = %q, %v (personal %v); want %q (personal %v)", got, err, tmpl.Personal(), tt.want, tt.personal)
			}
		})
	}
}
