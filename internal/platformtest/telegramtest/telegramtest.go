// Package telegramtest is the fake Telegram Bot API server for tests: the
// server itself is internal/platformtest/telegramfake (also run by `chathub
// demo`); this package gives tests its constructor over a testing.TB and
// the scenario driver (Driver), and names its types as before.
package telegramtest

import (
	"testing"

	"github.com/chathub/chathub/internal/platformtest/telegramfake"
)

// The fake's types (see internal/platformtest/telegramfake).
type (
	// Server is the fake Bot API server.
	Server = telegramfake.Server
	// Sent is a message the bot sent, as the fake keeps it.
	Sent = telegramfake.Sent
	// ReplyMarkup is a message's keyboard.
	ReplyMarkup = telegramfake.ReplyMarkup
	// InlineButton is an inline keyboard button.
	InlineButton = telegramfake.InlineButton
	// KeyButton is a reply keyboard button.
	KeyButton = telegramfake.KeyButton
	// Request is a Bot API call the fake recorded.
	Request = telegramfake.Request
	// Webhook is the webhook the bot set.
	Webhook = telegramfake.Webhook
	// User is a Telegram user of the fake.
	User = telegramfake.User
)

// The fake's constants.
const (
	BotID         = telegramfake.BotID
	BotUsername   = telegramfake.BotUsername
	MaxTextLen    = telegramfake.MaxTextLen
	MaxCaptionLen = telegramfake.MaxCaptionLen
	SecretHeader  = telegramfake.SecretHeader
)

// New starts a fake server and closes it when t ends.
func New(t testing.TB) *Server {
	t.Helper()
	return telegramfake.New(t)
}

// TextLen is the length Telegram counts for a text (UTF-16 units).
func TextLen(s string) int { return telegramfake.TextLen(s) }

// PostWebhook posts update to webhookURL as Telegram does, with the secret
// header, and returns the status.
func PostWebhook(webhookURL, secret string, update any) (int, error) {
	return telegramfake.PostWebhook(webhookURL, secret, update)
}
