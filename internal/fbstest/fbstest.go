// Package fbstest holds helpers shared by fbs's tests.
package fbstest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with the output the tests get")

// Golden compares got with testdata/NAME.golden, or writes it there with -update.
func Golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run go test -update if the change is meant):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// Lines renders command lines one argument per line, for readable golden files.
func Lines(cmds ...[]string) string {
	var b strings.Builder
	for i, c := range cmds {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(strings.Join(c, "\n"))
		b.WriteString("\n")
	}
	return b.String()
}

// Need reports a missing prerequisite: a skip locally, a failure in CI
// (CI=true), where every prerequisite must be installed.
func Need(t *testing.T, ok bool, what, install string) {
	t.Helper()
	NeedTB(t, ok, what, install)
}

// NeedTB is Need for tests and benchmarks alike.
func NeedTB(t testing.TB, ok bool, what, install string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing in CI (install: %s)", what, install)
	}
	t.Skipf("%s is missing; install it with: %s", what, install)
}

// NeedRoot requires root (mounts, namespaces, chroot).
func NeedRoot(t *testing.T) {
	t.Helper()
	Need(t, os.Geteuid() == 0, "root", "run the tests as root (sudo make test)")
}
