package vk

import (
	"context"
	"strconv"
	"strings"

	"github.com/SevereCloud/vksdk/v2/api"

	"github.com/chathub/chathub/internal/messenger"
)

// maxUsersPerCall is how many ids one users.get call takes.
const maxUsersPerCall = 1000

// attachProfiles sets each update's Profile from the cache, fetching the
// users seen for the first time with one users.get call. A failed fetch is
// logged and the updates go on without a profile (it is tried again the next
// time the user writes).
func (b *Bot) attachProfiles(ctx context.Context, updates []*messenger.Update) {
	var missing []int
	seen := map[int]bool{}
	for _, u := range updates {
		id, ok := profileUser(u)
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		if _, ok := b.profiles.Get(id); !ok {
			missing = append(missing, id)
		}
	}
	for len(missing) > 0 {
		n := min(len(missing), maxUsersPerCall)
		b.fetchProfiles(ctx, missing[:n])
		missing = missing[n:]
	}
	for _, u := range updates {
		if id, ok := profileUser(u); ok {
			if p, ok := b.profiles.Get(id); ok {
				u.Profile = &p
			}
		}
	}
}

// profileUser is the VK user whose profile an update should carry: the
// chat's user, or the author of a team chat message.
func profileUser(u *messenger.Update) (int, bool) {
	if u.Kind == messenger.KindBlocked {
		return 0, false
	}
	who := u.Chat.ID
	if u.Team {
		who = u.AuthorID
	}
	id, err := strconv.Atoi(who)
	return id, err == nil && id > 0
}

// fetchProfiles caches the profiles of ids from users.get.
func (b *Bot) fetchProfiles(ctx context.Context, ids []int) {
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = strconv.Itoa(id)
	}
	p, cancel := params(ctx, api.Params{"user_ids": strings.Join(strs, ","), "fields": "sex,bdate,city"})
	defer cancel()
	users, err := b.vk.UsersGet(p)
	if err != nil {
		b.log.Warn("users.get failed; updates go on without profiles", "users", len(ids),
			"err", b.wrap(ctx, "users.get", err))
		return
	}
	for _, u := range users {
		b.profiles.Put(u.ID, messenger.Profile{
			FirstName: u.FirstName, LastName: u.LastName, Gender: gender(u.Sex), BirthDate: u.Bdate, City: u.City.Title,
		})
	}
}

// gender maps VK's sex (1 female, 2 male, 0 unknown).
func gender(sex int) string {
	switch sex {
	case 1:
		return "female"
	case 2:
		return "male"
	}
	return ""
}
