package kickstart

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// System is what a kickstart says about the installed system, which
// anaconda (and so livemedia-creator) applies to the image's root before
// %post. Where a command was given twice, the later values win, as
// pykickstart merges a repeated command; users, groups, time sources and
// ssh keys add up.
type System struct {
	Lang     *Lang
	Keyboard *Keyboard
	Timezone *Timezone
	// TimeSources are the timesource lines: NTP servers and pools.
	TimeSources []TimeSource
	// NTPDisabled is timesource --ntp-disable.
	NTPDisabled bool
	Services    Services
	// SELinux is the selinux command's mode: enforcing, permissive,
	// disabled; "" when not given.
	SELinux  string
	Firewall *Firewall
	RootPW   *Password
	Users    []User
	Groups   []UserGroup
	SSHKeys  []SSHKey
	// Hostname is the last network --hostname; anaconda does not write it
	// for a directory install, livecd-creator did (see sysconfig).
	Hostname string
	// StartX is xconfig --startxonboot; SkipX the skipx command.
	StartX, SkipX bool
	// Firstboot is firstboot --enable/--reconfig ("enable") or --disable
	// ("disable"): initial-setup's service.
	Firstboot string
	// Authselect is the authselect command's arguments.
	Authselect []string
	// Certificates are the %certificate sections.
	Certificates []Certificate
}

// Lang is the lang command.
type Lang struct {
	Lang       string
	AddSupport []string
}

// Keyboard is the keyboard command: --vckeymap, --xlayouts ("cz (qwerty)"
// is layout cz, variant qwerty), --switch (XKB options), or the old
// positional keymap, which stands for both when they are not given.
type Keyboard struct {
	VCKeymap string
	XLayouts []string
	Switch   []string
}

// Timezone is the timezone command. --nontp and --ntpservers have had
// no effect since Fedora 40 (anaconda reads timesource only); they are
// noted.
type Timezone struct {
	Name string
	UTC  bool
}

// TimeSource is a timesource --ntp-server or --ntp-pool line.
type TimeSource struct {
	Host string
	Pool bool
	NTS  bool
}

// Services is the services command.
type Services struct {
	Enabled, Disabled []string
}

// Firewall is the firewall command.
type Firewall struct {
	Disabled bool
	// UseSystemDefaults leaves the packages' configuration as it is.
	UseSystemDefaults bool
	Services          []string
	RemoveServices    []string
	Ports             []string
	Trusts            []string
}

// Password is rootpw's or a user's password.
type Password struct {
	Password  string
	IsCrypted bool
	Lock      bool
	// AllowSSH is rootpw --allow-ssh: root may log in over ssh with it.
	AllowSSH bool
}

// User is a user command.
type User struct {
	Name     string
	Groups   []string
	HomeDir  string
	Shell    string
	UID, GID *int
	Gecos    string
	Password *Password
	Pos      Pos
}

// UserGroup is a group command.
type UserGroup struct {
	Name string
	GID  *int
	Pos  Pos
}

// SSHKey is an sshkey command: a key for a user's authorized_keys.
type SSHKey struct {
	User, Key string
	Pos       Pos
}

// Certificate is a %certificate section: a file to install, into Dir or,
// for --type anchor, the system's trust anchors.
type Certificate struct {
	Filename string
	Dir      string
	Anchor   bool
	Body     string
	Pos      Pos
}

