package accounttest

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/chathub/chathub/internal/account"
)

// memCode is a pending link code.
type memCode struct {
	user, platform string
	expires        time.Time
}

// PutLinkCode implements account.LinkStore.
func (m *MemStore) PutLinkCode(_ context.Context, h []byte, user, platform string, now, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[user]; !ok {
		return account.ErrNoUser
	}
	for k, c := range m.codes {
		if (c.user == user && c.platform == platform) || c.expires.Before(now) {
			delete(m.codes, k)
		}
	}
	m.codes[string(h)] = memCode{user: user, platform: platform, expires: expires}
	return nil
}

// RedeemLinkCode implements account.LinkStore.
func (m *MemStore) RedeemLinkCode(_ context.Context, h []byte, l account.Link) (account.Link, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.codes[string(h)]
	if !ok || c.platform != l.Platform {
		return account.Link{}, account.ErrLinkCodeUnknown
	}
	delete(m.codes, string(h))
	if !l.LinkedAt.Before(c.expires) {
		return account.Link{}, account.ErrLinkCodeExpired
	}
	l.User = c.user
	m.links = slices.DeleteFunc(m.links, func(o account.Link) bool {
		return o.Platform == l.Platform && (o.PlatformUserID == l.PlatformUserID || o.User == l.User)
	})
	m.links = append(m.links, l)
	return l, nil
}

// LinkedUser implements account.LinkStore.
func (m *MemStore) LinkedUser(_ context.Context, platform, id string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.links {
		if l.Platform == platform && l.PlatformUserID == id {
			return l.User, true, nil
		}
	}
	return "", false, nil
}

// Links implements account.LinkStore.
func (m *MemStore) Links(_ context.Context, user string) ([]account.Link, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []account.Link
	for _, l := range m.links {
		if user == "" || l.User == user {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b account.Link) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.Platform, b.Platform))
	})
	return out, nil
}

// DeleteLink implements account.LinkStore.
func (m *MemStore) DeleteLink(_ context.Context, user, platform string) (account.Link, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, l := range m.links {
		if l.User == user && l.Platform == platform {
			m.links = slices.Delete(m.links, i, i+1)
			return l, nil
		}
	}
	return account.Link{}, account.ErrNoLink
}

// dropLinks forgets a removed user's links and codes (the caller holds mu).
func (m *MemStore) dropLinks(user string) {
	m.links = slices.DeleteFunc(m.links, func(l account.Link) bool { return l.User == user })
	for k, c := range m.codes {
		if c.user == user {
			delete(m.codes, k)
		}
	}
}
