package telegram

import (
	"encoding/json"
	"errors"
)

// errNotArray is splitArray's answer to anything but a JSON array.
var errNotArray = errors.New("not a JSON array")

// splitArray returns the elements of the JSON array data as sub-slices of
// it (no copy), each without the whitespace around it. data must be valid
// JSON, as a getUpdates result is once the client library has decoded the
// whole answer; the scan then needs only to follow nesting and strings,
// which is several times cheaper than encoding/json's validating decode
// into []json.RawMessage, and pipelined polling gets every update in
// flight back in every answer.
func splitArray(data []byte) ([]json.RawMessage, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, errNotArray
	}
	var out []json.RawMessage
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return out, nil
	}
	for i < len(data) {
		end, err := valueEnd(data, i)
		if err != nil {
			return nil, err
		}
		out = append(out, json.RawMessage(data[i:end:end]))
		i = skipSpace(data, end)
		if i >= len(data) {
			break
		}
		switch data[i] {
		case ']':
			return out, nil
		case ',':
			i = skipSpace(data, i+1)
		default:
			return nil, errNotArray
		}
	}
	return nil, errNotArray
}

// valueEnd returns the index just past the JSON value starting at data[i].
func valueEnd(data []byte, i int) (int, error) {
	depth := 0
	for ; i < len(data); i++ {
		switch data[i] {
		case '"':
			end, err := stringEnd(data, i)
			if err != nil {
				return 0, err
			}
			if depth == 0 {
				return end, nil
			}
			i = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, nil // the end of a scalar that closes its array
			}
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i, nil // the end of a number, true, false or null
			}
		}
	}
	if depth == 0 {
		return i, nil
	}
	return 0, errNotArray
}

// stringEnd returns the index just past the string whose quote is data[i].
func stringEnd(data []byte, i int) (int, error) {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errNotArray
}

// skipSpace returns the index of the first non-whitespace byte from i.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
