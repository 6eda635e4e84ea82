package scenario

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocExamples loads every complete scenario (a yaml block starting with
// "id:") in docs/SCENARIOS.md and compiles every condition it shows.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/SCENARIOS.md")
	if err != nil {
		t.Skipf("docs not found: %v", err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	loaded := 0
	for _, b := range blocks {
		if !strings.HasPrefix(b[1], "id:") || strings.Count(b[1], "\n") < 3 {
			continue
		}
		loaded++
		if _, err := Load("SCENARIOS.md", []byte(b[1])); err != nil {
			t.Errorf("example does not load:\n%s\n%v", b[1], err)
		}
	}
	if loaded < 2 {
		t.Errorf("found %d complete examples", loaded)
	}
	conds := []struct {
		src      string
		kind     InputKind
		multiple bool
	}{
		{`answer < 18`, InputNumber, false},
		{`answer >= 25 && answer <= 40`, InputNumber, false},
		{`answer == "yes"`, InputChoice, false},
		{`answer in ["2", "3"]`, InputChoice, false},
		{`"Фитнес" in answer`, InputChoice, true},
		{`len(answer) > 2`, InputChoice, true},
		{`answer matches "^\\+7"`, InputPhone, false},
		{`answer != ""`, InputText, false},
		{`vars.segment == "b2b"`, InputNone, false},
		{`"vip" in client.tags`, InputNone, false},
	}
	for _, c := range conds {
		if _, err := CompileCondition(c.src, c.kind, c.multiple); err != nil {
			t.Errorf("documented condition %q: %v", c.src, err)
		}
	}
}
