package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := Run(context.Background(), args, &out, &out)
	return code, out.String()
}

func TestExitStatuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\ncolour=blue\n[live]\nconfig=x.ks\n"), 0o644)
	ks := filepath.Join(dir, "my.ks")
	os.WriteFile(ks, []byte("url --url=http://example.org/\n%packages\nkernel\n%end\n"), 0o644)
	noKS := filepath.Join(dir, "noks.conf")
	os.WriteFile(noKS, []byte("[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=nope.ks\n"), 0o644)
	open := filepath.Join(dir, "open.conf")
	os.WriteFile(open, []byte("[DEFAULT]\ntype=live\narch=x86_64\nrelease=40\n[live]\nconfig=open.ks\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "open.ks"), []byte("url --url=http://example.org/\n%packages\nkernel\n"), 0o644)
	tests := map[string]struct {
		args []string
		code int
		want string
	}{
		"unknown command":       {[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		"unknown flag":          {[]string{"build", "--colour", "x.conf"}, 2, "unknown flag: --colour"},
		"missing argument":      {[]string{"build"}, 2, "accepts 1 arg(s), received 0"},
		"missing spec":          {[]string{"build", filepath.Join(dir, "nope.conf")}, 2, "nope.conf: cannot read the request"},
		"bad spec":              {[]string{"build", bad}, 2, "bad.conf:5: colour: unknown key in [DEFAULT]"},
		"bad boot firmware":     {[]string{"boot-test", "--timeout", "1s", "x.iso", "--uefi=maybe"}, 2, "invalid argument"},
		"bad demo type":         {[]string{"demo", "request", dir, "--type", "usb"}, 2, `the demo has live, boot and dvd requests, not "usb"`},
		"version":               {[]string{"version"}, 0, "fbs dev"},
		"kickstart as spec":     {[]string{"build", ks}, 2, "my.ks is a kickstart; fbs takes a request that names it"},
		"submit no kickstart":   {[]string{"submit", noKS, "--server", "http://127.0.0.1:1"}, 2, "noks.conf: config: cannot read the kickstart"},
		"submit open packages":  {[]string{"submit", open, "--server", "http://127.0.0.1:1"}, 2, "open.ks:2: %packages has no %end"},
		"list bad state":        {[]string{"list", "--state", "bogus", "--server", "http://127.0.0.1:1"}, 2, `--state: "bogus" is no state`},
		"demo request":          {[]string{"demo", "request", dir, "--type", "dvd", "--cache", "/srv/c"}, 0, filepath.Join(dir, "dvd.conf")},
		"boot-test no iso":      {[]string{"boot-test", filepath.Join(dir, "none.iso"), "--log-dir", dir}, 1, "none.iso: no such file or directory"},
		"bad service boot test": {[]string{"serve", "--boot-test=coreboot"}, 2, `unknown firmware "coreboot"`},
		"login half set": {[]string{"serve", "--data", dir, "--workers", "0", "--listen", "127.0.0.1:0", "--oidc-issuer", "http://127.0.0.1:1"}, 2,
			"--oidc-issuer needs --oidc-client-id and --oidc-client-secret-file"},
		"login secret missing": {[]string{"serve", "--data", dir, "--workers", "0", "--listen", "127.0.0.1:0", "--oidc-issuer", "http://127.0.0.1:1",
			"--oidc-client-id", "fbs", "--oidc-client-secret-file", filepath.Join(dir, "none")}, 1, "--oidc-client-secret-file: "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, out := run(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("fbs %s: exit %d, want %d; output:\n%s\nwant it to hold %q", strings.Join(tc.args, " "), code, tc.code, out, tc.want)
			}
		})
	}
}

func TestBootFlags(t *testing.T) {
	f := bootFlags{firmware: "bios,uefi", expect: []string{"x"}, timeout: time.Minute}
	opts := f.options()
	if len(opts) != 2 || opts[0].UEFI || !opts[1].UEFI || opts[1].Expect[0] != "x" {
		t.Errorf("%+v", opts)
	}
	if err := f.firmware.Set("coreboot"); err == nil {
		t.Error("unknown firmware accepted")
	}
}

func TestTerminalReporter(t *testing.T) {
	var out bytes.Buffer
	term := newTerminal(&out) // not a terminal: no progress redraws
	term.StageStart("packages")
	term.StageProgress("packages", "installing", 3, 8)
	term.StageDone("packages", 1500*time.Millisecond, "8 packages", nil)
	term.StageDone("iso", time.Second, "", os.ErrNotExist)
	want := "  packages       1.5s  8 packages\n  iso            1.0s  FAILED\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	if bar(3, 8, 8) != "[###·····]" || bar(1, 0, 8) != "" {
		t.Errorf("bar %q", bar(3, 8, 8))
	}
}
