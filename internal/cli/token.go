package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"fbs/internal/store"
)

func tokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make, list and revoke API tokens (on the server's store)",
		Long: `Worker tokens let fbs worker call the worker API, and nothing else; user tokens let the
CLI and REST clients call the user API, and nothing else. The store keeps only their hashes: a
token is shown once, when made. These commands open the server's store directly (--data or --db).`,
	}
	cmd.AddCommand(tokenCreateCmd(), tokenListCmd(), tokenRevokeCmd())
	return cmd
}

func tokenCreateCmd() *cobra.Command {
	var sf storeFlags
	var workerName, user string
	cmd := &cobra.Command{
		Use:   "create (--worker NAME | --user NAME)",
		Short: "Make a token and print it (only now)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			kind, name := store.WorkerToken, workerName
			switch {
			case (workerName == "") == (user == ""):
				return usageError{fmt.Errorf("give one of --worker NAME or --user NAME")}
			case user != "":
				kind, name = store.UserToken, user
			}
			return sf.with(cmd.Context(), func(st store.Store) error {
				secret, t, err := st.CreateToken(cmd.Context(), kind, name)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), secret)
				fmt.Fprintf(cmd.ErrOrStderr(), "fbs: %s token %s for %s; it is shown only now: keep it in a file only its user can read\n", kind, t.ID, name)
				return nil
			})
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&workerName, "worker", "", "a token for the worker of this name")
	cmd.Flags().StringVar(&user, "user", "", "a token for this user")
	return cmd
}

func tokenListCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var all []*store.Token
			err := sf.with(cmd.Context(), func(st store.Store) (err error) {
				all, err = st.Tokens(cmd.Context())
				return err
			})
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tKIND\tNAME\tCREATED\tREVOKED")
			for _, t := range all {
				revoked := "-"
				if t.Revoked != nil {
					revoked = t.Revoked.Local().Format(time.DateTime)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Kind, t.Name, t.Created.Local().Format(time.DateTime), revoked)
			}
			return w.Flush()
		},
	}
	sf.register(cmd)
	return cmd
}

func tokenRevokeCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "revoke ID|NAME",
		Short: "Revoke a token by id, or every token of a worker or user",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var n int
			err := sf.with(cmd.Context(), func(st store.Store) (err error) {
				n, err = st.RevokeToken(cmd.Context(), args[0])
				return err
			})
			if err != nil {
				return err
			}
			if n == 0 {
				return usageError{fmt.Errorf("no live token has id or name %q (fbs token list)", args[0])}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "fbs: %d token(s) revoked\n", n)
			return nil
		},
	}
	sf.register(cmd)
	return cmd
}
