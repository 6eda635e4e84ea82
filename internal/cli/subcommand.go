package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
)

// subcommand is one subcommand of a command group (`chathub segment count`,
// `chathub user add`): the names of its positional arguments, and its flags,
// which return what it runs with a call C.
type subcommand[C any] struct {
	args  []string
	flags func(fs *flag.FlagSet) func(ctx context.Context, c *C) error
}

// parseSubcommand reads env.Args as SUBCOMMAND [flags] ARGS... of `chathub
// group`. Without a subcommand or with an unknown one, a wrong flag or the
// wrong number of arguments it prints why (help to stdout, the rest with
// usage to stderr) and returns ok false with the exit code; argsHint is
// added to the argument-count message ("quote the expression").
func parseSubcommand[C any](env *Env, group, usage, argsHint string, cmds map[string]subcommand[C]) (name string, run func(context.Context, *C) error, args []string, code int, ok bool) {
	if len(env.Args) == 0 { // a usage error: usage to stderr, exit 2
		fmt.Fprintln(env.Stderr, usage)
		return "", nil, nil, 2, false
	}
	if isHelp(env.Args[0]) { // asked for: stdout, exit 0, like `chathub help`
		fmt.Fprintln(env.Stdout, usage)
		return "", nil, nil, 0, false
	}
	name = env.Args[0]
	cmd, found := cmds[name]
	if !found {
		fmt.Fprintf(env.Stderr, "chathub %s: unknown subcommand %q\n\n%s\n", group, name, usage)
		return name, nil, nil, 2, false
	}
	fs := flag.NewFlagSet(group+" "+name, flag.ContinueOnError)
	msgs := captureFlags(env, fs)
	run = cmd.flags(fs)
	args, err := parseInterspersed(fs, env.Args[1:])
	if err != nil {
		return name, nil, nil, msgs.exit(err), false
	}
	fs.SetOutput(env.Stderr)
	if len(args) != len(cmd.args) {
		fmt.Fprintf(env.Stderr, "chathub %s %s: want %s, got %d argument(s)%s\n\n%s\n",
			group, name, strings.Join(cmd.args, " "), len(args), argsHint, usage)
		return name, nil, nil, 2, false
	}
	return name, run, args, 0, true
}
