package segment

import (
	"slices"
	"sort"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// kind is the value type of a field in segment expressions.
type kind int

const (
	kText kind = iota // unknown is ""
	kEnum             // text with a fixed set of values; unknown is ""
	kInt              // unknown is NULL
	kDate             // a calendar date; unknown is NULL
	kTime             // an instant; unknown is NULL where nullable
	kBool             // always known
)

// String names the kind for error messages.
func (k kind) String() string {
	switch k {
	case kEnum:
		return "choice"
	case kInt:
		return "whole-number"
	case kDate:
		return "date"
	case kTime:
		return "timestamp"
	case kBool:
		return "yes/no"
	}
	return "text"
}

// column is one whitelisted field. Its SQL is a constant naming a column of
// the clients table; nothing of it ever comes from an expression.
type column struct {
	name     string
	kind     kind
	sql      string
	nullable bool     // unknown is SQL NULL (kInt, kDate, some kTime)
	values   []string // allowed values of a kEnum

	text func(*crm.Client) string     // kText, kEnum
	num  func(*crm.Client) *int       // kInt
	when func(*crm.Client) *time.Time // kDate, kTime (nil: unknown)
	flag func(*crm.Client) bool       // kBool
}

// Fixed names that are not plain core columns.
const (
	nameTags       = "tags"
	nameAttributes = "attributes"
)

// textFields are the in-memory accessors of the catalogue's text and enum
// columns; every crm field must have one (TestCatalogueCoversCRM).
var textFields = map[string]func(*crm.Client) string{
	"first_name":       func(c *crm.Client) string { return c.FirstName },
	"last_name":        func(c *crm.Client) string { return c.LastName },
	"username":         func(c *crm.Client) string { return c.Username },
	"phone":            func(c *crm.Client) string { return c.Phone },
	"email":            func(c *crm.Client) string { return c.Email },
	"gender":           func(c *crm.Client) string { return c.Gender },
	"city":             func(c *crm.Client) string { return c.City },
	"region":           func(c *crm.Client) string { return c.Region },
	"family_status":    func(c *crm.Client) string { return c.FamilyStatus },
	"income_level":     func(c *crm.Client) string { return c.IncomeLevel },
	"occupation":       func(c *crm.Client) string { return c.Occupation },
	"source":           func(c *crm.Client) string { return c.Source },
	"language":         func(c *crm.Client) string { return c.Language },
	"lifecycle_stage":  func(c *crm.Client) string { return c.LifecycleStage },
	"temperature":      func(c *crm.Client) string { return c.Temperature },
	"assigned_manager": func(c *crm.Client) string { return c.AssignedManager },
	"timezone":         func(c *crm.Client) string { return c.Timezone },
}

var intFields = map[string]func(*crm.Client) *int{
	"age":            func(c *crm.Client) *int { return c.Age },
	"children_count": func(c *crm.Client) *int { return c.ChildrenCount },
}

var dateFields = map[string]func(*crm.Client) *time.Time{
	"birth_date": func(c *crm.Client) *time.Time { return c.BirthDate },
}

var boolFields = map[string]func(*crm.Client) bool{
	"subscribed": func(c *crm.Client) bool { return c.Subscribed },
}

// fixedColumns are the fields beyond the crm catalogue: identity (platform,
// bot), status
// timestamps and the derived "blocked".
func fixedColumns() []*column {
	ts := func(name string, nullable bool, get func(*crm.Client) *time.Time) *column {
		return &column{name: name, kind: kTime, sql: "clients." + name, nullable: nullable, when: get}
	}
	always := func(get func(*crm.Client) time.Time) func(*crm.Client) *time.Time {
		return func(c *crm.Client) *time.Time {
			t := get(c)
			if t.IsZero() {
				return nil
			}
			return &t
		}
	}
	return []*column{
		{name: "platform", kind: kEnum, sql: "clients.platform",
			values: []string{string(messenger.Telegram), string(messenger.VK), string(messenger.Terminal), string(messenger.Playground)},
			text:   func(c *crm.Client) string { return string(c.Platform) }},
		// bot is the config file's bot name ("" for the bot of the
		// environment variables): free text, as bots come and go with the file.
		{name: "bot", kind: kText, sql: "clients.bot",
			text: func(c *crm.Client) string { return c.Bot }},
		{name: "blocked", kind: kBool, sql: "clients.blocked_at IS NOT NULL",
			flag: func(c *crm.Client) bool { return c.BlockedAt != nil }},
		ts("created_at", false, always(func(c *crm.Client) time.Time { return c.CreatedAt })),
		ts("updated_at", false, always(func(c *crm.Client) time.Time { return c.UpdatedAt })),
		ts("last_seen_at", false, always(func(c *crm.Client) time.Time { return c.LastSeenAt })),
		ts("consent_at", true, func(c *crm.Client) *time.Time { return c.ConsentAt }),
		ts("unsubscribed_at", true, func(c *crm.Client) *time.Time { return c.UnsubscribedAt }),
		ts("blocked_at", true, func(c *crm.Client) *time.Time { return c.BlockedAt }),
		ts("handoff_requested_at", true, func(c *crm.Client) *time.Time { return c.HandoffRequestedAt }),
	}
}

// catalogue maps every field name an expression may use to its column.
var catalogue = buildCatalogue()

func buildCatalogue() map[string]*column {
	cols := map[string]*column{}
	for _, name := range crm.FieldNames() {
		if col := crmColumn(name); col != nil {
			cols[name] = col
		}
	}
	for _, col := range fixedColumns() {
		cols[col.name] = col
	}
	return cols
}

// crmColumn maps one crm catalogue field; nil when it has no accessor here.
func crmColumn(name string) *column {
	f, _ := crm.LookupField(name)
	col := &column{name: name, sql: "clients." + name}
	switch f.Type {
	case crm.TypeText, crm.TypeEnum:
		col.kind, col.text = kText, textFields[name]
		if f.Type == crm.TypeEnum {
			col.kind, col.values = kEnum, slices.Clone(f.Values)
		}
		if col.text == nil {
			return nil
		}
	case crm.TypeInt:
		col.kind, col.nullable, col.num = kInt, true, intFields[name]
		if col.num == nil {
			return nil
		}
	case crm.TypeDate:
		col.kind, col.nullable, col.when = kDate, true, dateFields[name]
		if col.when == nil {
			return nil
		}
	case crm.TypeBool:
		col.kind, col.flag = kBool, boolFields[name]
		if col.flag == nil {
			return nil
		}
	default:
		return nil
	}
	return col
}

// FieldNames lists every name an expression may use, sorted: the columns
// plus "tags" and "attributes".
func FieldNames() []string {
	names := make([]string, 0, len(catalogue)+2)
	for n := range catalogue {
		names = append(names, n)
	}
	names = append(names, nameTags, nameAttributes)
	sort.Strings(names)
	return names
}
