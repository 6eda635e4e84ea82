package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// compiledSchema compiles Schema() with a real JSON Schema validator.
func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("scenario.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("scenario.schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

// schemaErr validates a YAML document against the schema the way editors
// do: aliases and merge keys resolved, the result as JSON.
func schemaErr(t *testing.T, s *jsonschema.Schema, src []byte) error {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(inst)
}

// yamlBlockRe finds ```yaml blocks of a Markdown file.
var yamlBlockRe = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// docScenarios returns the complete scenarios (with id: and steps: at the
// top) among the YAML examples of docs/SCENARIOS.md and README.md.
func docScenarios(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, file := range []string{"../../docs/SCENARIOS.md", "../../README.md"} {
		md, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range yamlBlockRe.FindAllSubmatch(md, -1) {
			src := m[1]
			if bytes.HasPrefix(src, []byte("id:")) || bytes.Contains(src, []byte("\nid:")) {
				if bytes.Contains(src, []byte("\nsteps:")) {
					out[fmt.Sprintf("%s#%d", filepath.Base(file), i+1)] = src
				}
			}
		}
	}
	return out
}

// TestSchemaAcceptsShippedAndDocumented validates every shipped scenario,
// every testdata scenario the loader accepts and every complete scenario
// in the docs against the schema: what the loader takes, the schema must
// take too (editors must not flag a valid file).
func TestSchemaAcceptsShippedAndDocumented(t *testing.T) {
	t.Parallel()
	s := compiledSchema(t)
	files := map[string][]byte{}
	for _, pattern := range []string{"../../scenarios/*.yaml", "testdata/*.yaml"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files[p] = src
		}
	}
	docs := docScenarios(t)
	if len(docs) < 2 {
		t.Fatalf("found %d complete scenarios in the docs; the extraction is broken", len(docs))
	}
	for name, src := range docs {
		files[name] = src
	}
	for name, src := range files {
		if _, err := Load(name, src); err != nil {
			if strings.HasPrefix(name, "../../") {
				t.Errorf("shipped %s does not load: %v", name, err)
			}
			continue
		}
		if err := schemaErr(t, s, src); err != nil {
			t.Errorf("%s loads but the schema rejects it:\n%v", name, err)
		}
	}
}

// TestSchemaAgreesWithLoader checks documents on both sides: the loader
// and the schema accept or refuse each alike (for what the schema can
// express: keys, types, patterns).
func TestSchemaAgreesWithLoader(t *testing.T) {
	t.Parallel()
	s := compiledSchema(t)
	const step = "steps:\n  a: {say: Привет, end: true}\n"
	tests := []struct {
		name string
		src  string
		ok   bool
	}{
		{"minimal", "id: s\n" + step, true},
		{"x- anchor key", "id: s\nx-yes-no: &yn\n  - {text: Да, value: yes}\n  - {text: Нет, value: no}\n" +
			"steps:\n  a: {say: \"Да?\", buttons: *yn, next: b}\n  b: {say: Ок, end: true}\n", true},
		{"x- scalar", "id: s\nx-note: shared text\n" + step, true},
		{"x- merge key", "id: s\nx-end: &end {end: true}\nsteps:\n  a: {say: Пока, <<: *end}\n", true},
		{"unknown top key", "id: s\nsteps_: 1\n" + step, false},
		{"X- is not x-", "id: s\nX-note: 1\n" + step, false},
		{"x without dash", "id: s\nxnote: 1\n" + step, false},
		{"unknown step key", "id: s\nsteps:\n  a: {sya: Привет, end: true}\n", false},
		{"bad id", "id: Bad Id\n" + step, false},
		{"missing steps", "id: s\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, loadErr := Load("s.yaml", []byte(tt.src))
			schErr := schemaErr(t, s, []byte(tt.src))
			if (loadErr == nil) != tt.ok {
				t.Errorf("loader: err = %v, want ok = %v", loadErr, tt.ok)
			}
			if (schErr == nil) != tt.ok {
				t.Errorf("schema: err = %v, want ok = %v", schErr, tt.ok)
			}
		})
	}
}