// systemCommand parses an installed-system command into ks.System; ok
// is false for a command that is not one.
func (ks *Kickstart) systemCommand(pos Pos, cmd string, args []string) (ok bool, err error) {
	s := &ks.System
	fs := newFlags(cmd)
	note := func(format string, a ...any) {
		ks.Ignored = append(ks.Ignored, fmt.Sprintf("%s: %s", pos, fmt.Sprintf(format, a...)))
	}
	switch cmd {
	case "lang":
		add := fs.String("addsupport", "", "")
		if err := parseFlags(pos, fs, args, 1); err != nil {
			return true, err
		}
		s.Lang = &Lang{Lang: fs.Arg(0), AddSupport: splitComma(*add)}
	case "keyboard":
		k := cmpKeyboard(s.Keyboard)
		vc := fs.String("vckeymap", "", "")
		xl := fs.String("xlayouts", "", "")
		sw := fs.String("switch", "", "")
		if err := parseFlagsUpTo(pos, fs, args, 1); err != nil {
			return true, err
		}
		if fs.Changed("vckeymap") {
			k.VCKeymap = *vc
		}
		if fs.Changed("xlayouts") {
			k.XLayouts = commaSplit(*xl)
		}
		if fs.Changed("switch") {
			k.Switch = commaSplit(*sw)
		}
		if fs.NArg() == 1 {
			if k.VCKeymap == "" {
				k.VCKeymap = fs.Arg(0)
			}
			if len(k.XLayouts) == 0 {
				k.XLayouts = []string{fs.Arg(0)}
			}
		}
		if k.VCKeymap == "" && len(k.XLayouts) == 0 {
			return true, &Error{Pos: pos, Msg: "keyboard: needs --vckeymap, --xlayouts or a keymap"}
		}
		s.Keyboard = k
	case "timezone":
		utc := fs.Bool("utc", false, "")
		isUtc := fs.Bool("isUtc", false, "")
		nontp := fs.Bool("nontp", false, "")
		ntps := fs.String("ntpservers", "", "")
		if err := parseFlagsUpTo(pos, fs, args, 1); err != nil {
			return true, err
		}
		tz := Timezone{UTC: *utc || *isUtc}
		if s.Timezone != nil {
			tz.Name = s.Timezone.Name
			tz.UTC = tz.UTC || s.Timezone.UTC
		}
		if fs.NArg() == 1 {
			tz.Name = fs.Arg(0)
		}
		if *nontp || *ntps != "" {
			note("timezone --nontp/--ntpservers: deprecated since Fedora 40 and ignored by anaconda; use timesource --ntp-disable or --ntp-server")
		}
		s.Timezone = &tz
	case "timesource":
		server := fs.String("ntp-server", "", "")
		pool := fs.String("ntp-pool", "", "")
		disable := fs.Bool("ntp-disable", false, "")
		nts := fs.Bool("nts", false, "")
		if err := parseFlags(pos, fs, args, 0); err != nil {
			return true, err
		}
		switch {
		case *disable:
			s.NTPDisabled = true
		case *server != "" && *pool == "":
			s.TimeSources = append(s.TimeSources, TimeSource{Host: *server, NTS: *nts})
		case *pool != "" && *server == "":
			s.TimeSources = append(s.TimeSources, TimeSource{Host: *pool, Pool: true, NTS: *nts})
		default:
			return true, &Error{Pos: pos, Msg: "timesource: needs one of --ntp-server, --ntp-pool, --ntp-disable"}
		}
	case "services":
		en := fs.String("enabled", "", "")
		dis := fs.String("disabled", "", "")
		if err := parseFlags(pos, fs, args, 0); err != nil {
			return true, err
		}
		if fs.Changed("enabled") {
			s.Services.Enabled = splitComma(*en)
		}
		if fs.Changed("disabled") {
			s.Services.Disabled = splitComma(*dis)
		}
	case "selinux":
		modes := map[string]*bool{"enforcing": fs.Bool("enforcing", false, ""), "permissive": fs.Bool("permissive", false, ""), "disabled": fs.Bool("disabled", false, "")}
		if err := parseFlags(pos, fs, args, 0); err != nil {
			return true, err
		}
		for _, m := range []string{"enforcing", "permissive", "disabled"} {
			if *modes[m] {
				s.SELinux = m
			}
		}
	case "firewall":
		f, err := parseFirewall(pos, fs, args)
		if err != nil {
			return true, err
		}
		s.Firewall = f
	case "rootpw":
		pw, err := parsePassword(pos, fs, args)
		if err != nil {
			return true, err
		}
		s.RootPW = pw
	case "user":
		u, err := parseUser(pos, fs, args)
		if err != nil {
			return true, err
		}
		s.Users = append(s.Users, u)
	case "group":
		name := fs.String("name", "", "")
		gid := fs.String("gid", "", "")
		if err := parseFlags(pos, fs, args, 0); err != nil {
			return true, err
		}
		g := UserGroup{Name: *name, Pos: pos}
		if g.Name == "" {
			return true, &Error{Pos: pos, Msg: "group: needs --name"}
		}
		if g.GID, err = optInt(pos, "group --gid", *gid); err != nil {
			return true, err
		}
		s.Groups = append(s.Groups, g)
	case "sshkey":
		user := fs.String("username", "", "")
		if err := parseFlags(pos, fs, args, 1); err != nil {
			return true, err
		}
		if *user == "" {
			return true, &Error{Pos: pos, Msg: "sshkey: needs --username"}
		}
		s.SSHKeys = append(s.SSHKeys, SSHKey{User: *user, Key: fs.Arg(0), Pos: pos})
	case "network":
		host, err := parseNetwork(pos, fs, args)
		if err != nil {
			return true, err
		}
		if host != "" {
			s.Hostname = host
		}
	case "xconfig":
		startx := fs.Bool("startxonboot", false, "")
		fs.String("defaultdesktop", "", "")
		if err := parseFlags(pos, fs, args, 0); err != nil {
			return true, err
		}
		s.StartX = s.StartX || *startx
	case "skipx":
		if err := parseFlags(pos, fs, args, 0); err != nil {
			return true, err
		}
		s.SkipX = true
	case "firstboot":
		en := fs.Bool("enable", false, "")
		fs.BoolVar(en, "enabled", false, "")
		dis := fs.Bool("disable", false, "")
		fs.BoolVar(dis, "disabled", false, "")
		reconf := fs.Bool("reconfig", false, "")
		if err := parseFlags(pos, fs, args, 0); err != nil {
			return true, err
		}
		switch {
		case *dis:
			s.Firstboot = "disable"
		case *en || *reconf:
			s.Firstboot = "enable"
		}
	case "authselect":
		s.Authselect = args
	default:
		return false, nil
	}
	return true, nil
}

