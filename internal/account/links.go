package account

import (
	"errors"
	"fmt"
	"time"
)

// The messenger platforms a console user can link an account of, so that
// what they do in the managers' team chat there is recorded under their
// login (Link.Platform; the messenger package's platform names).
const (
	PlatformTelegram = "telegram"
	PlatformVK       = "vk"
)

// LinkPlatforms lists the platforms a link may name.
var LinkPlatforms = []string{PlatformTelegram, PlatformVK}

// ValidLinkPlatform reports whether p is one of LinkPlatforms.
func ValidLinkPlatform(p string) bool {
	for _, k := range LinkPlatforms {
		if k == p {
			return true
		}
	}
	return false
}

// Link ties a console user to their account on a messenger platform: one
// platform account links to at most one user, and a user has at most one
// account per platform.
type Link struct {
	// User is the console user's name (their login).
	User string
	// Platform is one of LinkPlatforms; PlatformUserID the account's id
	// there (a positive number on Telegram and VK).
	Platform, PlatformUserID string
	// DisplayName is the account's name on the platform when it was linked
	// ("Иван Сидоров (@ivan)"), shown in the console.
	DisplayName string
	LinkedAt    time.Time
}

// LinkCode is a one-time code that links the platform account sending it
// (`/link CODE` in the managers' team chat) to the user it was made for.
type LinkCode struct {
	// Code is what the user types; only its hash is stored.
	Code     string
	Platform string
	// Expires is when the code stops working (LinkCodeTTL after it was
	// made).
	Expires time.Time
}

// Errors of linking, for errors.Is.
var (
	// ErrLinkCodeUnknown: no code of that platform reads so (never made,
	// used already, or replaced by a newer one).
	ErrLinkCodeUnknown = errors.New("account: unknown link code")
	// ErrLinkCodeExpired: the code was made but its time passed.
	ErrLinkCodeExpired = errors.New("account: the link code expired")
	// ErrNoLink: the user has no account linked on that platform.
	ErrNoLink = errors.New("account: no such link")
)

// NotLinkableError refuses a platform account that cannot be linked: an
// unknown platform, or an author who is not a person (an anonymous group
// admin writes as the group).
type NotLinkableError struct {
	Platform, PlatformUserID string
}

// Error implements error.
func (e *NotLinkableError) Error() string {
	return fmt.Sprintf("account: %s account %q cannot be linked", e.Platform, e.PlatformUserID)
}

// linkablePlatformUserID reports whether id names a person on Telegram
// and VK: a positive decimal number (groups and communities have negative
// ids, an anonymous Telegram admin writes as the group).
func linkablePlatformUserID(id string) bool {
	if id == "" || len(id) > 20 || id[0] == '0' {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
