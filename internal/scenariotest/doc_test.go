package scenariotest

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocExample: the test file of docs/SCENARIOS.md passes against the
// shipped scenarios, and the typos the page shows give the errors it
// prints.
func TestDocExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/SCENARIOS.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(# scenarios/tests/portrait.test.yaml\n.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/SCENARIOS.md has no example test file")
	}
	const name = "scenarios/tests/portrait.test.yaml"
	f, err := Parse(name, m[1], shipped(t))
	if err != nil {
		t.Fatal(err)
	}
	rep := newRunner(t).Run(context.Background(), shipped(t), []*File{f}, Options{})
	if rep.Failed != 0 || rep.Passed != 3 {
		t.Errorf("the documented example: %+v", rep.Cases)
	}

	typos := strings.Replace(strings.Replace(string(m[1]), "fields: { first_name: Анна }", "fields: { frist_name: Анна }", 1),
		"step: city,", "step: ctiy,", 1)
	_, err = Parse(name, []byte(typos), shipped(t))
	if err == nil {
		t.Fatal("typos parsed")
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.Contains(string(doc), line) {
			t.Errorf("docs/SCENARIOS.md does not show the error\n%s", line)
		}
	}
}
