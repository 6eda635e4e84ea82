package admin

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
)

// DeliveryColumns is the header row of a deliveries export.
var DeliveryColumns = []string{
	"campaign_id", "client_id", "platform", "platform_user_id", "status", "reason",
	"attempts", "message_id", "sent_at", "updated_at",
}

// DeliveryCSV writes a campaign's ledger as RFC 4180 CSV (CRLF line ends,
// fields with quotes, commas or line breaks quoted, UTF-8) starting with
// the DeliveryColumns header row. The API's deliveries.csv and
// `chathub broadcast export` write the same file.
type DeliveryCSV struct {
	w      *csv.Writer
	rows   int
	header bool
}

// NewDeliveryCSV returns a writer of deliveries to w.
func NewDeliveryCSV(w io.Writer) *DeliveryCSV {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &DeliveryCSV{w: cw}
}

// Write adds one delivery row (the header row first).
func (c *DeliveryCSV) Write(d broadcast.Delivery) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	if err := c.w.Write(deliveryRow(&d)); err != nil {
		return fmt.Errorf("write delivery row: %w", err)
	}
	c.rows++
	return nil
}

// Rows is how many delivery rows were written.
func (c *DeliveryCSV) Rows() int { return c.rows }

// Flush writes out what is buffered (the header row at least).
func (c *DeliveryCSV) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write deliveries csv: %w", err)
	}
	return nil
}

func (c *DeliveryCSV) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	if err := c.w.Write(DeliveryColumns); err != nil {
		return fmt.Errorf("write deliveries csv header: %w", err)
	}
	return nil
}

func deliveryRow(d *broadcast.Delivery) []string {
	return []string{
		strconv.FormatInt(d.CampaignID, 10), strconv.FormatInt(d.ClientID, 10), string(d.Platform),
		d.PlatformUserID, d.Status, d.Reason, strconv.Itoa(d.Attempts), d.MessageID,
		csvTime(d.SentAt), csvTime(&d.UpdatedAt),
	}
}

func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
