package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"fbs/internal/build"
	"fbs/internal/dnf"
)

func planCmd() *cobra.Command {
	var (
		asJSON  bool
		backend string
		dnfV    int
	)
	cmd := &cobra.Command{
		Use:   "plan SPEC",
		Short: "Show what a build of a request would do, without doing it",
		Long: `Reads the request and its kickstart (%include flattened) and shows what
fbs build would do with them: the dnf transaction in dnf's syntax
(@environment, @groups, names, --exclude, options), the repos, the %post
scripts, the installed system's configuration and how it is applied, the
image, and the stages with what each reads, runs and produces. Nothing is
downloaded or installed. --json is stable: fields are added, never renamed.`,
		Example: `  fbs plan live.conf
  fbs plan live.conf --json | jq '.packages.install'
  fbs plan dvd.conf --dnf 5`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := loadRequest(args[0])
			if err != nil {
				return err
			}
			if dnfV != 0 && dnfV != 4 && dnfV != 5 {
				return usageError{fmt.Errorf("--dnf %d: 4 or 5", dnfV)}
			}
			d, err := build.Describe(cmd.Context(), req, build.Options{Backend: backend}, dnf.Version(dnfV))
			if err != nil {
				return err
			}
			if !asJSON {
				_, err = fmt.Fprint(cmd.OutOrStdout(), d.Text())
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(d)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print the plan as JSON")
	fl.StringVar(&backend, "backend", "native", "builder the plan is for: native, lorax, livemedia-creator or pungi")
	fl.IntVar(&dnfV, "dnf", 0, "plan for dnf 4 or 5 (default: the host's dnf)")
	return cmd
}
