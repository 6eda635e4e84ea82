package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// colChange is one clients column an ApplyChanges writes: the value for a
// new row and the ON CONFLICT DO UPDATE expression for an existing one
// (alias t is the stored row, EXCLUDED the proposed one). Column names come
// only from crm.LookupField or constants in this file, never from input.
type colChange struct {
	name string
	val  any
	set  string
}

// plan is a validated crm.Changes, ready to be rendered as SQL.
type plan struct {
	now       time.Time
	updateID  string
	updateArg any // updateID boxed once for the column and writeOnceFilter
	cols      []colChange
	attrs     map[string]any
	confirmed map[string]string
	addTags   []string
	rmTags    []string
	answers   []crm.Answer
	note      *crm.Note
	handoff   *crm.Handoff
	completed *crm.Completion
	visits    []crm.StepVisit
	messages  []crm.Message // sanitized (cleanMessage)
	activity  *crm.HandoffActivity
}

// put records a column change; a later change of the same column wins.
func (p *plan) put(name string, val any, set string) {
	for i := range p.cols {
		if p.cols[i].name == name {
			p.cols[i] = colChange{name, val, set}
			return
		}
	}
	p.cols = append(p.cols, colChange{name, val, set})
}

// appends reports whether p records append-only rows (answers, a note, a
// hand-off, a completion, transcript messages, step visits): the part of a change an
// update records once. The hand-off activity is stamped with them, once.
func (p *plan) appends() bool {
	return len(p.answers) > 0 || p.note != nil || p.handoff != nil || p.completed != nil ||
		len(p.messages) > 0 || p.activity != nil || len(p.visits) > 0
}

// once reports whether p's append-only rows are recorded only if the
// client's last update id is not p's (see writeOnceFilter).
func (p *plan) once() bool {
	return p.updateID != "" && p.appends()
}

// has reports whether column name is changed.
func (p *plan) has(name string) bool {
	for _, c := range p.cols {
		if c.name == name {
			return true
		}
	}
	return false
}

// setLastUpdateID is overwrite("last_update_id"), built once: every
// ApplyChanges writes the column.
const setLastUpdateID = "last_update_id = EXCLUDED.last_update_id"

// Update expressions.
func overwrite(col string) string { return col + " = EXCLUDED." + col }
func setNull(col string) string   { return col + " = NULL" }
func fillNull(col string) string  { return col + " = COALESCE(t." + col + ", EXCLUDED." + col + ")" }
func fillText(col string) string {
	return col + " = CASE WHEN t." + col + " = '' THEN EXCLUDED." + col + " ELSE t." + col + " END"
}

// stampTime is the time an ApplyChanges stamps: ch.Now (or the clock when
// zero) in UTC, truncated to the microseconds PostgreSQL keeps.
func stampTime(now time.Time) time.Time {
	if now.IsZero() {
		now = time.Now()
	}
	return now.UTC().Truncate(time.Microsecond)
}

// newPlan validates ch and turns it into a plan. Nothing is written when it
// fails, and its errors name fields, never values.
func (s *Store) newPlan(ch *crm.Changes) (*plan, error) {
	p := &plan{
		now:       stampTime(ch.Now),
		updateID:  ch.UpdateID,
		updateArg: ch.UpdateID,
		attrs:     map[string]any{},
		confirmed: map[string]string{},
		answers:   ch.Answers,
		note:      ch.Note,
		handoff:   cleanHandoff(ch.Handoff),
		completed: ch.Completion,
		visits:    ch.Visits,
		messages:  cleanMessages(ch.Messages),
		activity:  cleanActivity(ch.HandoffActivity),
	}
	// Always written, "" included: the column names the update whose
	// changes the client's latest write recorded, and a write no update
	// carries breaks that chain just as it does in the conversation state.
	p.put("last_update_id", p.updateArg, setLastUpdateID)
	if ch.Profile != nil {
		s.planProfile(p, ch.Profile)
	}
	if ch.Source != "" {
		p.put("source", truncateText(ch.Source), fillText("source"))
	}
	if err := s.planSet(p, ch.Set); err != nil {
		return nil, err
	}
	if err := p.planAttributes(ch.Attributes); err != nil {
		return nil, err
	}
	p.planStatus(ch)
	p.addTags, p.rmTags = planTags(ch.AddTags, ch.RemoveTags)
	if err := s.planJSON(p); err != nil {
		return nil, err
	}
	return p, nil
}

// cleanMessages returns msgs with every text made storable
// (crm.CutMessageText); msgs itself when nothing needed it.
func cleanMessages(msgs []crm.Message) []crm.Message {
	if len(msgs) == 0 {
		return nil
	}
	var out []crm.Message
	for i := range msgs {
		m := cleanMessage(msgs[i])
		if out == nil && m != msgs[i] {
			out = append(make([]crm.Message, 0, len(msgs)), msgs[:i]...)
		}
		if out != nil {
			out = append(out, m)
		}
	}
	if out == nil {
		return msgs
	}
	return out
}

