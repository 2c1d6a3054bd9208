package hosttool

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCachedVersions(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	fake := filepath.Join(dir, "dnf")
	os.WriteFile(fake, []byte("#!/bin/sh\necho x >> "+calls+"\necho '4.99.1'\n"), 0o755)
	t.Setenv("FBS_DNF", fake)
	t.Setenv("FBS_MKSQUASHFS", filepath.Join(dir, "absent"))
	file := filepath.Join(dir, "versions.json")
	for i := 0; i < 2; i++ {
		got := CachedVersions(context.Background(), file, "dnf", "mksquashfs")
		if got["dnf"] != "4.99.1" || got["mksquashfs"] != "missing" {
			t.Errorf("run %d: %v", i, got)
		}
	}
	if n, _ := os.ReadFile(calls); strings.Count(string(n), "x") != 1 {
		t.Errorf("dnf asked %d times, want once", strings.Count(string(n), "x"))
	}
	os.WriteFile(fake, []byte("#!/bin/sh\necho '5.0.0'\n"), 0o755) // an upgrade changes the binary
	if got := CachedVersions(context.Background(), file, "dnf"); got["dnf"] != "5.0.0" {
		t.Errorf("after an upgrade: %v", got)
	}
}

func TestPathOverride(t *testing.T) {
	t.Setenv("FBS_GRUB_MKIMAGE", "/opt/grub/bin/grub2-mkimage")
	if p := Path("grub-mkimage"); p != "/opt/grub/bin/grub2-mkimage" {
		t.Errorf("Path = %s", p)
	}
}

func TestMissing(t *testing.T) {
	t.Setenv("FBS_XORRISOFS", "/nonexistent/xorrisofs")
	t.Setenv("FBS_MKSQUASHFS", "/bin/true")
	err := Missing("mksquashfs", "xorrisofs", "no-such-tool")
	want := "host tools missing: xorrisofs, no-such-tool (apt-get install xorriso; fbs doctor lists them all)"
	if err == nil || err.Error() != want {
		t.Errorf("Missing = %v, want %s", err, want)
	}
	if err := Missing("mksquashfs"); err != nil {
		t.Errorf("a present tool: %v", err)
	}
}
