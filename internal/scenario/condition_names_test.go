package scenario

import (
	"slices"
	"strings"
	"testing"
)

// TestConditionNames checks the names conditions use: client fields
// against the card, vars against the scenario's, with offsets that point
// at the name.
func TestConditionNames(t *testing.T) {
	t.Parallel()
	scope := NameScope{Answer: true, Vars: []string{"gift"}, Attributes: []string{"interests"}}
	type want struct {
		off int
		msg string
	}
	tests := []struct {
		src  string
		want []want
	}{
		{`answer < 18 and client.age > 1 and "vip" in client.tags and client.attributes.x == 1 and vars.gift != ""`, nil},
		{`client?.city == "Самара" and client["first_name"] != ""`, nil},
		{`client.frist_name == "Анна"`, []want{{7, `unknown client field "frist_name"; did you mean client.first_name?`}}},
		{`vars.gfit == 1`, []want{{5, `unknown variable vars.gfit; did you mean vars.gift?`}}},
		{`vars.x == 1`, []want{{5, `unknown variable vars.x; define it under vars: or save an answer to vars.x`}}},
		{`client.interests != nil`, []want{{7, `unknown client field "interests"; answers saved to attributes are client.attributes.interests`}}},
		{`client.city.size > 1`, []want{{12, `client.city is a value and has no field "size"; remove .size`}}},
		{`client["agee"] == nil`, []want{{8, `unknown client field "agee"; did you mean client.age?`}}},
		{`"Москва" == client.ctiy`, []want{{25, `unknown client field "ctiy"; did you mean client.city?`}}},
		{`answer ==`, nil},
	}
	for _, tt := range tests {
		var got []want
		for _, e := range conditionNames(tt.src, CardFields(), scope) {
			got = append(got, want{e.Offset, e.Msg})
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s:\ngot  %v\nwant %v", tt.src, got, tt.want)
		}
	}
}

// FuzzConditionNames checks that no condition makes the name check panic
// and that every offset points at the name reported.
func FuzzConditionNames(f *testing.F) {
	for _, s := range []string{`client.frist_name == ""`, `vars.gfit`, `client["agee"]`, `client.city.x.y`, `"я" == client.ctiy`} {
		f.Add(s)
	}
	scope := NameScope{Answer: true, Vars: []string{"gift"}}
	f.Fuzz(func(t *testing.T, src string) {
		for _, e := range conditionNames(src, CardFields(), scope) {
			name := e.Chain[strings.LastIndex(e.Chain, ".")+1:]
			if e.Msg == "" || e.Offset > len(src) || e.Offset >= 0 && !strings.HasPrefix(src[e.Offset:], name) {
				t.Fatalf("conditionNames(%q): bad error %+v", src, e)
			}
		}
	})
}
