// Package scenarios holds the shipped scenario files (the YAML beside this
// file) and embeds them, so that `chathub demo` runs them from any
// directory.
package scenarios

import "embed"

// Files are the shipped scenario files, at the root of the file system.
//
//go:embed *.yaml
var Files embed.FS
