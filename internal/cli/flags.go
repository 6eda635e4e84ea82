package cli

import (
	"bytes"
	"errors"
	"flag"
)

// flagMessages collects what a FlagSet prints while parsing, so that the
// usage asked for with -h or --help goes to stdout with exit 0, like
// `chathub help`, and a wrong flag's error and usage go to stderr with exit
// 2. Make one per FlagSet with captureFlags, parse, then call exit with
// Parse's error.
type flagMessages struct {
	env *Env
	buf bytes.Buffer
}

// captureFlags makes fs print into the returned flagMessages.
func captureFlags(env *Env, fs *flag.FlagSet) *flagMessages {
	m := &flagMessages{env: env}
	fs.SetOutput(&m.buf)
	return m
}

// exit writes what the FlagSet printed where it belongs and returns the
// command's exit code for err, a non-nil error of Parse.
func (m *flagMessages) exit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		_, _ = m.env.Stdout.Write(m.buf.Bytes())
		return 0
	}
	_, _ = m.env.Stderr.Write(m.buf.Bytes())
	return 2
}

// parseFlags parses args into fs; ok is false when the command must stop
// and return code (0 after -h/--help, 2 after a wrong flag). Messages of
// later checks the command prints itself.
func parseFlags(env *Env, fs *flag.FlagSet, args []string) (code int, ok bool) {
	m := captureFlags(env, fs)
	err := fs.Parse(args)
	fs.SetOutput(env.Stderr)
	if err != nil {
		return m.exit(err), false
	}
	return 0, true
}
