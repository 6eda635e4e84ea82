package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoSendKeys keeps the browser tests off chromedp.SendKeys, which reads
// a node's attributes without its lock and so fails -race runs whenever
// htmx changes the node meanwhile: browsertest.Type types race-free.
func TestNoSendKeys(t *testing.T) {
	t.Parallel()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "chromedp."+"SendKeys(") {
			t.Errorf("%s uses chromedp.SendKeys; use browsertest.Type", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
