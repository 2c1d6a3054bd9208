// Package sysconfig applies what a kickstart says of the installed system
// (kickstart.System) to an image root, as anaconda does for a directory
// install (livemedia-creator --no-virt runs it) before %post. Steps makes
// the list of files to write and commands to run chrooted in the root,
// purely; Write writes the file steps; the build runs the command steps.
package sysconfig

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-crypt/crypt/algorithm/shacrypt"

	"fbs/internal/kickstart"
)

// Step is one thing to do to the root: a file to write, a KEY=value to
// set in a file, or a command to run chrooted in the root (symlinks too:
// made by ln in the root, they resolve as the image will).
type Step struct {
	// Path is the file's path in the root, absolute.
	Path string
	// Content is a whole file; Mode its mode.
	Content string
	Mode    uint32
	// Append adds Content to the file instead of replacing it.
	Append bool
	// Key and Value set "Key=Value" in the file at Path, replacing the
	// line that sets Key (anaconda edits /etc/selinux/config so).
	Key, Value string
	// Args is a command to run chrooted in the root.
	Args []string
	// Stdin is the command's input (chpasswd's "user:password" lines,
	// which are never in Args, so never in the build log).
	Stdin string
	// Requires, when set, is a path in the root without which the
	// command is skipped, with a note.
	Requires string
	// MayFail says the build goes on when the command fails, as anaconda
	// does (a service that is not installed).
	MayFail bool
	// Why says where the step comes from, for the build log.
	Why string
}

// IsCommand says the step is a command, for the build's runner.
func (s Step) IsCommand() bool { return len(s.Args) > 0 }

// Steps is what applying sys to a root takes, in anaconda's order
// (pyanaconda/modules/boss/installation.py): certificates, SELinux,
// timezone and NTP, services, language and keyboard, firewall, users,
// then what livecd-creator also did (hostname, default target).
func Steps(sys kickstart.System) ([]Step, error) {
	var out []Step
	for _, c := range sys.Certificates {
		out = append(out, certificate(c)...)
	}
	if sys.SELinux != "" {
		// modules/security/installation.py, ConfigureSELinuxTask.
		out = append(out, Step{Path: "/etc/selinux/config", Key: "SELINUX", Value: sys.SELinux, Why: "selinux --" + sys.SELinux})
	}
	out = append(out, timezone(sys)...)
	out = append(out, services(sys)...)
	out = append(out, locale(sys)...)
	if sys.Firewall != nil {
		out = append(out, firewall(*sys.Firewall)...)
	}
	accounts, err := users(sys)
	if err != nil {
		return nil, err
	}
	out = append(out, accounts...)
	if sys.Hostname != "" {
		// anaconda writes no hostname for a directory install; livecd-creator did.
		out = append(out, Step{Path: "/etc/hostname", Content: sys.Hostname + "\n", Mode: 0o644, Why: "network --hostname"})
	}
	if sys.StartX && !sys.SkipX {
		// core/configuration/system.py: the graphical target is the default.
		out = append(out, link("/usr/lib/systemd/system/graphical.target", "/etc/systemd/system/default.target", "xconfig --startxonboot"))
	}
	if len(sys.Authselect) > 0 {
		out = append(out, Step{Args: append([]string{"authselect"}, sys.Authselect...), Requires: "/usr/bin/authselect", Why: "authselect"})
	}
	return out, nil
}

func link(target, path, why string) Step {
	return Step{Args: []string{"ln", "-sfn", target, path}, Why: why}
}

// certificate installs a %certificate (modules/security/certificates.py).
func certificate(c kickstart.Certificate) []Step {
	if c.Anchor {
		return []Step{
			{Path: "/etc/pki/ca-trust/source/anchors/" + c.Filename, Content: c.Body, Mode: 0o644, Why: "%certificate --type anchor"},
			{Args: []string{"update-ca-trust", "extract"}, Requires: "/usr/bin/update-ca-trust", Why: "%certificate --type anchor"},
		}
	}
	return []Step{{Path: strings.TrimSuffix(c.Dir, "/") + "/" + c.Filename, Content: c.Body, Mode: 0o644, Why: "%certificate --dir"}}
}

