package console

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chathub/chathub/internal/account"
)

// fakeLinks is a hand-written AccountLinks keeping the service's rules
// (one code per user and platform, one account per user and platform);
// redeem plays a manager sending `/link CODE` in the team chat. Unlinks
// are recorded with the actor of their context.
type fakeLinks struct {
	mu        sync.Mutex
	n         int
	ttl       time.Duration
	codes     map[string]account.LinkCode // by user
	links     []account.Link
	log       []string // "actor user.unlink name platform"
	failStart error
}

func newFakeLinks(links ...account.Link) *fakeLinks {
	return &fakeLinks{ttl: 10 * time.Minute, codes: map[string]account.LinkCode{}, links: links}
}

func (f *fakeLinks) StartLink(_ context.Context, name, platform string) (account.LinkCode, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failStart != nil {
		return account.LinkCode{}, f.failStart
	}
	f.n++
	c := account.LinkCode{Code: fmt.Sprintf("K7QM-2XP%c", 'A'+f.n), Platform: platform, Expires: time.Now().Add(f.ttl)}
	f.codes[name] = c
	return c, nil
}

// redeem links the account id (named display) to the user whose code
// reads code; false when no live code does.
func (f *fakeLinks) redeem(code, id, display string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, c := range f.codes {
		if c.Code == code && time.Now().Before(c.Expires) {
			delete(f.codes, name)
			f.links = slices.DeleteFunc(f.links, func(l account.Link) bool {
				return l.Platform == c.Platform && (l.User == name || l.PlatformUserID == id)
			})
			f.links = append(f.links, account.Link{User: name, Platform: c.Platform, PlatformUserID: id, DisplayName: display,
				LinkedAt: time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)})
			return true
		}
	}
	return false
}

func (f *fakeLinks) LinksOf(_ context.Context, name string) ([]account.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []account.Link
	for _, l := range f.links {
		if l.User == name {
			out = append(out, l)
		}
	}
	return out, nil
}

func (f *fakeLinks) Links(context.Context) ([]account.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.links)
	slices.SortFunc(out, func(a, b account.Link) int { return strings.Compare(a.User+a.Platform, b.User+b.Platform) })
	return out, nil
}

func (f *fakeLinks) Unlink(ctx context.Context, name, platform string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, l := range f.links {
		if l.User == name && l.Platform == platform {
			f.links = slices.Delete(f.links, i, i+1)
			f.log = append(f.log, account.ActorFrom(ctx)+" user.unlink "+name+" "+platform)
			return nil
		}
	}
	return account.ErrNoLink
}

func (f *fakeLinks) entries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

var errFakeDown = errors.New("store down")
