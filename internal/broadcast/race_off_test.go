//go:build !race

package broadcast_test

// allowed429s: without the race detector a send at the bot's full rate
// never gets 429 (see race_on_test.go).
const allowed429s = 0
