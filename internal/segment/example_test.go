package segment_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/scenario"
	"github.com/chathub/chathub/internal/segment"
)

func Example() {
	seg, err := segment.Compile(`city == "Москва" and age >= 25 and not ("minor" in tags)`)
	if err != nil {
		fmt.Println(err)
		return
	}
	where, _ := seg.SQL(segment.Postgres)
	fmt.Println(where.SQL)
	fmt.Println(where.Args...)

	age := 27
	ok, _ := seg.Match(&crm.Client{City: "Москва", Age: &age}, nil)
	fmt.Println(ok)
	// Output:
	// ((clients.city = ?) AND (clients.age IS NOT NULL AND clients.age >= ?) AND (NOT (EXISTS (SELECT 1 FROM client_tags WHERE client_tags.client_id = clients.id AND client_tags.tag = ?))))
	// Москва 25 minor
	// true
}

func ExampleError() {
	_, err := segment.Compile(`city == "Москва" and agee >= 25`)
	fmt.Println(err)
	// Output:
	// segment:1:22: unknown field "agee" (did you mean "age"?)
}

func ExampleSegment_At() {
	seg, _ := segment.Compile(`last_seen_at > ago("30d")`)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	where, _ := seg.At(now).SQL(segment.SQLite)
	fmt.Println(where.SQL, where.Args[0])
	// Output:
	// (clients.last_seen_at > ?) 2026-05-02 12:00:00 +0000 UTC
}

// TestDocExamples compiles every expression of docs/SEGMENTS.md's example
// block, so the reference never shows one that does not work.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/SEGMENTS.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "Examples from `../shared/DOMAIN.md`")
	if !ok {
		t.Fatal("docs/SEGMENTS.md lost its examples block")
	}
	_, block, _ = strings.Cut(block, "```text\n")
	block, _, _ = strings.Cut(block, "```")
	// The examples name the shipped scenarios, their steps and fields.
	shipped := scenario.NewRegistry(scenario.RegistryConfig{Dir: "../../scenarios"})
	if err := shipped.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := segment.NewCompiler(segment.Config{Scenarios: shipped})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(block, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		if _, err := c.Compile(context.Background(), line); err != nil {
			t.Errorf("docs example %q: %v", line, err)
		}
	}
	if n < 5 {
		t.Errorf("only %d examples found in docs/SEGMENTS.md", n)
	}
}
