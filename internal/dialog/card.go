package dialog

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/scenario"
)

// env returns what templates and conditions see, with ans as "answer". The
// client card (reflecting the changes recorded so far in this call) is built
// only for a text or condition that mentions "client": nothing else can reach it.
func (c *call) env(ans answer, src string) scenario.Data {
	if c.data == nil {
		vars := c.g.Vars
		if len(c.res.State.Vars) > 0 {
			vars = make(map[string]any, len(c.g.Vars)+len(c.res.State.Vars))
			maps.Copy(vars, c.g.Vars)
			maps.Copy(vars, c.res.State.Vars)
		}
		c.data = scenario.Data{"client": nil, "vars": vars, "answer": nil}
		c.hasCard = false
	}
	if !c.hasCard && strings.Contains(src, "client") {
		c.data["client"], c.hasCard = c.card(), true
	}
	c.data["answer"] = ans.val
	return c.data
}

// card builds the client card: every core field (empty when unknown), "tags",
// "attributes" and "consent", overlaid with this call's changes.
func (c *call) card() map[string]any {
	cl := c.t.client(c.res)
	if cl == nil {
		cl = &crm.Client{Platform: c.t.Chat.Platform, Bot: c.t.Chat.Bot, PlatformUserID: c.t.Chat.ID}
	}
	m := ClientCard(cl)
	if cl.FirstName == "" && c.t.Update != nil && c.t.Update.Profile != nil {
		m["first_name"] = c.t.Update.Profile.FirstName
	}
	c.overlay(m)
	return m
}

// overlay applies the pending changes to a card.
func (c *call) overlay(m map[string]any) {
	ch := &c.res.Changes
	for _, fv := range ch.Set {
		switch v := fv.Value.(type) {
		case time.Time:
			m[fv.Field] = v.Format("02.01.2006")
			if fv.Field == "birth_date" {
				m["age"] = ageAt(v, ch.Now)
			}
		default:
			m[fv.Field] = v
		}
	}
	if len(ch.Attributes) > 0 {
		attrs := maps.Clone(m["attributes"].(map[string]any))
		for _, fv := range ch.Attributes {
			attrs[fv.Field] = fv.Value
		}
		m["attributes"] = attrs
	}
	if len(ch.AddTags)+len(ch.RemoveTags) > 0 {
		tags := slices.Clone(m["tags"].([]string))
		for _, t := range ch.AddTags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		tags = slices.DeleteFunc(tags, func(t string) bool { return slices.Contains(ch.RemoveTags, t) })
		m["tags"] = tags
	}
	if ch.Consent {
		m["consent"], m["subscribed"] = true, true
	}
}

// ClientCard renders a client as the map scenario texts and conditions see as
// "client": core fields by column name (dates as dd.mm.yyyy, unknown numbers
// as nil), "tags", "attributes", "consent", "platform", "id", and
// "profile_text": everything stored as a Russian listing (what /profile
// shows; rendered only when a text prints it).
func ClientCard(cl *crm.Client) map[string]any {
	attrs := cl.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	tags := cl.Tags
	if tags == nil {
		tags = []string{}
	}
	m := map[string]any{
		"id": cl.PlatformUserID, "platform": string(cl.Platform),
		"first_name": cl.FirstName, "last_name": cl.LastName, "username": cl.Username,
		"phone": cl.Phone, "email": cl.Email, "gender": cl.Gender,
		"birth_date": dateString(cl.BirthDate), "age": intOrNil(cl.Age),
		"city": cl.City, "region": cl.Region, "family_status": cl.FamilyStatus,
		"children_count": intOrNil(cl.ChildrenCount), "income_level": cl.IncomeLevel,
		"occupation": cl.Occupation, "source": cl.Source, "language": cl.Language,
		"lifecycle_stage": cl.LifecycleStage, "temperature": cl.Temperature,
		"assigned_manager": cl.AssignedManager, "timezone": cl.Timezone,
		"subscribed": cl.Subscribed, "consent": cl.ConsentAt != nil,
		"tags": tags, "attributes": attrs,
	}
	m["profile_text"] = profileText(m)
	return m
}

func dateString(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("02.01.2006")
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	}
	return fmt.Sprint(v)
}
