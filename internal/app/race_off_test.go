//go:build !race

package app

// raceEnabled: the race detector slows the process several times, so the
// tests that measure time only log it, and those that count 429s allow
// one (allowed429s).
const raceEnabled = false

// allowed429s: see internal/broadcast/race_on_test.go.
const allowed429s = 0
