package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// A link code is linkCodeLen characters of linkCodeAlphabet (40 random
// bits: 32 letters and digits without the look-alikes 0, O, 1 and I),
// shown as two groups of four ("K7QM-2XPA"). Typed back in any case, with
// or without the dash or spaces.
const (
	linkCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	linkCodeLen      = 8
	// maxDisplayName bounds the platform name kept with a link.
	maxDisplayName = 128
)

// StartLink makes a one-time code that links the account of platform
// sending it (`/link CODE` in the managers' team chat) to the user name:
// it works once, for LinkCodeTTL, and replaces the user's earlier code for
// that platform. Only the code's hash is stored.
func (s *Service) StartLink(ctx context.Context, name, platform string) (LinkCode, error) {
	name = NormalizeName(name)
	if !ValidLinkPlatform(platform) {
		return LinkCode{}, fmt.Errorf("account: unknown platform %q (%s)", platform, strings.Join(LinkPlatforms, ", "))
	}
	code, err := newLinkCode()
	if err != nil {
		return LinkCode{}, err
	}
	now := s.now()
	expires := now.Add(s.cfg.LinkCodeTTL)
	if err := s.store.PutLinkCode(ctx, linkCodeHash(code), name, platform, now, expires); err != nil {
		return LinkCode{}, err
	}
	return LinkCode{Code: code[:4] + "-" + code[4:], Platform: platform, Expires: expires}, nil
}

// RedeemLink links the account platformUserID of platform (its name there
// is displayName) to the user whose code it sent, and records
// ActionUserLink under that user. The account's earlier link (to anyone)
// and the user's earlier account on the platform are replaced. Refusals:
// *NotLinkableError (not a person's account), ErrLinkCodeUnknown,
// ErrLinkCodeExpired, and *ThrottledError after repeated unknown codes
// from the account (counted like failed logins).
func (s *Service) RedeemLink(ctx context.Context, platform, platformUserID, displayName, code string) (Link, error) {
	if !ValidLinkPlatform(platform) || !linkablePlatformUserID(platformUserID) {
		return Link{}, &NotLinkableError{Platform: platform, PlatformUserID: platformUserID}
	}
	now := s.now()
	key := "link:" + platform + ":" + platformUserID
	if err := s.throttled(ctx, []string{key}, now); err != nil {
		return Link{}, err
	}
	code = normalizeLinkCode(code)
	l := Link{Platform: platform, PlatformUserID: platformUserID, DisplayName: cutRunes(strings.TrimSpace(displayName), maxDisplayName), LinkedAt: now}
	var err error
	if len(code) != linkCodeLen {
		err = ErrLinkCodeUnknown
	} else {
		l, err = s.store.RedeemLinkCode(ctx, linkCodeHash(code), l)
	}
	if errors.Is(err, ErrLinkCodeUnknown) {
		if ferr := s.store.AddLoginFailure(ctx, key, now, now.Add(-s.cfg.FailureWindow)); ferr != nil {
			return Link{}, ferr
		}
		return Link{}, err
	}
	if err != nil {
		return Link{}, err
	}
	if err := s.store.ClearLoginFailures(ctx, key); err != nil {
		s.log.WarnContext(ctx, "clearing a linked account's failures", "err", err)
	}
	s.log.InfoContext(ctx, "messenger account linked", "user", l.User, "platform", platform)
	if err := s.recordAs(ctx, l.User, ActionUserLink, "user "+l.User, platform+" "+platformUserID); err != nil {
		// The link is made: the manager is told so; the gap is logged.
		s.log.ErrorContext(ctx, "audit log write failed; the account was linked", "user", l.User, "err", err)
	}
	return l, nil
}

// LoginOf returns the user linked to the account userID of platform; ok
// is false when none is (or the id names no person).
func (s *Service) LoginOf(ctx context.Context, platform, userID string) (string, bool, error) {
	if !ValidLinkPlatform(platform) || !linkablePlatformUserID(userID) {
		return "", false, nil
	}
	return s.store.LinkedUser(ctx, platform, userID)
}

// Links returns every user's links, by user and platform.
func (s *Service) Links(ctx context.Context) ([]Link, error) { return s.store.Links(ctx, "") }

// LinksOf returns the links of the user name, by platform.
func (s *Service) LinksOf(ctx context.Context, name string) ([]Link, error) {
	name = NormalizeName(name)
	if name == "" {
		return nil, nil
	}
	return s.store.Links(ctx, name)
}

// Unlink removes the user name's link on platform and records
// ActionUserUnlink; ErrNoLink when there is none.
func (s *Service) Unlink(ctx context.Context, name, platform string) error {
	name = NormalizeName(name)
	l, err := s.store.DeleteLink(ctx, name, platform)
	if err != nil {
		return err
	}
	return s.record(ctx, ActionUserUnlink, "user "+name, l.Platform+" "+l.PlatformUserID)
}

// newLinkCode returns linkCodeLen random characters of linkCodeAlphabet.
func newLinkCode() (string, error) {
	raw := make([]byte, linkCodeLen)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("link code: %w", err)
	}
	b := make([]byte, linkCodeLen)
	for i, r := range raw {
		b[i] = linkCodeAlphabet[int(r)%len(linkCodeAlphabet)] // 256 is a multiple of 32: uniform
	}
	return string(b), nil
}

// normalizeLinkCode is a typed code as made: upper case, without spaces
// and dashes.
func normalizeLinkCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(code)))
}

func linkCodeHash(code string) []byte {
	h := sha256.Sum256([]byte("link:" + code))
	return h[:]
}

// cutRunes shortens s to at most n runes.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
