package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// serviceLimits sets the defaults of fbs serve's and fbs worker's limits:
// they build strangers' kickstarts, which may fork or allocate without
// end (one %post ran 3,000 processes). Half the host's RAM for a build
// leaves the server, its other slots and the page cache room; 4096
// processes are ten times what a DVD build runs at once. fbs build, a
// local tool building its user's own kickstart, has none by default.
func serviceLimits(cmd *cobra.Command) {
	for name, v := range map[string]string{"max-procs": "4096", "memory": "50%"} {
		fl := cmd.Flags().Lookup(name)
		if err := fl.Value.Set(v); err != nil {
			panic(fmt.Sprintf("--%s default %s: %v", name, v, err))
		}
		fl.DefValue = v
	}
}

// memorySize is the --memory flag: a size (4G, as byteSize) or a share of
// this host's RAM (50%), kept as given for --help and the configuration.
type memorySize struct {
	dst  *int64
	text string
}

func (m *memorySize) String() string {
	if m.text != "" {
		return m.text
	}
	return (*byteSize)(m.dst).String()
}

func (m *memorySize) Type() string { return "size" }

func (m *memorySize) Set(s string) error {
	pct, ok := strings.CutSuffix(s, "%")
	if !ok {
		m.text = ""
		return (*byteSize)(m.dst).Set(s)
	}
	n, err := strconv.ParseFloat(pct, 64)
	if err != nil || n <= 0 || n > 100 {
		return fmt.Errorf("%s: a share of the host's RAM is more than 0%% and at most 100%%", s)
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return fmt.Errorf("%s: the host's RAM: %w", s, err)
	}
	*m.dst = int64(float64(si.Totalram) * float64(si.Unit) * n / 100)
	m.text = s
	return nil
}
