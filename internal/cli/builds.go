package cli

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"fbs/internal/stage"
	"fbs/internal/store"
)

func statusCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "status ID", Short: "Show a build on the server", Args: exactArgs(1)}
	server := serverFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		b, err := newClient(server).build(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		out, _ := json.MarshalIndent(b, "", "  ")
		fmt.Fprintln(cmd.OutOrStdout(), string(out))
		return nil
	}
	return cmd
}

func listCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "list", Short: "List the server's builds, newest first", Args: exactArgs(0)}
	server := serverFlag(cmd)
	state := cmd.Flags().String("state", "", "only builds in this state")
	limit := cmd.Flags().Int("limit", 50, "how many")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		q := url.Values{"limit": {fmt.Sprint(*limit)}}
		if *state != "" {
			q.Set("state", *state)
		}
		var res struct{ Builds []*store.Build }
		if err := newClient(server).do(cmd.Context(), "GET", "/api/v1/builds?"+q.Encode(), "", nil, &res); err != nil {
			return err
		}
		w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tSTATE\tTYPE\tARCH\tRELEASE\tSTAGE\tCREATED")
		for _, b := range res.Builds {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.State, b.Type, b.Arch, b.Release, b.Stage, b.Created.Local().Format(time.DateTime))
		}
		return w.Flush()
	}
	return cmd
}

func cancelCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cancel ID", Short: "Cancel a build on the server", Args: exactArgs(1)}
	server := serverFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var b store.Build
		if err := newClient(server).do(cmd.Context(), "POST", "/api/v1/builds/"+args[0]+"/cancel", "", nil, &b); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "fbs: build %s %s (cancel asked)\n", b.ID, b.State)
		return nil
	}
	return cmd
}

func logsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "logs ID", Short: "Print a build's log; -f follows it", Args: exactArgs(1)}
	server := serverFlag(cmd)
	follow := cmd.Flags().BoolP("follow", "f", false, "follow the log until the build ends")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c := newClient(server)
		if *follow {
			state, err := c.follow(cmd.Context(), args[0], cmd.OutOrStdout())
			if err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "fbs: build %s %s\n", args[0], state)
			}
			return err
		}
		req, err := c.request(cmd.Context(), "GET", "/api/v1/builds/"+args[0]+"/log", nil)
		if err != nil {
			return err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &serverError{Status: resp.StatusCode, Msg: resp.Status}
		}
		_, err = io.Copy(cmd.OutOrStdout(), resp.Body)
		return err
	}
	return cmd
}

func downloadCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "download ID", Short: "Download a build's artifacts (resuming partial files)", Args: exactArgs(1)}
	server := serverFlag(cmd)
	dir := cmd.Flags().String("dir", ".", "where the files go")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c := newClient(server)
		b, err := c.build(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		var arts []struct {
			Name string `json:"name"`
			Size int64  `json:"size"`
			URL  string `json:"url"`
		}
		if len(b.Artifacts) > 0 {
			if err := json.Unmarshal(b.Artifacts, &arts); err != nil {
				return err
			}
		}
		if len(arts) == 0 {
			return fmt.Errorf("build %s (%s) has no artifacts", b.ID, b.State)
		}
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			return err
		}
		for _, a := range arts {
			dst := filepath.Join(*dir, filepath.Base(a.Name))
			if err := c.fetch(cmd, a.URL, dst); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s (%s)\n", dst, stage.HumanSize(a.Size))
		}
		return nil
	}
	return cmd
}

// fetch downloads url to dst through dst.part, resuming a partial one.
func (c *client) fetch(cmd *cobra.Command, url, dst string) error {
	part := dst + ".part"
	f, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	st, _ := f.Stat()
	req, err := c.request(cmd.Context(), "GET", url, nil)
	if err != nil {
		return err
	}
	if st.Size() > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", st.Size()))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		if err := f.Truncate(0); err != nil {
			return err
		}
	case http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable:
	default:
		return &serverError{Status: resp.StatusCode, Msg: url + ": " + resp.Status}
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(part, dst)
}

func workersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "workers", Short: "List the server's workers: what they build, their state and counts", Args: exactArgs(0)}
	server := serverFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var res struct{ Workers []*store.Worker }
		if err := newClient(server).do(cmd.Context(), "GET", "/api/v1/workers", "", nil, &res); err != nil {
			return err
		}
		orAny := func(l []string) string { return cmp.Or(strings.Join(l, ","), "any") }
		w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tSTATE\tARCHES\tRELEASES\tTYPES\tSLOTS\tRUNNING\tSUCCEEDED\tFAILED\tLAST SEEN\tVERSION")
		for _, wk := range res.Workers {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s ago\t%s\n", wk.Name, wk.State, orAny(wk.Arches), orAny(wk.Releases), orAny(wk.Types),
				wk.Slots, wk.Running, wk.Succeeded, wk.Failed, time.Since(wk.LastSeen).Round(time.Second), wk.Version)
		}
		return w.Flush()
	}
	return cmd
}

func restageCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "restage ID", Short: "Stage a finished build's artifacts again, from the server's store to its staging target", Args: exactArgs(1)}
	server := serverFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var b store.Build
		if err := newClient(server).do(cmd.Context(), "POST", "/api/v1/builds/"+args[0]+"/restage", "", nil, &b); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "fbs: build %s staged; it is %s\n", b.ID, b.State)
		return nil
	}
	return cmd
}
