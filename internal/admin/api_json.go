package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// errorBody is every error the API answers: what is wrong and, for bad
// input, which field; segment expression errors add their position.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	// Source, Line, Column and Offset locate a segment expression error
	// (Source is "segment" or the saved segment the error is in).
	Source string `json:"source,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	Offset *int   `json:"offset,omitempty"`
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // segment expressions are full of < and >
	_ = enc.Encode(v)
}

// decodeJSON reads exactly one JSON object into dst, refusing unknown
// fields, trailing data and bodies over the size limit (*http.MaxBytesError).
// The body is read as JSON whatever its Content-Type says (so that a plain
// `curl -d '{…}'` works; bearer authentication leaves no cross-site form
// posting to guard against).
func decodeJSON(r *http.Request, dst any) error {
	dec := json.NewDecoder(r.Body)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return jsonInputError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return &inputError{msg: "the body must hold a single JSON object"}
	}
	if kind := jsonValueKind(raw); kind != "object" {
		return &inputError{msg: "request body must be a JSON object, not " + kind}
	}
	obj := json.NewDecoder(bytes.NewReader(raw))
	obj.DisallowUnknownFields()
	if err := obj.Decode(dst); err != nil {
		return jsonInputError(err)
	}
	return nil
}

// jsonValueKind names the kind of a valid JSON value by its first byte.
func jsonValueKind(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonInputError turns a decoding error into what the caller should fix.
func jsonInputError(err error) error {
	var (
		tooBig    *http.MaxBytesError
		syntax    *json.SyntaxError
		typeError *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return err
	case errors.Is(err, io.EOF):
		return &inputError{msg: "the body is empty: send a JSON object"}
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return &inputError{msg: "the body is not valid JSON: " + err.Error()}
	case errors.As(err, &typeError) && typeError.Field == "":
		return &inputError{msg: "request body must be a JSON object"}
	case errors.As(err, &typeError):
		return &inputError{field: typeError.Field, msg: fmt.Sprintf("%s must be a JSON %s", typeError.Field, jsonKind(typeError.Type.Kind().String()))}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &inputError{field: field, msg: fmt.Sprintf("unknown field %q (see docs/API.md)", field)}
	}
	return &inputError{msg: "the body is not a valid JSON object: " + err.Error()}
}

// jsonKind names a Go kind the way a JSON author would.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "bool":
		return "boolean"
	case kind == "slice", kind == "array":
		return "array"
	case kind == "struct", kind == "map":
		return "object"
	}
	return kind
}
