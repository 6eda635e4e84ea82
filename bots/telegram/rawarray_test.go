package telegram

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestSplitArray(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want []string // nil: an error
	}{
		{`[]`, []string{}},
		{` [ ] `, []string{}},
		{`[1]`, []string{`1`}},
		{`[{"update_id":1,"message":{"text":"a,b]}"}},{"update_id":2}]`, []string{`{"update_id":1,"message":{"text":"a,b]}"}}`, `{"update_id":2}`}},
		{"[ {\"a\": [1, 2]} ,\n\"x\\\"]\" , -1.5e3,true,null ]", []string{`{"a": [1, 2]}`, `"x\"]"`, `-1.5e3`, `true`, `null`}},
		{`{"a":1}`, nil},
		{`"[1]"`, nil},
		{``, nil},
	} {
		got, err := splitArray([]byte(c.in))
		if c.want == nil {
			if err == nil {
				t.Errorf("splitArray(%q) = %q, want an error", c.in, got)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("splitArray(%q) = %q, %v; want %q", c.in, got, err, c.want)
			continue
		}
		for i := range got {
			if string(got[i]) != c.want[i] {
				t.Errorf("splitArray(%q)[%d] = %s, want %s", c.in, i, got[i], c.want[i])
			}
		}
	}
}

// FuzzSplitArray: on any valid JSON array, splitArray agrees with
// encoding/json's decode into []json.RawMessage.
func FuzzSplitArray(f *testing.F) {
	for _, s := range []string{`[]`, `[1,"a",{"b":[true,null]}]`, `[ {"update_id":5,"message":{"text":"\"]}"}} ]`, `[[],[[]],{}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want []json.RawMessage
		if !json.Valid(data) || json.Unmarshal(data, &want) != nil {
			return // not an array, or not JSON: the library never passes those
		}
		got, err := splitArray(data)
		if err != nil {
			t.Fatalf("splitArray(%q): %v", data, err)
		}
		if len(got) != len(want) {
			t.Fatalf("splitArray(%q) = %d elements, want %d", data, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("element %d = %s, want %s", i, got[i], want[i])
			}
		}
	})
}
