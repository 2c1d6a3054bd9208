package cli

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestMemorySize: --memory takes a size or a share of the host's RAM, and
// says it as it was given.
func TestMemorySize(t *testing.T) {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		t.Fatal(err)
	}
	ram := int64(si.Totalram) * int64(si.Unit)
	tests := map[string]struct {
		in, str string
		want    int64
		bad     bool
	}{
		"size":       {in: "4G", str: "3.7 GiB", want: 4e9},
		"none":       {in: "0", str: "0", want: 0},
		"half":       {in: "50%", str: "50%", want: ram / 2},
		"all":        {in: "100%", str: "100%", want: ram},
		"too much":   {in: "150%", bad: true},
		"no share":   {in: "0%", bad: true},
		"not a size": {in: "lots%", bad: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var n int64
			m := &memorySize{dst: &n}
			err := m.Set(tc.in)
			if tc.bad {
				if err == nil {
					t.Errorf("%s taken as %d", tc.in, n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := n - tc.want; d < -1 || d > 1 || m.String() != tc.str {
				t.Errorf("%s: %d bytes, %q; want %d, %q", tc.in, n, m.String(), tc.want, tc.str)
			}
		})
	}
}
