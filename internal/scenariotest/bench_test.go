package scenariotest

import (
	"context"
	"fmt"
	"testing"
)

// hundredCases are 100 cases: the shipped tests' cases over and over, in
// one file per round.
func hundredCases(b *testing.B) []*File {
	b.Helper()
	paths, err := Files(shippedDir + "/" + TestsDir)
	if err != nil {
		b.Fatal(err)
	}
	shippedFiles, err := ParseFiles(paths, shipped(b))
	if err != nil {
		b.Fatal(err)
	}
	var all []*Case
	for _, f := range shippedFiles {
		all = append(all, f.Cases...)
	}
	var files []*File
	for n := 0; n < 100; {
		f := &File{Path: fmt.Sprintf("round%d.test.yaml", len(files)+1)}
		for _, c := range all {
			if n == 100 {
				break
			}
			f.Cases = append(f.Cases, c)
			n++
		}
		files = append(files, f)
	}
	return files
}

// Benchmark100Cases runs 100 cases of the shipped tests (≈9 client
// messages each) on one Runner, the way `chathub test` does; the target is
// at most 2 s per op. Sub-benchmarks by how many cases run at once.
//
//	go test -run XXX -bench 100Cases ./internal/scenariotest/
func Benchmark100Cases(b *testing.B) {
	files := hundredCases(b)
	r := newRunner(b)
	ctx := context.Background()
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("parallel=%d", n), func(b *testing.B) {
			for b.Loop() {
				rep := r.Run(ctx, shipped(b), files, Options{Parallel: n})
				if rep.Failed > 0 || len(rep.Cases) != 100 {
					b.Fatalf("%d of %d cases failed", rep.Failed, len(rep.Cases))
				}
			}
		})
	}
}
