package scenariotest

import (
	"context"
	"fmt"
	"testing"

	"github.com/chathub/chathub/internal/scenario"
)

func BenchmarkShippedTests(b *testing.B) {
	ctx := context.Background()
	reg := scenario.NewRegistry(scenario.RegistryConfig{Dir: "../../scenarios"})
	if err := reg.Load(ctx); err != nil {
		b.Fatal(err)
	}
	paths, _ := Files("../../scenarios/tests")
	files, err := ParseFiles(paths, reg)
	if err != nil {
		b.Fatal(err)
	}
	r, err := NewRunner(ctx, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				rep := r.Run(ctx, reg, files, Options{Parallel: n})
				if rep.Failed > 0 {
					b.Fatal(rep.Cases)
				}
			}
		})
	}
}