func cmpKeyboard(k *Keyboard) *Keyboard {
	if k == nil {
		return &Keyboard{}
	}
	c := *k
	return &c
}

// parseFirewall reads the firewall command (F28_Firewall): --ftp,
// --http, --smtp and --ssh are services by other names.
func parseFirewall(pos Pos, fs *pflag.FlagSet, args []string) (*Firewall, error) {
	var f Firewall
	en := fs.Bool("enabled", false, "")
	fs.BoolVar(en, "enable", false, "")
	fs.BoolVar(&f.Disabled, "disabled", false, "")
	fs.BoolVar(&f.Disabled, "disable", false, "")
	fs.BoolVar(&f.UseSystemDefaults, "use-system-defaults", false, "")
	named := map[string]*bool{}
	for _, svc := range []string{"ftp", "http", "smtp", "ssh"} {
		named[svc] = fs.Bool(svc, false, "")
	}
	svcs := fs.StringArray("service", nil, "")
	rm := fs.StringArray("remove-service", nil, "")
	ports := fs.StringArray("port", nil, "")
	trusts := fs.StringArray("trust", nil, "")
	if err := parseFlags(pos, fs, args, 0); err != nil {
		return nil, err
	}
	for _, svc := range []string{"ftp", "http", "smtp", "ssh"} {
		if *named[svc] {
			f.Services = append(f.Services, svc)
		}
	}
	for _, v := range *svcs {
		f.Services = append(f.Services, splitComma(v)...)
	}
	for _, v := range *rm {
		f.RemoveServices = append(f.RemoveServices, splitComma(v)...)
	}
	for _, v := range *ports {
		f.Ports = append(f.Ports, splitComma(v)...)
	}
	for _, v := range *trusts {
		f.Trusts = append(f.Trusts, splitComma(v)...)
	}
	return &f, nil
}

