package dialog

import "unicode/utf8"

// MaxPayloadLen caps a deep-link payload (Telegram /start <payload>, VK
// ref), in characters. Telegram's start parameter holds at most 64
// characters and a scenario's payload trigger at most 64, so a longer
// payload comes from no real deep link: someone typed or forged it.
const MaxPayloadLen = 64

// deepLinkPayload returns p, or "" when p is longer than MaxPayloadLen or
// not UTF-8 text. An over-long payload is ignored rather than cut: a cut
// one would record a source that no link carried (and could match a
// prefix trigger such as ads_* by accident), so the client is treated as
// arriving without one.
func deepLinkPayload(p string) string {
	if !utf8.ValidString(p) || utf8.RuneCountInString(p) > MaxPayloadLen {
		return ""
	}
	return p
}
