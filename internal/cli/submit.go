package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"fbs/internal/kickstart"
	"fbs/internal/spec"
	"fbs/internal/store"
)

func submitCmd() *cobra.Command {
	var wait, raw bool
	cmd := &cobra.Command{
		Use:   "submit SPEC",
		Short: "Send a request to an fbs server",
		Long: `Checks SPEC (the seed's INI or JSON) and its kickstart here, as fbs build
does, puts a local kickstart into the request (its %include flattened), and
sends it to the server. With --wait it follows the build as a table of its
stages (--raw: the log itself), then prints its artifacts with their sha256,
the build's page and the command that downloads them; it exits 0 if the build
succeeded, 1 if not, 2 if the request is at fault.`,
		Example: `  fbs demo request /tmp/req --type live     # a request to start from
  fbs submit /tmp/req/live.conf --wait
  fbs submit --server https://fbs.example.org --token-file ~/.fbs-token req.json`,
		Args: exactArgs(1),
	}
	server := serverFlag(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the build until it ends")
	cmd.Flags().BoolVar(&raw, "raw", false, "with --wait, print the build log as it is instead of the stage table")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		req, err := loadRequest(args[0])
		if err != nil {
			return err
		}
		if err := inlineKickstart(cmd, req); err != nil {
			return err
		}
		body, err := json.Marshal(req)
		if err != nil {
			return err
		}
		c := newClient(server)
		var b store.Build
		if err := c.do(cmd.Context(), "POST", "/api/v1/builds", "application/json", bytes.NewReader(body), &b); err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		fmt.Fprintf(out, "fbs: build %s %s: %s/builds/%s\n", b.ID, b.State, c.base, b.ID)
		if b.Waiting != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "fbs: warning: it waits: %s\n", b.Waiting)
		}
		if !wait {
			return nil
		}
		return watch(cmd, c, b.ID, raw)
	}
	return cmd
}

// loadRequest reads SPEC, telling a kickstart given in its place what
// fbs wants instead.
func loadRequest(path string) (*spec.Request, error) {
	req, err := spec.Load(path)
	if err != nil && looksLikeKickstart(path) {
		return nil, usageError{fmt.Errorf("%s is a kickstart; fbs takes a request that names it (the seed's INI: [DEFAULT] type=live … and [live] config=%s): fbs demo request DIR writes one to start from", path, filepath.Base(path))}
	}
	return req, err
}

func looksLikeKickstart(path string) bool {
	if strings.HasSuffix(path, ".ks") || strings.HasSuffix(path, ".cfg") {
		return true
	}
	data, err := os.ReadFile(path)
	return err == nil && (bytes.Contains(data, []byte("\n%packages")) || bytes.HasPrefix(data, []byte("%packages")))
}

// inlineKickstart reads and checks the request's kickstart as the build
// will (kickstart.Read), and puts a local one into the request, %include
// flattened: the server reads no local files.
func inlineKickstart(cmd *cobra.Command, req *spec.Request) error {
	var config, text *string
	switch {
	case req.Live != nil:
		config, text = &req.Live.Config, &req.Live.Kickstart
	case req.DVD != nil:
		config, text = &req.DVD.Config, &req.DVD.Kickstart
	default:
		return nil
	}
	local := *text == "" && *config != "" && !strings.Contains(*config, "://")
	if local {
		path := *config
		if !filepath.IsAbs(path) {
			path = filepath.Join(req.Dir, path)
		}
		if _, err := os.Stat(path); err != nil {
			return &spec.Error{File: req.Source, Key: "config", Msg: fmt.Sprintf("cannot read the kickstart: %v", err)}
		}
	}
	l := &kickstart.FileLoader{Dir: req.Dir}
	if _, err := kickstart.Read(cmd.Context(), l, *config, *text); err != nil {
		return err
	}
	if !local {
		return nil
	}
	lines, err := kickstart.Flatten(cmd.Context(), l, *config)
	if err != nil {
		return err
	}
	*text = kickstart.Text(lines)
	return nil
}
