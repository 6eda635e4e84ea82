package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/chathub/chathub/internal/segment"
	"github.com/chathub/chathub/internal/store/postgres"
)

// inputError is a request the API refuses before or instead of a service
// call: bad JSON, a bad path or query parameter, a field that fails its
// checks. It answers 400 naming the field.
type inputError struct {
	field, msg string
}

func (e *inputError) Error() string { return e.msg }

// badInput returns an *inputError about field.
func badInput(field, msg string) error { return &inputError{field: field, msg: msg} }

// fieldError names the request field a service's error is about (the
// segment expression a *segment.Error points into).
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// inField marks err as being about the request field (nil stays nil).
func inField(field string, err error) error {
	if err == nil {
		return nil
	}
	return &fieldError{field: field, err: err}
}

// statusError answers with a fixed status and message (404, 409).
type statusError struct {
	status int
	msg    string
	err    error
}

func (e *statusError) Error() string { return e.msg }
func (e *statusError) Unwrap() error { return e.err }

// writeError answers err with its status: 400 for bad input (with the
// field and, for segment expressions, the position), 404, 409 for a
// conflict, 413 for a body over the limit, and 500 without internals for
// anything else (logged, never shown).
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := classify(err)
	if status == http.StatusInternalServerError {
		if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			return // the client went away; nobody reads the answer
		}
		a.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, body)
}

// classify maps an error to its status and JSON body.
func classify(err error) (int, errorBody) {
	field := ""
	if fe := (*fieldError)(nil); errors.As(err, &fe) {
		field = fe.field
	}
	var (
		in     *inputError
		st     *statusError
		segErr *segment.Error
		tooBig *http.MaxBytesError
	)
	switch {
	case errors.As(err, &in):
		return http.StatusBadRequest, errorBody{Error: in.msg, Field: in.field}
	case errors.As(err, &st):
		return st.status, errorBody{Error: st.msg, Field: field}
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, errorBody{Error: "the body is larger than the limit of " + byteSize(tooBig.Limit)}
	case errors.As(err, &segErr):
		off := segErr.Offset
		return http.StatusBadRequest, errorBody{Error: segErr.Error(), Field: field, Source: segErr.Source,
			Line: segErr.Line, Column: segErr.Column, Offset: &off}
	case errors.Is(err, postgres.ErrSegmentInUse):
		return http.StatusConflict, errorBody{Error: err.Error(), Field: field}
	}
	if status, body, ok := classifyCampaignError(err); ok {
		return status, body
	}
	return http.StatusInternalServerError, errorBody{Error: "internal error; the server log has the details"}
}

// byteSize prints a body limit for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
