// Package cli is fbs's command line: one file per subcommand.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses, as DESIGN.md §6 has them.
const (
	exitOK       = 0
	exitFailed   = 1
	exitBadInput = 2
)

// Defaults for the directories fbs keeps between builds.
const (
	defaultCache = "/var/cache/fbs"
	defaultWork  = "/var/tmp/fbs"
)

// Run runs the fbs command line and returns the exit status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:           "fbs",
		Short:         "fbs builds Fedora boot, DVD and live images on demand",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	plainHelp(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	demo := demoCmd()
	demo.AddCommand(demoBulkCmd())
	root.AddCommand(buildCmd(), demo, bootTestCmd(), doctorCmd(), versionCmd(),
		serveCmd(), workerCmd(), tokenCmd(), submitCmd(), statusCmd(), listCmd(), cancelCmd(), logsCmd(), downloadCmd(), workersCmd(), configCmd(), restageCmd(), planCmd())
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var st exitStatus
	if errors.As(err, &st) {
		return int(st) // the child fbs (or the command) has said why
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "fbs: cancelled")
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "fbs: %v\n", err)
	var bad interface{ BadInput() bool }
	var usage usageError
	if errors.As(err, &bad) && bad.BadInput() || errors.As(err, &usage) || strings.HasPrefix(err.Error(), "unknown command") {
		return exitBadInput
	}
	return exitFailed
}

// exitStatus is the status of a child fbs that did the work.
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// usageError is a command line the user must correct.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// exactArgs is cobra.ExactArgs with the error marked as a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{fmt.Errorf("%w\nusage: %s", err, cmd.UseLine())}
		}
		return nil
	}
}
