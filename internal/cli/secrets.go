package cli

import (
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// secretFiles are the host files fl names that hold secrets, which no
// build may read: those of every *-file flag (tokens, passwords, keys, the
// database URL) but --ca-file (a CA's certificate: public, and maybe the
// system's bundle, which builds' tools read), --tls-key, and the
// configuration file, which may hold any setting. HiddenPaths covers
// /etc/fbs; these may be anywhere.
func secretFiles(fl *pflag.FlagSet) []string {
	var out []string
	add := func(p string) {
		if abs, err := filepath.Abs(p); err == nil {
			out = append(out, abs)
		}
	}
	fl.VisitAll(func(f *pflag.Flag) {
		if v := f.Value.String(); v != "" && f.Name != "ca-file" && (strings.HasSuffix(f.Name, "-file") || f.Name == "tls-key") {
			add(v)
		}
	})
	if p := configPath(fl); p != "" {
		add(p)
	}
	return out
}
