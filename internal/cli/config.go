package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"fbs/internal/config"
)

func configFlag(cmd *cobra.Command) {
	cmd.Flags().String("config", "", "configuration file ($FBS_CONFIG; default "+config.DefaultPath+" when it exists)")
}

// loadConfig fills the flags not given on the command line from the
// environment and the configuration file's section.
func loadConfig(cmd *cobra.Command, section string) error {
	var f *config.File
	if path := configPath(cmd.Flags()); path != "" {
		var err error
		if f, err = config.Load(path); err != nil {
			return configError(err)
		}
	}
	return configError(f.Apply(cmd.Flags(), section, os.Getenv))
}

// configPath is the configuration file fl's command reads: --config's,
// $FBS_CONFIG's or the default one where it exists; "" for none.
func configPath(fl *pflag.FlagSet) string {
	path, _ := fl.GetString("config")
	if path == "" {
		path = os.Getenv("FBS_CONFIG")
	}
	if path == "" {
		if _, err := os.Stat(config.DefaultPath); err == nil {
			path = config.DefaultPath
		}
	}
	return path
}

// configError makes a bad configuration a usage error (exit status 2).
func configError(err error) error {
	if err == nil {
		return nil
	}
	var ps config.Problems
	if errors.As(err, &ps) {
		return usageError{fmt.Errorf("invalid configuration:\n%w", err)}
	}
	return usageError{err}
}

// sections are the file's tables with the flags of their commands.
func sections() []config.Section {
	return []config.Section{
		{Name: "server", Command: "fbs serve", Flags: serveCmd().Flags()},
		{Name: "worker", Command: "fbs worker", Flags: workerCmd().Flags()},
	}
}

func configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check, show and import fbs's configuration file",
		Long: `fbs serve reads the [server] table of the configuration file, fbs worker the [worker]
table; each key is a flag of the command. FBS_<KEY> environment variables override the file, and
flags on the command line override both.`,
	}
	check := &cobra.Command{
		Use:   "check",
		Short: "Check a configuration file (with the environment), printing every problem with its key and line",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, _ := cmd.Flags().GetString("config")
			if path == "" {
				path = config.DefaultPath
			}
			f, err := config.Load(path)
			if err != nil {
				return configError(err)
			}
			var all config.Problems
			for _, s := range sections() {
				var ps config.Problems
				if errors.As(f.Apply(s.Flags, s.Name, os.Getenv), &ps) {
					all = append(all, ps...)
				}
			}
			if len(all) > 0 {
				return configError(all)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "fbs: %s is valid\n", path)
			return nil
		},
	}
	configFlag(check)
	example := &cobra.Command{
		Use:   "example",
		Short: "Print a commented configuration with every key and its default",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(cmd.OutOrStdout(), config.Example(sections()))
			return nil
		},
	}
	var dir string
	imp := &cobra.Command{
		Use:   "import DEPLOY.CONF",
		Short: "Write server and worker configurations equivalent to the 2012 service's deploy.conf",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return usageError{err}
			}
			files, err := config.Import(filepath.Base(args[0]), data)
			if err != nil {
				return usageError{err}
			}
			names := make([]string, 0, len(files))
			for name := range files {
				names = append(names, name)
			}
			sort.Strings(names)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			for _, key := range names {
				name, secret := strings.CutPrefix(key, config.SecretPrefix)
				mode := os.FileMode(0o644)
				if secret {
					mode = 0o600
				}
				path := filepath.Join(dir, name)
				f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
				if err != nil {
					return fmt.Errorf("%w (nothing is overwritten)", err)
				}
				_, err = f.WriteString(files[key])
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "fbs: wrote %s\n", path)
			}
			return nil
		},
	}
	imp.Flags().StringVar(&dir, "dir", ".", "where to write the configurations")
	cmd.AddCommand(check, example, imp)
	return cmd
}

// reparse reads this process's command line again into flags that
// register makes, then the configuration file and the environment, and
// returns them.
func reparse(register func(*cobra.Command), section string) (*pflag.FlagSet, error) {
	c := &cobra.Command{}
	register(c)
	if err := c.ParseFlags(os.Args[2:]); err != nil {
		return nil, err
	}
	return c.Flags(), loadConfig(c, section)
}

// onHUP calls reload on each SIGHUP until ctx ends; a configuration it
// refuses leaves the running settings as they are.
func onHUP(ctx context.Context, log *slog.Logger, reload func() error) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := reload(); err != nil {
					log.Error("SIGHUP: configuration refused; the running settings stay", "err", err)
				} else {
					log.Info("SIGHUP: configuration re-read; builds from now on use it")
				}
			}
		}
	}()
}
