package admin

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chathub/chathub/internal/crm"
)

// ClientColumns is the header row of a clients export: the portrait's
// fields (docs/SEGMENTS.md, crm.Client) in the card's order.
var ClientColumns = []string{
	"id", "platform", "bot", "platform_user_id", "first_name", "last_name", "username", "phone", "email",
	"gender", "birth_date", "age", "city", "region", "family_status", "children_count", "income_level",
	"occupation", "source", "language", "lifecycle_stage", "temperature", "assigned_manager", "timezone",
	"subscribed", "consent_at", "unsubscribed_at", "blocked_at", "handoff_requested_at", "tags", "attributes",
	"created_at", "updated_at", "last_seen_at",
}

// utf8BOM makes Excel read the file as UTF-8 (Cyrillic names).
const utf8BOM = "\uFEFF"

// ClientCSV writes clients as RFC 4180 CSV: a UTF-8 byte order mark, the
// ClientColumns header, one row per client (CRLF line ends). Tags are
// joined with "; ", attributes are JSON, times RFC 3339 UTC, dates
// YYYY-MM-DD. A text a client typed that a spreadsheet would run as a
// formula (starting with =, @, a tab, or + or - not followed by a number)
// is written with a leading apostrophe.
type ClientCSV struct {
	w      *csv.Writer
	raw    io.Writer
	rows   int
	header bool
}

// NewClientCSV returns a writer of clients to w.
func NewClientCSV(w io.Writer) *ClientCSV {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &ClientCSV{w: cw, raw: w}
}

// Write adds one client row (the BOM and header row first).
func (c *ClientCSV) Write(cl *crm.Client) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	if err := c.w.Write(clientRow(cl)); err != nil {
		return fmt.Errorf("write client row: %w", err)
	}
	c.rows++
	return nil
}

// Rows is how many client rows were written.
func (c *ClientCSV) Rows() int { return c.rows }

// Flush writes out what is buffered (the header row at least).
func (c *ClientCSV) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write clients csv: %w", err)
	}
	return nil
}

func (c *ClientCSV) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	if _, err := io.WriteString(c.raw, utf8BOM); err != nil {
		return fmt.Errorf("write clients csv: %w", err)
	}
	if err := c.w.Write(ClientColumns); err != nil {
		return fmt.Errorf("write clients csv header: %w", err)
	}
	return nil
}

func clientRow(c *crm.Client) []string {
	attrs := ""
	if len(c.Attributes) > 0 {
		b, err := json.Marshal(c.Attributes)
		if err == nil {
			attrs = string(b)
		}
	}
	date := ""
	if c.BirthDate != nil {
		date = c.BirthDate.Format(time.DateOnly)
	}
	tags := slices.Clone(c.Tags)
	slices.Sort(tags)
	row := []string{
		strconv.FormatInt(c.ID, 10), string(c.Platform), c.Bot, c.PlatformUserID, c.FirstName, c.LastName,
		c.Username, c.Phone, c.Email, c.Gender, date, intCell(c.Age), c.City, c.Region, c.FamilyStatus,
		intCell(c.ChildrenCount), c.IncomeLevel, c.Occupation, c.Source, c.Language, c.LifecycleStage,
		c.Temperature, c.AssignedManager, c.Timezone, strconv.FormatBool(c.Subscribed), csvTime(c.ConsentAt),
		csvTime(c.UnsubscribedAt), csvTime(c.BlockedAt), csvTime(c.HandoffRequestedAt), strings.Join(tags, "; "),
		attrs, csvTime(&c.CreatedAt), csvTime(&c.UpdatedAt), csvTime(&c.LastSeenAt),
	}
	for i, v := range row {
		row[i] = noFormula(v)
	}
	return row
}

func intCell(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}

// noFormula prefixes an apostrophe to a cell a spreadsheet would evaluate
// ("=HYPERLINK(…)", "@SUM(…)", "-1+2"); a + or - is kept when a number
// such as a phone "+7 912 …").
func noFormula(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '@', '\t', '\r':
		return "'" + v
	case '+', '-':
		if !numberLike(v[1:]) {
			return "'" + v
		}
	}
	return v
}

// numberLike reports whether s is digits with the separators of a phone
// number or a decimal (spaces, ( ) - and one dot or comma at most).
func numberLike(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '(' || r == ')' || r == '-' || r == '.' || r == ',':
		default:
			return false
		}
	}
	return digits > 0
}