// cleanMessage returns m with its texts made storable (crm.CutMessageText).
func cleanMessage(m crm.Message) crm.Message {
	m.Direction = crm.CutMessageText(m.Direction)
	m.AuthorKind = crm.CutMessageText(m.AuthorKind)
	m.Author = crm.CutMessageText(m.Author)
	m.Text = crm.CutMessageText(m.Text)
	m.Button = crm.CutMessageText(m.Button)
	m.Media = crm.CutMessageText(m.Media)
	m.PlatformMsgID = crm.CutMessageText(m.PlatformMsgID)
	m.Status = crm.CutMessageText(m.Status)
	m.Error = crm.CutMessageText(m.Error)
	return m
}

// cleanHandoff returns h with a storable question (nil for nil).
func cleanHandoff(h *crm.Handoff) *crm.Handoff {
	if h == nil {
		return nil
	}
	if q := crm.CutMessageText(h.Question); q != h.Question {
		c := *h
		c.Question = q
		return &c
	}
	return h
}

// cleanActivity returns a with a storable question and its time in UTC at
// PostgreSQL's precision (nil for nil; a zero At stays zero: the update's
// time is used).
func cleanActivity(a *crm.HandoffActivity) *crm.HandoffActivity {
	if a == nil {
		return nil
	}
	c := *a
	c.Question = crm.CutMessageText(c.Question)
	if !c.At.IsZero() {
		c.At = stampTime(c.At)
	}
	return &c
}

// planProfile fills profile fields the client has no value for yet: a value
// saved earlier (typed by the client, or an older profile) always wins.
func (s *Store) planProfile(p *plan, pr *messenger.Profile) {
	for _, f := range []struct{ col, val string }{
		{"first_name", pr.FirstName}, {"last_name", pr.LastName}, {"username", pr.Username},
		{"language", pr.Language}, {"city", pr.City},
	} {
		if f.val != "" {
			p.put(f.col, truncateText(f.val), fillText(f.col))
		}
	}
	if g, _ := crm.LookupField("gender"); pr.Gender != "" && g.Allows(pr.Gender) {
		p.put("gender", pr.Gender, fillText("gender"))
	}
	if bd, ok := parseProfileBirthDate(pr.BirthDate); ok {
		p.put("birth_date", s.dateValue(bd), fillNull("birth_date"))
		p.put("age", ageAt(bd, p.now), fillNull("age"))
	}
}

// truncateText cuts a value the platform supplied (a profile name, a
// deep-link source) to crm.MaxTextLen characters: what a client typed is
// checked by the engine and refused when too long, but a platform's value
// is stored as far as it fits rather than failing the client's update.
func truncateText(s string) string {
	if len(s) <= crm.MaxTextLen {
		return s
	}
	n := 0
	for i := range s {
		if n == crm.MaxTextLen {
			return s[:i]
		}
		n++
	}
	return s
}

// parseProfileBirthDate reads a platform birth date "D.M.YYYY" (VK omits
// leading zeros); "D.M" without a year is not a usable date.
func parseProfileBirthDate(s string) (time.Time, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	var n [3]int
	for i, part := range parts {
		v, err := strconv.Atoi(part)
		if err != nil {
			return time.Time{}, false
		}
		n[i] = v
	}
	t := time.Date(n[2], time.Month(n[1]), n[0], 0, 0, 0, 0, time.UTC)
	if t.Day() != n[0] || int(t.Month()) != n[1] || n[2] < 1900 {
		return time.Time{}, false
	}
	return t, true
}

// ageAt is the age in full years at now of someone born on birth.
func ageAt(birth, now time.Time) int {
	age := now.Year() - birth.Year()
	if now.Month() < birth.Month() || now.Month() == birth.Month() && now.Day() < birth.Day() {
		age--
	}
	return age
}

// planSet validates and records core-column writes. Setting birth_date also
// sets age at p.now unless age is set explicitly.
func (s *Store) planSet(p *plan, set []crm.FieldValue) error {
	var birth *time.Time
	ageSet := false
	stamp := p.now.Format(time.RFC3339Nano)
	for _, fv := range set {
		f, ok := crm.LookupField(fv.Field)
		if !ok {
			return fmt.Errorf("set %q: not a core column", fv.Field)
		}
		val, err := s.columnValue(f, fv.Value)
		if err != nil {
			return fmt.Errorf("set %s: %w", f.Name, err)
		}
		if problem := f.Check(fv.Value); problem != "" {
			return fmt.Errorf("set %s: value %s", f.Name, problem)
		}
		p.put(f.Name, val, overwrite(f.Name))
		if fv.Value != nil {
			p.confirmed[f.Name] = stamp
		}
		switch f.Name {
		case "age":
			ageSet = true
		case "birth_date":
			birth = nil
			if t, ok := fv.Value.(time.Time); ok {
				birth = &t
			}
		}
	}
	if birth != nil && !ageSet {
		p.put("age", ageAt(*birth, p.now), overwrite("age"))
	}
	return nil
}

