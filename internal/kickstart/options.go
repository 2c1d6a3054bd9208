package kickstart

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

func newFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(true)
	return fs
}

// parseFlags parses a command's options as pykickstart's KSOptionParser
// (argparse) does, prefixes included, and wants nargs other arguments.
func parseFlags(pos Pos, fs *pflag.FlagSet, args []string, nargs int) error {
	if err := parseFlagsUpTo(pos, fs, args, nargs); err != nil {
		return err
	}
	if fs.NArg() != nargs {
		what := fmt.Sprintf("%s: takes %d argument(s) besides its options", fs.Name(), nargs)
		return quoting(pos, what, fmt.Sprintf("%s, got %q", what, fs.Args()))
	}
	return nil
}

// parseFlagsUpTo is parseFlags for a command with at most max other arguments.
func parseFlagsUpTo(pos Pos, fs *pflag.FlagSet, args []string, max int) error {
	args, err := expandPrefixes(fs, args)
	if err != nil {
		return quoting(pos, fs.Name()+": an ambiguous option", fmt.Sprintf("%s: %v", fs.Name(), err))
	}
	if err := fs.Parse(args); err != nil {
		return quoting(pos, fs.Name()+": an unknown option, or an option's bad value", fmt.Sprintf("%s: %v", fs.Name(), err))
	}
	if fs.NArg() > max {
		what := fmt.Sprintf("%s: takes %d argument(s) besides its options", fs.Name(), max)
		return quoting(pos, what, fmt.Sprintf("%s, got %q", what, fs.Args()))
	}
	return nil
}

// expandPrefixes writes each --option out in full when it is an
// unambiguous prefix of one of fs's options: argparse's allow_abbrev, which
// pykickstart never turns off, so "repo --exclude=x" is --excludepkgs and
// "rootpw --plain" --plaintext. An exact name wins over longer ones
// (--log beside --logfile); a prefix of several is an error naming them,
// as argparse's is. The value of an option that takes one is left alone.
func expandPrefixes(fs *pflag.FlagSet, args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		out = append(out, a)
		if a == "--" {
			return append(out, args[i+1:]...), nil
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || name == "" {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			var found []string
			fs.VisitAll(func(f *pflag.Flag) {
				if strings.HasPrefix(f.Name, name) {
					found = append(found, f.Name)
				}
			})
			sort.Strings(found)
			switch len(found) {
			case 0:
				continue // pflag names it as unknown
			case 1:
				f = fs.Lookup(found[0])
			default:
				return nil, fmt.Errorf("ambiguous option: --%s could match --%s", name, strings.Join(found, ", --"))
			}
			out[len(out)-1] = "--" + f.Name
			if hasValue {
				out[len(out)-1] += "=" + value
			}
		}
		if !hasValue && f.NoOptDefVal == "" && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out, nil
}
