package cli

import (
	"bytes"
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

	"fbs/internal/api"
	"fbs/internal/publish"
	"fbs/internal/store"
)

func statusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a build on the server: state, stages, worker, error, artifacts, boot test",
		Example: `  fbs status 20261130-035639-live-x86_64-cbf80e
  fbs status --json 20261130-035639-live-x86_64-cbf80e | jq -r .state`,
		Args: exactArgs(1),
	}
	server := serverFlag(cmd)
	asJSON := cmd.Flags().Bool("json", false, "print the API's JSON (for scripts)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c := newClient(server)
		if *asJSON {
			var b json.RawMessage
			if err := c.do(cmd.Context(), "GET", "/api/v1/builds/"+args[0], "", nil, &b); err != nil {
				return err
			}
			var out bytes.Buffer
			json.Indent(&out, b, "", "  ")
			fmt.Fprintln(cmd.OutOrStdout(), out.String())
			return nil
		}
		v, err := c.view(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		summary(cmd.OutOrStdout(), c, v)
		return nil
	}
	return cmd
}

func listCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the server's builds, newest first",
		Example: `  fbs list --state failed
  fbs list --type live --arch x86_64 --release 40 --requester alice --limit 10`,
		Args: exactArgs(0),
	}
	server := serverFlag(cmd)
	var f store.Filter
	fl := cmd.Flags()
	fl.StringVar(&f.State, "state", "", "only builds in this state: "+statesList())
	fl.StringVar(&f.Type, "type", "", "only images of this type: boot, dvd, live")
	fl.StringVar(&f.Arch, "arch", "", "only builds for this arch")
	fl.StringVar(&f.Release, "release", "", "only builds for this release")
	fl.StringVar(&f.Requester, "requester", "", "only this user's builds")
	fl.IntVar(&f.Limit, "limit", 50, "how many")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := api.CheckFilter(f); err != nil {
			return usageError{fmt.Errorf("--%w", err)}
		}
		q := url.Values{"limit": {fmt.Sprint(f.Limit)}}
		for k, v := range map[string]string{"state": f.State, "type": f.Type, "arch": f.Arch, "release": f.Release, "requester": f.Requester} {
			if v != "" {
				q.Set(k, v)
			}
		}
		var res struct{ Builds []*api.Build }
		if err := newClient(server).do(cmd.Context(), "GET", "/api/v1/builds?"+q.Encode(), "", nil, &res); err != nil {
			return err
		}
		w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tSTATE\tTYPE\tARCH\tRELEASE\tLABEL\tSTAGE\tTOOK\tCREATED\tERROR")
		for _, b := range res.Builds {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.State, b.Type, b.Arch, b.Release, cmp.Or(b.Label, "—"), cmp.Or(b.Stage, "—"),
				took(b.Build), b.Created.Local().Format(time.DateTime), cut(cmp.Or(b.Error, b.Waiting), 60))
		}
		return w.Flush()
	}
	return cmd
}

func statesList() string {
	var s []string
	for _, st := range api.States {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}

func cancelCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cancel ID", Short: "Cancel a build on the server", Example: `  fbs cancel 20261130-035639-live-x86_64-cbf80e`, Args: exactArgs(1)}
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
	cmd := &cobra.Command{
		Use:   "logs ID",
		Short: "Print a build's log; -f follows the build as a stage table",
		Example: `  fbs logs 20261130-035639-live-x86_64-cbf80e
  fbs logs -f 20261130-035639-live-x86_64-cbf80e
  fbs logs -f --raw 20261130-035639-live-x86_64-cbf80e`,
		Args: exactArgs(1),
	}
	server := serverFlag(cmd)
	follow := cmd.Flags().BoolP("follow", "f", false, "follow the build until it ends: its stages, then what it made")
	raw := cmd.Flags().Bool("raw", false, "with -f, print the log as it is instead of the stage table")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c := newClient(server)
		if *follow {
			return watch(cmd, c, args[0], *raw)
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
	cmd := &cobra.Command{Use: "download ID", Short: "Download a build's artifacts (resuming partial files)", Example: `  fbs download 20261130-035639-live-x86_64-cbf80e --dir ~/isos`, Args: exactArgs(1)}
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
			fmt.Fprintf(cmd.OutOrStdout(), "%s (%s)\n", dst, publish.HumanSize(a.Size))
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
	cmd := &cobra.Command{Use: "workers", Short: "List the server's workers: what they build, their state and counts", Example: `  fbs workers --server https://fbs.example.org`, Args: exactArgs(0)}
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
	cmd := &cobra.Command{Use: "restage ID", Short: "Publish a finished build's artifacts again, from the server's store to its staging target", Example: `  fbs restage 20261130-035639-live-x86_64-cbf80e`, Args: exactArgs(1)}
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
