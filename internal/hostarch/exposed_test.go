package hostarch

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExposed: an enabled F entry whose interpreter is neither immutable
// nor on a read-only mount is exposed; one without F, or disabled, or
// whose interpreter is immutable, is not.
func TestExposed(t *testing.T) {
	tmp := t.TempDir()
	interp := func(name string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, nil, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	entry := func(enabled, path, flags string) string {
		return enabled + "\ninterpreter " + path + "\nflags: " + flags + "\noffset 0\nmagic 7f454c46\n"
	}
	plain, link := interp("qemu-plain"), filepath.Join(tmp, "qemu-link")
	if err := os.Symlink("qemu-plain", link); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"status":       "enabled\n",
		"register":     "",
		"qemu-plain":   entry("enabled", plain, "PF"),
		"qemu-link":    entry("enabled", link, "F"),
		"qemu-nofix":   entry("enabled", interp("qemu-nofix"), "P"),
		"qemu-off":     entry("disabled", interp("qemu-off"), "PF"),
		"qemu-missing": entry("enabled", filepath.Join(tmp, "gone"), "PF"),
	}
	want := []string{"qemu-link (" + plain + ")", "qemu-plain (" + plain + ")"}
	immutable := interp("qemu-immutable")
	if out, err := exec.Command("chattr", "+i", immutable).CombinedOutput(); err == nil {
		t.Cleanup(func() { exec.Command("chattr", "-i", immutable).Run() })
		files["qemu-immutable"] = entry("enabled", immutable, "PF")
	} else {
		t.Logf("no immutable file here (%v: %s); that case is not checked", err, out)
	}
	dir := filepath.Join(tmp, "binfmt_misc")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, s := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FBS_BINFMT_MISC", dir)
	got := Exposed()
	if !slices.Equal(got, want) {
		t.Errorf("Exposed() = %q, want %q", got, want)
	}
	if err := ExposedError(got).Error(); !strings.Contains(err, "chattr +i") || !strings.Contains(err, "qemu-plain ("+plain+")") {
		t.Errorf("the error does not say what and how: %s", err)
	}
}