// timezone links /etc/localtime and writes /etc/adjtime
// (modules/timezone/installation.py), and turns chronyd on or off.
func timezone(sys kickstart.System) []Step {
	var out []Step
	if tz := sys.Timezone; tz != nil && tz.Name != "" {
		clock := "LOCAL"
		if tz.UTC {
			clock = "UTC"
		}
		out = append(out,
			link("../usr/share/zoneinfo/"+tz.Name, "/etc/localtime", "timezone"),
			Step{Path: "/etc/adjtime", Content: "0.0 0 0.0\n0\n" + clock + "\n", Mode: 0o644, Why: "timezone"})
	}
	if sys.NTPDisabled {
		out = append(out, Step{Args: []string{"systemctl", "disable", "chronyd.service"}, Requires: "/usr/lib/systemd/system/chronyd.service", Why: "timesource --ntp-disable"})
	} else if len(sys.TimeSources) > 0 {
		var conf strings.Builder
		for _, s := range sys.TimeSources {
			kind, opts := "server", " iburst"
			if s.Pool {
				kind = "pool"
			}
			if s.NTS {
				opts += " nts"
			}
			fmt.Fprintf(&conf, "%s %s%s\n", kind, s.Host, opts)
		}
		// pyanaconda/ntp.py writes the servers into chrony.conf; a drop-in
		// of its own keeps the package's file as it is.
		out = append(out,
			Step{Path: "/etc/chrony.d/kickstart.conf", Content: conf.String(), Mode: 0o644, Why: "timesource"},
			Step{Args: []string{"systemctl", "enable", "chronyd.service"}, Requires: "/usr/lib/systemd/system/chronyd.service", Why: "timesource"})
	}
	return out
}

// services disables, then enables, each named service, so that enable
// wins (modules/services/installation.py).
func services(sys kickstart.System) []Step {
	var out []Step
	for _, s := range sys.Services.Disabled {
		out = append(out, Step{Args: []string{"systemctl", "disable", s}, MayFail: true, Why: "services --disabled"})
	}
	for _, s := range sys.Services.Enabled {
		out = append(out, Step{Args: []string{"systemctl", "enable", s}, MayFail: true, Why: "services --enabled"})
	}
	switch sys.Firstboot {
	case "enable":
		out = append(out, Step{Args: []string{"systemctl", "enable", "initial-setup.service"}, MayFail: true, Why: "firstboot --enable"})
	case "disable":
		out = append(out, Step{Args: []string{"systemctl", "disable", "initial-setup.service"}, MayFail: true, Why: "firstboot --disable"})
	}
	return out
}

// locale writes /etc/locale.conf, /etc/vconsole.conf and X's keyboard
// (modules/localization/installation.py; the X file is what
// systemd-localed writes for anaconda).
func locale(sys kickstart.System) []Step {
	var out []Step
	if sys.Lang != nil {
		out = append(out, Step{Path: "/etc/locale.conf", Content: fmt.Sprintf("LANG=%q\n", sys.Lang.Lang), Mode: 0o644, Why: "lang"})
	}
	k := sys.Keyboard
	if k == nil {
		return out
	}
	if k.VCKeymap != "" {
		out = append(out, Step{Path: "/etc/vconsole.conf", Content: fmt.Sprintf("KEYMAP=%q\nFONT=\"eurlatgr\"\n", k.VCKeymap), Mode: 0o644, Why: "keyboard"})
	}
	if len(k.XLayouts) > 0 {
		var layouts, variants []string
		for _, l := range k.XLayouts {
			layout, variant, _ := strings.Cut(l, "(")
			layouts = append(layouts, strings.TrimSpace(layout))
			variants = append(variants, strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(variant), ")")))
		}
		var b strings.Builder
		b.WriteString("# Written by fbs from the kickstart's keyboard command, as systemd-localed writes it.\n")
		b.WriteString("Section \"InputClass\"\n        Identifier \"system-keyboard\"\n        MatchIsKeyboard \"on\"\n")
		fmt.Fprintf(&b, "        Option \"XkbLayout\" %q\n", strings.Join(layouts, ","))
		if v := strings.Join(variants, ","); strings.Trim(v, ",") != "" {
			fmt.Fprintf(&b, "        Option \"XkbVariant\" %q\n", v)
		}
		if len(k.Switch) > 0 {
			fmt.Fprintf(&b, "        Option \"XkbOptions\" %q\n", strings.Join(k.Switch, ","))
		}
		b.WriteString("EndSection\n")
		out = append(out, Step{Path: "/etc/X11/xorg.conf.d/00-keyboard.conf", Content: b.String(), Mode: 0o644, Why: "keyboard"})
	}
	return out
}

