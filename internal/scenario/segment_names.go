package scenario

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/segment"
)

// SegmentNames returns what segments may name in g: its step ids, its end
// steps and the fields its answers are saved to.
func (g *Graph) SegmentNames() segment.ScenarioNames {
	var n segment.ScenarioNames
	for _, id := range g.Order {
		s := g.Steps[id]
		n.Steps = append(n.Steps, id)
		if s.End {
			n.EndSteps = append(n.EndSteps, id)
		}
		if name := s.Save.String(); name != "" {
			n.Fields = append(n.Fields, name)
		}
	}
	n.Merge(segment.ScenarioNames{}) // sort and drop repeats
	return n
}

// String returns the target as save: names it (city, attributes.csat,
// consent, vars.code), as answers record it; "" for none.
func (t Target) String() string {
	switch t.Kind {
	case SaveField, SaveConsent:
		return t.Name
	case SaveAttribute:
		return crm.AttributesPrefix + t.Name
	case SaveVar:
		return "vars." + t.Name
	}
	return ""
}

// ScenarioNames implements segment.Scenarios over every version of id the
// registry has seen: loaded from its directory since it started (files
// since deleted included) or read back from the version store.
func (r *Registry) ScenarioNames(_ context.Context, id string) (segment.ScenarioNames, bool, error) {
	r.mu.Lock()
	graphs := make([]*Graph, 0, 1)
	for k, g := range r.versions {
		if k.id == id {
			graphs = append(graphs, g)
		}
	}
	r.mu.Unlock()
	if cur, ok := r.Get(id); ok {
		graphs = append(graphs, cur)
	}
	var n segment.ScenarioNames
	for _, g := range graphs {
		n.Merge(g.SegmentNames())
	}
	return n, len(graphs) > 0, nil
}

// ScenarioIDs implements segment.Scenarios: the ids of every version seen.
func (r *Registry) ScenarioIDs(context.Context) ([]string, error) {
	ids := map[string]bool{}
	for _, g := range r.All() {
		ids[g.ID] = true
	}
	r.mu.Lock()
	for k := range r.versions {
		ids[k.id] = true
	}
	r.mu.Unlock()
	return slices.Sorted(maps.Keys(ids)), nil
}

// sourceStep is what SourceNames reads of a step.
type sourceStep struct {
	End  any `yaml:"end"`
	Save any `yaml:"save"`
}

// SourceNames reads the segment names of a stored scenario source without
// compiling it: a version stored long ago need not pass today's checks to
// have had its steps answered. Aliases and merge keys are followed.
func SourceNames(src []byte) (segment.ScenarioNames, error) {
	var doc struct {
		Steps map[string]*sourceStep `yaml:"steps"`
	}
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return segment.ScenarioNames{}, fmt.Errorf("read scenario steps: %w", err)
	}
	var n segment.ScenarioNames
	for id, s := range doc.Steps {
		n.Steps = append(n.Steps, id)
		if s == nil {
			continue
		}
		if end, _ := s.End.(bool); end {
			n.EndSteps = append(n.EndSteps, id)
		}
		if save, _ := s.Save.(string); strings.TrimSpace(save) != "" {
			n.Fields = append(n.Fields, strings.TrimSpace(save))
		}
	}
	n.Merge(segment.ScenarioNames{})
	return n, nil
}
