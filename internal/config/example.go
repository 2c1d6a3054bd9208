package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// Section is a table of the file and the flags of its command.
type Section struct {
	Name, Command string
	Flags         *pflag.FlagSet
}

// Example is a commented configuration with every key at its default.
func Example(sections []Section) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# fbs configuration (%s, or --config FILE). Every key is a flag of its\n", DefaultPath)
	b.WriteString("# command; FBS_<KEY> in the environment (FBS_MAX_ATTEMPTS) overrides the file,\n")
	b.WriteString("# and the command line overrides both. Secrets are read from files (…-file keys).\n")
	for _, s := range sections {
		fmt.Fprintf(&b, "\n[%s]  # %s\n", s.Name, s.Command)
		s.Flags.VisitAll(func(fl *pflag.Flag) {
			if skipped(fl) {
				return
			}
			fmt.Fprintf(&b, "\n# %s\n#%s = %s\n", fl.Usage, fl.Name, tomlValue(fl))
		})
	}
	return b.String()
}

// tomlValue is a flag's default written as TOML.
func tomlValue(fl *pflag.Flag) string {
	switch fl.Value.Type() {
	case "int", "bool":
		return fl.DefValue
	case "stringSlice", "stringArray":
		inner := strings.Trim(fl.DefValue, "[]")
		if inner == "" {
			return "[]"
		}
		parts := strings.Split(inner, ",")
		for i, p := range parts {
			parts[i] = strconv.Quote(p)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return strconv.Quote(fl.DefValue)
}
