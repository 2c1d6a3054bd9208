package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// plainHelp makes cmd's help list flags without pflag's "[=true|false]"
// after every boolean flag, which says nothing a reader needs.
func plainHelp(cmd *cobra.Command) {
	cobra.AddTemplateFunc("flagUsages", flagUsages)
	t := strings.ReplaceAll(cmd.UsageTemplate(), ".LocalFlags.FlagUsages", "flagUsages .LocalFlags")
	cmd.SetUsageTemplate(strings.ReplaceAll(t, ".InheritedFlags.FlagUsages", "flagUsages .InheritedFlags"))
}

// flagUsages is fs.FlagUsages with the boolean flags' "[=true|false]"
// dropped and the descriptions aligned again.
func flagUsages(fs *pflag.FlagSet) string {
	lines := strings.Split(fs.FlagUsages(), "\n")
	type row struct{ flag, usage string }
	rows := make([]row, len(lines))
	width := 0
	for i, l := range lines {
		l = strings.Replace(l, "[=true|false]", "", 1)
		dash := strings.Index(l, "--")
		gap := -1
		if dash >= 0 {
			gap = strings.Index(l[dash:], "  ")
		}
		if gap < 0 { // a description's second line
			rows[i] = row{usage: l}
			continue
		}
		rows[i] = row{flag: l[:dash+gap], usage: strings.TrimLeft(l[dash+gap:], " ")}
		width = max(width, len(rows[i].flag))
	}
	var b strings.Builder
	for i, r := range rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		if r.flag == "" {
			b.WriteString(r.usage)
			continue
		}
		b.WriteString(r.flag + strings.Repeat(" ", width-len(r.flag)+3) + r.usage)
	}
	return b.String()
}

// hideFlags hides the flags whose names start with one of prefixes from
// cmd's help (they still work).
func hideFlags(cmd *cobra.Command, prefixes ...string) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		for _, p := range prefixes {
			if strings.HasPrefix(f.Name, p) {
				f.Hidden = true
			}
		}
	})
}
