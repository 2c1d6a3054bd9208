package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"fbs/internal/egress"
	"fbs/internal/kickstart"
)

// netsFlag is --allow-net: the networks a request's URLs may reach beyond
// public addresses, each checked as it is set (so fbs config check and
// a SIGHUP say what is wrong).
type netsFlag struct {
	policy egress.Policy
	text   []string
}

func allowNetFlag(cmd *cobra.Command, n *netsFlag) {
	cmd.Flags().Var(n, "allow-net", "networks (CIDR) or addresses a request's URLs (webhook, kickstart, %include) may reach besides public ones, e.g. an internal mirror's 10.1.0.0/16; repeat for several. This machine's own addresses stay refused, loopback unless listed")
}

func (n *netsFlag) String() string { return "[" + strings.Join(n.text, ",") + "]" }

// Type is pflag's for string lists: the configuration's example and
// help show it as one.
func (n *netsFlag) Type() string { return "stringSlice" }

func (n *netsFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if err := n.Append(v); err != nil {
			return err
		}
	}
	return nil
}

func (n *netsFlag) Append(v string) error {
	p, err := egress.Parse([]string{strings.TrimSpace(v)})
	if err != nil {
		return err
	}
	n.policy.Allow = append(n.policy.Allow, p.Allow...)
	n.text = append(n.text, strings.TrimSpace(v))
	return nil
}

func (n *netsFlag) Replace(vs []string) error {
	*n = netsFlag{}
	for _, v := range vs {
		if err := n.Append(v); err != nil {
			return err
		}
	}
	return nil
}

func (n *netsFlag) GetSlice() []string { return n.text }

// loader reads a service build's kickstart: no file of this machine's,
// URLs only where the policy allows.
func (n *netsFlag) loader() *kickstart.FileLoader {
	return &kickstart.FileLoader{NoLocal: true, Egress: &n.policy}
}
