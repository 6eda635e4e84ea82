package postgres

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// clientColumns is the column list every client read selects, in the order
// clientRow.targets scans it. A tags JSON array always follows it.
const clientColumns = `id, platform, bot, platform_user_id, first_name, last_name, username,
	phone, email, gender, birth_date, age, city, region, family_status,
	children_count, income_level, occupation, source, language, lifecycle_stage,
	temperature, assigned_manager, timezone, subscribed, consent_at,
	unsubscribed_at, blocked_at, handoff_requested_at, attributes, confirmed,
	created_at, updated_at, last_seen_at`

// tagsExpr is a scalar subquery yielding the tags of the client whose id is
// idExpr as a JSON array (unordered; scanning sorts it).
func (s *Store) tagsExpr(idExpr string) string {
	if s.pg() {
		return "(SELECT COALESCE(json_agg(tag), '[]') FROM client_tags WHERE client_id = " + idExpr + ")"
	}
	return "(SELECT json_group_array(tag) FROM client_tags WHERE client_id = " + idExpr + ")"
}

// clientRow receives one row of clientColumns plus tags.
type clientRow struct {
	c        crm.Client
	platform string
}

// targets returns scan destinations matching clientColumns and the tags.
func (r *clientRow) targets() []any {
	c := &r.c
	return []any{
		&c.ID, &r.platform, &c.Bot, &c.PlatformUserID, &c.FirstName, &c.LastName, &c.Username,
		&c.Phone, &c.Email, &c.Gender, dateScanner{&c.BirthDate}, intScanner{&c.Age},
		&c.City, &c.Region, &c.FamilyStatus,
		intScanner{&c.ChildrenCount}, &c.IncomeLevel, &c.Occupation, &c.Source, &c.Language, &c.LifecycleStage,
		&c.Temperature, &c.AssignedManager, &c.Timezone, &c.Subscribed, timeScanner{p: &c.ConsentAt},
		timeScanner{p: &c.UnsubscribedAt}, timeScanner{p: &c.BlockedAt}, timeScanner{p: &c.HandoffRequestedAt},
		attributesScanner{&c.Attributes}, confirmedScanner{&c.Confirmed},
		timeScanner{v: &c.CreatedAt}, timeScanner{v: &c.UpdatedAt}, timeScanner{v: &c.LastSeenAt},
		tagsScanner{&c.Tags},
	}
}

// client returns the scanned client.
func (r *clientRow) client() *crm.Client {
	c := r.c
	c.Platform = messenger.Platform(r.platform)
	return &c
}

// scanClients reads every row of rows as clients.
func scanClients(rows *sql.Rows) ([]crm.Client, error) {
	defer rows.Close()
	var out []crm.Client
	for rows.Next() {
		var r clientRow
		if err := rows.Scan(r.targets()...); err != nil {
			return nil, err
		}
		out = append(out, *r.client())
	}
	return out, rows.Err()
}

// textOf returns src as text when it is a string or bytes.
func textOf(src any) (string, bool) {
	switch v := src.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}

// sqliteTimeFormats are the layouts SQLite text timestamps may use.
var sqliteTimeFormats = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

// parseTime reads a time from either driver's representation, in UTC.
func parseTime(src any) (time.Time, error) {
	if t, ok := src.(time.Time); ok {
		return t.UTC(), nil
	}
	s, ok := textOf(src)
	if !ok {
		return time.Time{}, fmt.Errorf("cannot read %T as a time", src)
	}
	for _, f := range sqliteTimeFormats {
		if t, err := time.Parse(f, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("unrecognised time format")
}

// timeScanner scans a timestamp into a *time.Time field (p, NULL allowed) or
// a time.Time field (v).
type timeScanner struct {
	p **time.Time
	v *time.Time
}

// Scan implements sql.Scanner.
func (s timeScanner) Scan(src any) error {
	if src == nil {
		if s.p != nil {
			*s.p = nil
		}
		return nil
	}
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	if s.p != nil {
		*s.p = &t
	} else {
		*s.v = t
	}
	return nil
}

// dateScanner scans a DATE into a *time.Time at midnight UTC.
type dateScanner struct{ p **time.Time }

// Scan implements sql.Scanner.
func (s dateScanner) Scan(src any) error {
	if src == nil {
		*s.p = nil
		return nil
	}
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	*s.p = &d
	return nil
}

// intScanner scans a nullable integer into a *int field.
type intScanner struct{ p **int }

// Scan implements sql.Scanner.
func (s intScanner) Scan(src any) error {
	var n sql.NullInt64
	if err := n.Scan(src); err != nil {
		return err
	}
	if !n.Valid {
		*s.p = nil
		return nil
	}
	v := int(n.Int64)
	*s.p = &v
	return nil
}

// attributesScanner decodes the attributes JSON object. Lists of strings
// come back as []string and whole numbers as int, so values round-trip with
// the types crm.FieldValue documents.
type attributesScanner struct{ p *map[string]any }

// Scan implements sql.Scanner.
func (s attributesScanner) Scan(src any) error {
	m := map[string]any{}
	if err := decodeJSON(src, &m); err != nil {
		return fmt.Errorf("attributes: %w", err)
	}
	for k, v := range m {
		m[k] = normaliseJSON(v)
	}
	*s.p = m
	return nil
}

// normaliseJSON maps decoded JSON onto the crm.FieldValue types.
func normaliseJSON(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x)
		}
	case []any:
		strs := make([]string, 0, len(x))
		for _, e := range x {
			str, ok := e.(string)
			if !ok {
				return x
			}
			strs = append(strs, str)
		}
		return strs
	}
	return v
}

// confirmedScanner decodes the confirmed JSON object (field → RFC3339 time).
type confirmedScanner struct{ p *map[string]time.Time }

// Scan implements sql.Scanner.
func (s confirmedScanner) Scan(src any) error {
	raw := map[string]string{}
	if err := decodeJSON(src, &raw); err != nil {
		return fmt.Errorf("confirmed: %w", err)
	}
	m := make(map[string]time.Time, len(raw))
	for k, v := range raw {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("confirmed %s: %w", strconv.Quote(k), err)
		}
		m[k] = t.UTC()
	}
	*s.p = m
	return nil
}

// tagsScanner decodes a JSON array of tags, sorted.
type tagsScanner struct{ p *[]string }

// Scan implements sql.Scanner.
func (s tagsScanner) Scan(src any) error {
	var tags []string
	if err := decodeJSON(src, &tags); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	if len(tags) == 0 {
		tags = nil
	}
	sort.Strings(tags)
	*s.p = tags
	return nil
}

// decodeJSON unmarshals a JSON text column; NULL leaves v untouched.
func decodeJSON(src any, v any) error {
	if src == nil {
		return nil
	}
	s, ok := textOf(src)
	if !ok {
		return fmt.Errorf("cannot read %T as JSON", src)
	}
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}
