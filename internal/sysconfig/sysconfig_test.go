package sysconfig

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fbs/internal/fbstest"
	"fbs/internal/kickstart"
)

// TestSteps: the Fedora-shaped spin's installed-system commands, as the
// steps that apply them (golden). Passwords never reach a command line.
func TestSteps(t *testing.T) {
	lines, err := kickstart.Flatten(context.Background(), &kickstart.FileLoader{Dir: "../kickstart/testdata/fedora"}, "spin.ks")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := kickstart.Parse(append(lines, kickstart.Line{Text: "sshkey --username=liveuser \"ssh-ed25519 AAAA live@example\""},
		kickstart.Line{Text: "%certificate --filename=corp.pem --type=anchor"}, kickstart.Line{Text: "-----BEGIN CERTIFICATE-----"}, kickstart.Line{Text: "%end"}))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range Steps(ks.System) {
		switch {
		case s.IsCommand():
			fmt.Fprintf(&b, "run %q", s.Args)
			if s.Requires != "" {
				fmt.Fprintf(&b, " if %s", s.Requires)
			}
			if s.MayFail {
				b.WriteString(" (may fail)")
			}
			if s.Stdin != "" {
				b.WriteString(" <stdin>")
				if strings.Contains(strings.Join(s.Args, " "), "live") {
					t.Errorf("a password on a command line: %q", s.Args)
				}
			}
		case s.Key != "":
			fmt.Fprintf(&b, "set %s=%s in %s", s.Key, s.Value, s.Path)
		default:
			fmt.Fprintf(&b, "write %s %#o append=%v:\n%s", s.Path, s.Mode, s.Append, s.Content)
		}
		fmt.Fprintf(&b, "   # %s\n", s.Why)
	}
	fbstest.Golden(t, "spin-steps", b.String())
}

// TestWrite applies file steps to a temp dir root: files written, a key
// replaced in place, an append, and a symlinked dir in the root refused.
func TestWrite(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/selinux"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/selinux/config"), []byte("# c\nSELINUX=enforcing\nSELINUXTYPE=targeted\n"), 0o644)
	sys := kickstart.System{SELinux: "permissive", Lang: &kickstart.Lang{Lang: "de_DE.UTF-8"}, Hostname: "live",
		SSHKeys: []kickstart.SSHKey{{User: "root", Key: "k1"}, {User: "root", Key: "k2"}}}
	for _, s := range Steps(sys) {
		if !s.IsCommand() {
			if err := Write(root, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]string{
		"etc/selinux/config":        "# c\nSELINUX=permissive\nSELINUXTYPE=targeted\n",
		"etc/locale.conf":           "LANG=\"de_DE.UTF-8\"\n",
		"etc/hostname":              "live\n",
		"root/.ssh/authorized_keys": "k1\nk2\n",
	}
	for name, text := range want {
		if got, _ := os.ReadFile(filepath.Join(root, name)); string(got) != text {
			t.Errorf("%s: %q, want %q", name, got, text)
		}
	}
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(root, "etc/X11"))
	err := Write(root, Step{Path: "/etc/X11/xorg.conf.d/00-keyboard.conf", Content: "x", Mode: 0o644, Why: "keyboard"})
	if err == nil {
		t.Error("wrote through a symlink in the root")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote outside the root: %v", entries)
	}
}
