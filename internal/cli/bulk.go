package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"fbs/internal/buildlog"
	"fbs/internal/demo"
	"fbs/internal/runner"
)

func demoBulkCmd() *cobra.Command {
	var cache string
	var bump []string
	size := byteSize(1 << 30)
	cmd := &cobra.Command{
		Use:   "bulk DIR",
		Short: "Write a repository of bulk packages to DIR, for roots of a desktop's size",
		Long: `Builds in DIR an RPM repository of bulk packages, each a Debian package repackaged
whole as ` + demo.BulkPrefix + `<name>: every kernel module, chromium, locales-all,
LLVM, gcc, fonts and more, taken in that order until --size bytes are in. A
kickstart that adds this repo and ` + demo.BulkPrefix + `* to the demo's gets a root
of that size, for measuring builds at Fedora's scale (bench/large.sh).
--bump NAME adds a newer version of that bulk package with one file changed:
the repo after an update. Nothing is rebuilt when nothing changed.`,
		Example: `  fbs demo bulk /srv/bulk --size 1GiB
  fbs demo bulk /srv/bulk --size 1GiB --bump gcc-12`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			if err := os.MkdirAll(cache, 0o755); err != nil {
				return err
			}
			logPath := filepath.Join(cache, "demo-bulk.log")
			log, err := buildlog.Create(logPath)
			if err != nil {
				return err
			}
			defer log.Close()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "demo bulk: %s (log %s)\n", dir, logPath)
			start := time.Now()
			built, err := demo.Bulk(cmd.Context(), runner.New(log), dir, cache, int64(size), bump)
			if err != nil {
				return err
			}
			what := "up to date"
			if built {
				what = "built"
			}
			fmt.Fprintf(out, "demo bulk: %s in %s\n", what, time.Since(start).Round(10*time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&cache, "cache", defaultCache, "cache for Debian packages and build scratch space")
	cmd.Flags().Var(&size, "size", "installed size to reach (512MiB, 1GiB, …)")
	cmd.Flags().StringArrayVar(&bump, "bump", nil, "bulk package (Debian name) to add a newer version of")
	return cmd
}
