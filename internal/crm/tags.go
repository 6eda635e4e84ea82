package crm

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadTag is wrapped by CheckTag's error.
var ErrBadTag = errors.New("bad tag")

// CheckTag returns the tag a person typed, trimmed, or an error wrapping
// ErrBadTag when it cannot be a tag: empty, longer than MaxTextLen
// characters (the tag index's limit, as for the text columns) or holding a
// control character (what a person types in the console or the API;
// scenario files are checked when they load).
func CheckTag(raw string) (string, error) {
	tag := strings.TrimSpace(raw)
	switch {
	case tag == "":
		return "", fmt.Errorf("%w: empty", ErrBadTag)
	case utf8.RuneCountInString(tag) > MaxTextLen:
		return "", fmt.Errorf("%w: longer than %d characters", ErrBadTag, MaxTextLen)
	case strings.ContainsFunc(tag, unicode.IsControl):
		return "", fmt.Errorf("%w: holds a control character", ErrBadTag)
	}
	return tag, nil
}
