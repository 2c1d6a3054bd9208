package sysconfig

import (
	"context"
	"fmt"
	"github.com/go-crypt/crypt/algorithm/shacrypt"
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
	steps, err := Steps(ks.System)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
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
	steps, err := Steps(sys)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
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
	err = Write(root, Step{Path: "/etc/X11/xorg.conf.d/00-keyboard.conf", Content: "x", Mode: 0o644, Why: "keyboard"})
	if err == nil {
		t.Error("wrote through a symlink in the root")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote outside the root: %v", entries)
	}
}

// TestPasswords: a plain password reaches chpasswd -e as a SHA-512 crypt
// hash of itself, never as its text; a crypted one as written.
func TestPasswords(t *testing.T) {
	cases := map[string]struct {
		pw   kickstart.Password
		want func(hash string) bool
	}{
		"plain": {kickstart.Password{Password: "s3cret"}, func(h string) bool {
			d, err := shacrypt.Decode(h)
			return err == nil && strings.HasPrefix(h, "$6$") && d.Match("s3cret") && !strings.Contains(h, "s3cret")
		}},
		"crypted": {kickstart.Password{Password: "$6$salt$abc", IsCrypted: true}, func(h string) bool { return h == "$6$salt$abc" }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			steps, err := Steps(kickstart.System{RootPW: &tc.pw})
			if err != nil {
				t.Fatal(err)
			}
			if len(steps) != 1 || strings.Join(steps[0].Args, " ") != "chpasswd -e" {
				t.Fatalf("steps %+v", steps)
			}
			hash, ok := strings.CutPrefix(strings.TrimSuffix(steps[0].Stdin, "\n"), "root:")
			if !ok || !tc.want(hash) {
				t.Errorf("chpasswd's input %q", steps[0].Stdin)
			}
		})
	}
}
