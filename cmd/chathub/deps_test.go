package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLeavesTestingOut: the chathub binary does not link package
// testing (the demo's fake Telegram is internal/platformtest/telegramfake,
// which needs no testing.TB), nor any test-only helper package.
// internal/scenariotest is no helper but the product's `chathub test`
// (operators' scenario tests, shown in the console too).
func TestBinaryLeavesTestingOut(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/chathub/chathub/internal/scenariotest" {
			continue
		}
		if dep == "testing" || strings.HasSuffix(dep, "test") && strings.HasPrefix(dep, "github.com/chathub/") {
			t.Errorf("the binary links %s", dep)
		}
	}
}
