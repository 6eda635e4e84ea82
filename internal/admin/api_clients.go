package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/crm"
)

// clientJSON is a client card as the API shows it (segment samples). It
// carries personal data: only authenticated managers see it, and it is
// never logged.
type clientJSON struct {
	ID                 int64          `json:"id"`
	Platform           string         `json:"platform"`
	Bot                string         `json:"bot,omitempty"`
	UserID             string         `json:"user_id"`
	FirstName          string         `json:"first_name,omitempty"`
	LastName           string         `json:"last_name,omitempty"`
	Username           string         `json:"username,omitempty"`
	Phone              string         `json:"phone,omitempty"`
	Email              string         `json:"email,omitempty"`
	Gender             string         `json:"gender,omitempty"`
	BirthDate          string         `json:"birth_date,omitempty"`
	Age                *int           `json:"age,omitempty"`
	City               string         `json:"city,omitempty"`
	Region             string         `json:"region,omitempty"`
	FamilyStatus       string         `json:"family_status,omitempty"`
	ChildrenCount      *int           `json:"children_count,omitempty"`
	IncomeLevel        string         `json:"income_level,omitempty"`
	Occupation         string         `json:"occupation,omitempty"`
	Source             string         `json:"source,omitempty"`
	Language           string         `json:"language,omitempty"`
	LifecycleStage     string         `json:"lifecycle_stage,omitempty"`
	Temperature        string         `json:"temperature,omitempty"`
	Timezone           string         `json:"timezone,omitempty"`
	Subscribed         bool           `json:"subscribed"`
	ConsentAt          *time.Time     `json:"consent_at,omitempty"`
	BlockedAt          *time.Time     `json:"blocked_at,omitempty"`
	HandoffRequestedAt *time.Time     `json:"handoff_requested_at,omitempty"`
	Tags               []string       `json:"tags"`
	Attributes         map[string]any `json:"attributes"`
	CreatedAt          time.Time      `json:"created_at"`
	LastSeenAt         time.Time      `json:"last_seen_at"`
}

func newClientJSON(c *crm.Client) clientJSON {
	out := clientJSON{
		ID: c.ID, Platform: string(c.Platform), Bot: c.Bot, UserID: c.PlatformUserID, FirstName: c.FirstName,
		LastName: c.LastName, Username: c.Username, Phone: c.Phone, Email: c.Email, Gender: c.Gender,
		Age: c.Age, City: c.City, Region: c.Region, FamilyStatus: c.FamilyStatus,
		ChildrenCount: c.ChildrenCount, IncomeLevel: c.IncomeLevel, Occupation: c.Occupation,
		Source: c.Source, Language: c.Language, LifecycleStage: c.LifecycleStage,
		Temperature: c.Temperature, Timezone: c.Timezone, Subscribed: c.Subscribed,
		ConsentAt: utc(c.ConsentAt), BlockedAt: utc(c.BlockedAt), HandoffRequestedAt: utc(c.HandoffRequestedAt),
		Tags: c.Tags, Attributes: c.Attributes, CreatedAt: c.CreatedAt.UTC(), LastSeenAt: c.LastSeenAt.UTC(),
	}
	if c.BirthDate != nil {
		out.BirthDate = c.BirthDate.Format(time.DateOnly)
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if out.Attributes == nil {
		out.Attributes = map[string]any{}
	}
	return out
}

// utc returns t in UTC (nil stays nil).
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// ClientEraser erases a client by id (*ClientService): ErrNoClient when
// there is none.
type ClientEraser interface {
	Erase(ctx context.Context, id int64) error
}

// deleteClient is DELETE /api/clients/{id}: the client's erasure (152-FZ),
// 204; 404 when there is no such client (already erased, or never was).
func (a *API) deleteClient(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return &statusError{status: http.StatusBadRequest, msg: "the client id must be a positive integer"}
	}
	if err := a.cfg.Clients.Erase(r.Context(), id); err != nil {
		if errors.Is(err, ErrNoClient) {
			return &statusError{status: http.StatusNotFound, msg: fmt.Sprintf("no client %d", id), err: err}
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