// parsePassword reads rootpw's options and its password (F37_RootPw).
func parsePassword(pos Pos, fs *pflag.FlagSet, args []string) (*Password, error) {
	var pw Password
	fs.BoolVar(&pw.IsCrypted, "iscrypted", false, "")
	plain := fs.Bool("plaintext", false, "")
	fs.BoolVar(&pw.Lock, "lock", false, "")
	fs.BoolVar(&pw.AllowSSH, "allow-ssh", false, "")
	if err := parseFlagsUpTo(pos, fs, args, 1); err != nil {
		return nil, err
	}
	if *plain && pw.IsCrypted {
		return nil, &Error{Pos: pos, Msg: "rootpw: --iscrypted and --plaintext cannot go together"}
	}
	if fs.NArg() == 0 && !pw.Lock {
		return nil, &Error{Pos: pos, Msg: "rootpw: needs a password, or --lock"}
	}
	pw.Password = fs.Arg(0)
	return &pw, nil
}

// parseUser reads a user command (F24_User).
func parseUser(pos Pos, fs *pflag.FlagSet, args []string) (User, error) {
	u := User{Pos: pos}
	fs.StringVar(&u.Name, "name", "", "")
	groups := fs.String("groups", "", "")
	fs.StringVar(&u.HomeDir, "homedir", "", "")
	fs.StringVar(&u.Shell, "shell", "", "")
	fs.StringVar(&u.Gecos, "gecos", "", "")
	uid := fs.String("uid", "", "")
	gid := fs.String("gid", "", "")
	password := fs.String("password", "", "")
	crypted := fs.Bool("iscrypted", false, "")
	plain := fs.Bool("plaintext", false, "")
	lock := fs.Bool("lock", false, "")
	if err := parseFlags(pos, fs, args, 0); err != nil {
		return u, err
	}
	if u.Name == "" {
		return u, &Error{Pos: pos, Msg: "user: needs --name"}
	}
	if *plain && *crypted {
		return u, &Error{Pos: pos, Msg: "user: --iscrypted and --plaintext cannot go together"}
	}
	u.Groups = splitComma(*groups)
	var err error
	if u.UID, err = optInt(pos, "user --uid", *uid); err != nil {
		return u, err
	}
	if u.GID, err = optInt(pos, "user --gid", *gid); err != nil {
		return u, err
	}
	if fs.Changed("password") || *lock {
		u.Password = &Password{Password: *password, IsCrypted: *crypted, Lock: *lock}
	}
	return u, nil
}

// networkOptions are the network command's (F39_Network) besides --hostname;
// they configure the installer's or the system's interfaces, which a live
// image leaves to NetworkManager at boot.
var networkOptions = []string{"bootproto", "dhcpclass", "device", "essid", "ethtool", "gateway", "ip", "mtu",
	"nameserver", "netmask", "wepkey", "ipv6", "wpakey", "bondslaves", "bondopts", "vlanid", "ipv6gateway",
	"teamslaves", "teamconfig", "interfacename", "bridgeslaves", "bridgeopts", "bindto", "ipv4-dns-search",
	"ipv6-dns-search"}

var networkBools = []string{"nodns", "notksdevice", "noipv4", "noipv6", "activate", "nodefroute",
	"no-activate", "ipv4-ignore-auto-dns", "ipv6-ignore-auto-dns"}

func parseNetwork(pos Pos, fs *pflag.FlagSet, args []string) (string, error) {
	host := fs.String("hostname", "", "")
	for _, o := range networkOptions {
		fs.String(o, "", "")
	}
	for _, o := range networkBools {
		fs.Bool(o, false, "")
	}
	// --onboot=yes|no, or --onboot alone.
	fs.String("onboot", "", "")
	fs.Lookup("onboot").NoOptDefVal = "yes"
	if err := parseFlags(pos, fs, args, 0); err != nil {
		return "", err
	}
	return *host, nil
}

// commaSplit splits a list as pykickstart's commaSplit does: on commas
// only, each item trimmed ("de (nodeadkeys)" stays one layout).
func commaSplit(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func optInt(pos Pos, what, v string) (*int, error) {
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return nil, quoting(pos, what+": not a number", fmt.Sprintf("%s: %q is not a number", what, v))
	}
	return &n, nil
}

// splitLayout splits an --xlayouts entry, "cz (qwerty)", into layout and variant.
func splitLayout(s string) (layout, variant string) {
	layout, variant, _ = strings.Cut(s, "(")
	return strings.TrimSpace(layout), strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(variant), ")"))
}
