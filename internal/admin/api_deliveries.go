package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/chathub/chathub/internal/broadcast"
)

// exportFlushRows is how many CSV rows go out per flush of the response.
const exportFlushRows = 500

// exportWriteWindow is how long each flushed chunk of an export may take
// to write: the server's WriteTimeout would cut a long export short, so
// the export moves the deadline forward as it goes.
const exportWriteWindow = time.Minute

// exportDeliveries streams the campaign's ledger as CSV. Errors before the
// first row are JSON answers (404 for an unknown campaign); an error after
// it aborts the response, so a client never takes a cut file for a whole one.
func (a *API) exportDeliveries(w http.ResponseWriter, r *http.Request) error {
	id, err := campaignID(r)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	out := NewDeliveryCSV(w)
	started := false
	start := func() {
		started = true
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="campaign-`+strconv.FormatInt(id, 10)+`-deliveries.csv"`)
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_ = rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
	}
	err = a.cfg.Reports.Deliveries(r.Context(), id, func(d broadcast.Delivery) error {
		if !started {
			start()
		}
		if err := out.Write(d); err != nil {
			return err
		}
		if out.Rows()%exportFlushRows == 0 {
			return flushExport(out, rc)
		}
		return nil
	})
	if err == nil && !started {
		start()
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil && started {
		a.log.Warn("deliveries export cut short", "campaign", id, "rows", out.Rows(), "err", err)
		panic(http.ErrAbortHandler) // the client sees a broken transfer, not a short file
	}
	return err
}

// flushExport sends the buffered rows and extends the write deadline.
func flushExport(out *DeliveryCSV, rc *http.ResponseController) error {
	if err := out.Flush(); err != nil {
		return err
	}
	if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	_ = rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
	return nil
}
