package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"fbs/internal/kickstart"
	"fbs/internal/spec"
	"fbs/internal/store"
)

func submitCmd() *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "submit SPEC",
		Short: "Send a request to an fbs server",
		Long: `Checks SPEC (the seed's INI or JSON) here, puts a local kickstart into the
request (its %include flattened), and sends it to the server. With --wait it
follows the build log and exits 0 if the build succeeded, 1 if not.`,
		Args: exactArgs(1),
	}
	server := serverFlag(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the build's log until it ends")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		req, err := spec.Load(args[0])
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
		fmt.Fprintf(out, "fbs: build %s %s: %s/api/v1/builds/%s\n", b.ID, b.State, c.base, b.ID)
		if !wait {
			return nil
		}
		state, err := c.follow(cmd.Context(), b.ID, out)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "fbs: build %s %s\n", b.ID, state)
		if state != store.Succeeded {
			return fmt.Errorf("build %s %s", b.ID, state)
		}
		return nil
	}
	return cmd
}

// inlineKickstart reads a kickstart the request names by path, with its
// %include flattened, into the request: the server reads no local files.
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
	if *text != "" || *config == "" || strings.Contains(*config, "://") {
		return nil
	}
	lines, err := kickstart.Flatten(cmd.Context(), &kickstart.FileLoader{Dir: req.Dir}, *config)
	if err != nil {
		return err
	}
	*text = kickstart.Text(lines)
	return nil
}