// firewall runs firewall-offline-cmd as anaconda does
// (modules/network/firewall/installation.py): ssh stays open unless named.
func firewall(f kickstart.Firewall) []Step {
	if f.UseSystemDefaults {
		return nil
	}
	args := []string{"firewall-offline-cmd", "--enabled"}
	if f.Disabled {
		args[1] = "--disabled"
	}
	named := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	if !named(f.Services, "ssh") && !named(f.RemoveServices, "ssh") && !named(f.Ports, "22:tcp") {
		args = append(args, "--service=ssh")
	}
	for _, pre := range []struct {
		opt  string
		list []string
	}{{"--trust=", f.Trusts}, {"--port=", f.Ports}, {"--remove-service=", f.RemoveServices}, {"--service=", f.Services}} {
		for _, x := range pre.list {
			args = append(args, pre.opt+x)
		}
	}
	// anaconda fails an enabled firewall without the tool; a disabled one is skipped.
	s := Step{Args: args, Why: "firewall"}
	if f.Disabled {
		s.Requires = "/usr/bin/firewall-offline-cmd"
	}
	return []Step{s}
}

// users makes groups, users and passwords (pyanaconda/core/users.py).
func users(sys kickstart.System) ([]Step, error) {
	var out []Step
	for _, g := range sys.Groups {
		args := []string{"groupadd"}
		if g.GID != nil {
			args = append(args, "-g", strconv.Itoa(*g.GID))
		}
		out = append(out, Step{Args: append(args, g.Name), Why: "group"})
	}
	for _, u := range sys.Users {
		args := []string{"useradd"}
		if u.GID != nil {
			args = append(args, "-g", strconv.Itoa(*u.GID))
		} else {
			args = append(args, "-U")
		}
		if len(u.Groups) > 0 {
			args = append(args, "-G", strings.Join(u.Groups, ","))
		}
		if u.HomeDir != "" {
			args = append(args, "-d", u.HomeDir)
		}
		args = append(args, "-m")
		if u.Shell != "" {
			args = append(args, "-s", u.Shell)
		}
		if u.UID != nil {
			args = append(args, "-u", strconv.Itoa(*u.UID))
		}
		if u.Gecos != "" {
			args = append(args, "-c", u.Gecos)
		}
		out = append(out, Step{Args: append(args, u.Name), Why: "user"})
		if u.Password != nil {
			steps, err := password(u.Name, *u.Password, "user "+u.Name)
			if err != nil {
				return nil, err
			}
			out = append(out, steps...)
		}
	}
	if sys.RootPW != nil {
		steps, err := password("root", *sys.RootPW, "rootpw")
		if err != nil {
			return nil, err
		}
		out = append(out, steps...)
		if sys.RootPW.AllowSSH {
			out = append(out, Step{Path: "/etc/ssh/sshd_config.d/01-permitrootlogin.conf", Content: "PermitRootLogin yes\n", Mode: 0o600, Why: "rootpw --allow-ssh"})
		}
	}
	for _, k := range sys.SSHKeys {
		home := "/home/" + k.User
		if k.User == "root" {
			home = "/root"
		}
		for _, u := range sys.Users {
			if u.Name == k.User && u.HomeDir != "" {
				home = u.HomeDir
			}
		}
		out = append(out,
			Step{Path: home + "/.ssh/authorized_keys", Content: k.Key + "\n", Mode: 0o600, Append: true, Why: "sshkey"},
			Step{Args: []string{"chown", "-R", k.User + ":", home + "/.ssh"}, Why: "sshkey"})
	}
	return out, nil
}

// password sets a user's password as anaconda does: a plain one is
// hashed here (SHA-512 crypt; anaconda hashes with the installer's libcrypt
// too) and every one is given to chpasswd -e, which takes it as it is,
// without PAM (whose stack may not work chrooted in a fresh root). --lock
// locks the account; an empty password with --lock only locks it. A root
// without /etc/passwd has no accounts to set (a busybox image): skipped,
// noted.
func password(user string, pw kickstart.Password, why string) ([]Step, error) {
	var out []Step
	if pw.Password != "" {
		hash := pw.Password
		if !pw.IsCrypted {
			h, err := cryptPassword(pw.Password)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", why, err)
			}
			hash = h
		}
		out = append(out, Step{Args: []string{"chpasswd", "-e"}, Stdin: user + ":" + hash + "\n", Requires: "/etc/passwd", Why: why})
	}
	if pw.Lock {
		out = append(out, Step{Args: []string{"passwd", "-l", user}, Requires: "/etc/passwd", Why: why + " --lock"})
	}
	return out, nil
}

// cryptPassword is plain hashed as crypt(3)'s SHA-512 ($6$, a random salt,
// the default 5000 rounds), which every libxcrypt and glibc reads.
func cryptPassword(plain string) (string, error) {
	h, err := shacrypt.New(shacrypt.WithVariant(shacrypt.VariantSHA512), shacrypt.WithIterations(shacrypt.IterationsDefaultOmitted))
	if err != nil {
		return "", err
	}
	d, err := h.Hash(plain)
	if err != nil {
		return "", fmt.Errorf("hash the password: %w", err)
	}
	return d.Encode(), nil
}
