// Package scenarios holds the shipped scenario files (the YAML beside this
// file) and their tests (tests/*.test.yaml) and embeds them, so that
// `chathub demo` runs them, and shows the tests' results, from any
// directory.
package scenarios

import "embed"

// Files are the shipped scenario files, at the root of the file system,
// and their tests under tests/.
//
//go:embed *.yaml tests/*.test.yaml
var Files embed.FS
