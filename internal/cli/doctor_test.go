package cli

import (
	"strings"
	"testing"

	"fbs/internal/hostarch"
)

// TestArchState: fbs doctor says which arches this host builds, and why
// not the others.
func TestArchState(t *testing.T) {
	fakeBinfmt(t, nil)
	if got := archState(hostarch.Native()); got != "buildable (this host's own)" {
		t.Errorf("native: %s", got)
	}
	if got := archState(foreignArch()); !strings.HasPrefix(got, "not buildable: ") || !strings.Contains(got, "mount -t binfmt_misc") {
		t.Errorf("foreign without binfmt_misc: %s", got)
	}
	fakeBinfmt(t, map[string]string{"status": "enabled\n", "qemu-" + foreignArch(): "enabled\ninterpreter /bin/sh\nflags: PF\n"})
	if got := archState(foreignArch()); !strings.HasPrefix(got, "buildable: its programs run through qemu-user-static") {
		t.Errorf("foreign with binfmt_misc: %s", got)
	}
}