// columnValue checks v against f's type and converts it for the driver. A
// nil v clears the column (empty text, false for booleans, NULL otherwise).
func (s *Store) columnValue(f crm.Field, v any) (any, error) {
	if v == nil {
		switch f.Type {
		case crm.TypeText, crm.TypeEnum:
			return "", nil
		case crm.TypeBool:
			return false, nil
		}
		return nil, nil
	}
	bad := fmt.Errorf("want a %s value, got %T", f.Type, v)
	switch f.Type {
	case crm.TypeText, crm.TypeEnum:
		return textValue(f, v, bad)
	case crm.TypeInt:
		n, ok := toInt64(v)
		if !ok {
			return nil, bad
		}
		if n < math.MinInt32 || n > math.MaxInt32 {
			return nil, errors.New("integer out of range")
		}
		return n, nil
	case crm.TypeDate:
		t, ok := v.(time.Time)
		if !ok {
			return nil, bad
		}
		return s.dateValue(t), nil
	case crm.TypeBool:
		b, ok := v.(bool)
		if !ok {
			return nil, bad
		}
		return b, nil
	}
	return nil, bad
}

// textValue checks a text or enum value.
func textValue(f crm.Field, v any, bad error) (any, error) {
	str, ok := v.(string)
	if !ok {
		return nil, bad
	}
	if f.Type == crm.TypeEnum && str != "" && !f.Allows(str) {
		return nil, fmt.Errorf("value is not one of %s", strings.Join(f.Values, ", "))
	}
	return str, nil
}

// toInt64 converts any Go integer type.
func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	}
	return 0, false
}

// dateValue renders a date for the dialect: a midnight-UTC time.Time for
// PostgreSQL's DATE, "2006-01-02" text for SQLite.
func (s *Store) dateValue(t time.Time) any {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if s.pg() {
		return d
	}
	return d.Format(time.DateOnly)
}

// planAttributes validates attribute writes. Keys may carry the
// "attributes." prefix; it is dropped.
func (p *plan) planAttributes(attrs []crm.FieldValue) error {
	stamp := p.now.Format(time.RFC3339Nano)
	for _, fv := range attrs {
		key := strings.TrimPrefix(fv.Field, crm.AttributesPrefix)
		if key == "" {
			return errors.New("attribute with an empty name")
		}
		v, err := attributeValue(fv.Value)
		if err != nil {
			return fmt.Errorf("attribute %q: %w", key, err)
		}
		p.attrs[key] = v
		p.confirmed[crm.AttributesPrefix+key] = stamp
	}
	return nil
}

// attributeValue converts a FieldValue value into its JSON form.
func attributeValue(v any) (any, error) {
	switch x := v.(type) {
	case string, bool, float64, float32:
		return x, nil
	case time.Time:
		return x.Format(time.DateOnly), nil
	case []string:
		if x == nil {
			return []string{}, nil
		}
		return x, nil
	}
	if n, ok := toInt64(v); ok {
		return n, nil
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// planStatus records consent, unsubscribe, block and hand-off stamps.
func (p *plan) planStatus(ch *crm.Changes) {
	if ch.Consent {
		p.put("consent_at", p.now, fillNull("consent_at"))
		p.put("subscribed", true, overwrite("subscribed"))
		p.put("unsubscribed_at", nil, setNull("unsubscribed_at"))
	}
	if ch.Unsubscribe {
		p.put("subscribed", false, overwrite("subscribed"))
		p.put("unsubscribed_at", p.now, overwrite("unsubscribed_at"))
	}
	if ch.Blocked {
		p.put("blocked_at", p.now, overwrite("blocked_at"))
	}
	if ch.Unblocked {
		p.put("blocked_at", nil, setNull("blocked_at"))
	}
	if ch.Handoff != nil {
		p.put("handoff_requested_at", p.now, overwrite("handoff_requested_at"))
	}
}

// planTags drops empty and duplicate tags; a tag both added and removed is
// removed.
func planTags(add, rm []string) (adds, rms []string) {
	removed := map[string]bool{}
	for _, t := range rm {
		if t != "" && !removed[t] {
			removed[t] = true
			rms = append(rms, t)
		}
	}
	seen := map[string]bool{}
	for _, t := range add {
		if t != "" && !removed[t] && !seen[t] {
			seen[t] = true
			adds = append(adds, t)
		}
	}
	return adds, rms
}

// planJSON records the attributes and confirmed merges.
func (s *Store) planJSON(p *plan) error {
	for _, j := range []struct {
		col string
		m   any
		n   int
	}{{"attributes", p.attrs, len(p.attrs)}, {"confirmed", p.confirmed, len(p.confirmed)}} {
		if j.n == 0 {
			continue
		}
		doc, err := encodeJSON(j.m)
		if err != nil {
			return fmt.Errorf("encode %s: %w", j.col, err)
		}
		p.put(j.col, doc, j.col+" = "+s.jsonMerge("t."+j.col, "EXCLUDED."+j.col))
	}
	return nil
}

// jsonMerge is the dialect's key-by-key merge of JSON object b into a.
func (s *Store) jsonMerge(a, b string) string {
	if s.pg() {
		return a + " || " + b
	}
	return "json_patch(" + a + ", " + b + ")"
}

// encodeJSON marshals v without HTML escaping.
func encodeJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}
