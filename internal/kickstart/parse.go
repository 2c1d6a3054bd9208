package kickstart

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// Kickstart is what an image build takes from a kickstart file.
type Kickstart struct {
	Repos      []Repo
	Packages   Packages
	Posts      []Script
	Bootloader Bootloader
	// RootSize is part / --size in MiB; a squashfs root needs no size, so it is only recorded.
	RootSize int
	// Ignored lists commands that do not apply to an image build, for the log.
	Ignored []string
	// Lines is the flattened kickstart, as staged with the image.
	Lines []Line
}

// Repo is a repo command (or url, which names the install tree).
type Repo struct {
	Name        string   `json:"name"`
	BaseURL     string   `json:"baseurl,omitempty"`
	Mirrorlist  string   `json:"mirrorlist,omitempty"`
	Metalink    string   `json:"metalink,omitempty"`
	Cost        int      `json:"cost,omitempty"`
	Exclude     []string `json:"excludepkgs,omitempty"`
	Include     []string `json:"includepkgs,omitempty"`
	Proxy       string   `json:"proxy,omitempty"`
	NoVerifySSL bool     `json:"noverifyssl,omitempty"`
	Pos         Pos      `json:"-"`
}

// Sources lists where the repo may be read: base URL, mirrorlist, metalink.
func (r Repo) Sources() []string {
	var out []string
	for _, s := range []string{r.BaseURL, r.Mirrorlist, r.Metalink} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Packages is the %packages section.
type Packages struct {
	Include       []string // names and globs
	Groups        []string // without the leading @
	Exclude       []string
	ExcludeGroups []string
	ExcludeDocs   bool
	NoCore        bool
	Pos           Pos
}

// Script is a %post section.
type Script struct {
	Body        string
	NoChroot    bool
	Interpreter string
	ErrorOnFail bool
	Log         string
	Pos         Pos
}

// Bootloader is what the bootloader command says about the kernel command line.
type Bootloader struct {
	Append  string
	Timeout int // seconds; -1 when unset
}

// Commands a live build has no use for: they configure an installed system
// or the installer itself. They are accepted and logged as ignored.
var ignoredCommands = map[string]bool{
	"auth": true, "authconfig": true, "authselect": true, "autopart": true, "autostep": true, "clearpart": true,
	"cmdline": true, "device": true, "driverdisk": true, "eula": true, "firewall": true, "firstboot": true,
	"graphical": true, "group": true, "halt": true, "ignoredisk": true, "install": true, "keyboard": true,
	"lang": true, "logging": true, "logvol": true, "mediacheck": true, "module": true, "network": true,
	"ostreesetup": true, "poweroff": true, "raid": true, "realm": true, "reboot": true, "reqpart": true,
	"rescue": true, "rootpw": true, "selinux": true, "services": true, "shutdown": true, "skipx": true,
	"snapshot": true, "sshkey": true, "sshpw": true, "text": true, "timesource": true, "timezone": true,
	"updates": true, "user": true, "vnc": true, "volgroup": true, "xconfig": true, "zerombr": true,
	"zfcp": true, "liveimg": true, "harddrive": true, "nfs": true, "cdrom": true,
}

// Sections whose contents fbs does not run; they are skipped to their %end.
var skippedSections = map[string]bool{
	"%pre": true, "%pre-install": true, "%onerror": true, "%traceback": true, "%addon": true, "%anaconda": true,
}

// Parse reads flattened kickstart lines.
func Parse(lines []Line) (*Kickstart, error) {
	ks := &Kickstart{Bootloader: Bootloader{Timeout: -1}, Lines: lines}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		text := strings.TrimSpace(l.Text)
		if text == "" || text[0] == '#' {
			continue
		}
		args, err := splitArgs(text)
		if err != nil {
			return nil, quoting(l.Pos, fmt.Sprintf("cannot split the line: %v", err), fmt.Sprintf("cannot split %q: %v", text, err))
		}
		cmd := args[0]
		if cmd == "%end" {
			return nil, &Error{Pos: l.Pos, Msg: "%end without a section to close"}
		}
		if strings.HasPrefix(cmd, "%") {
			end, err := findEnd(lines, i)
			if err != nil {
				return nil, err
			}
			body := lines[i+1 : end]
			switch {
			case cmd == "%packages":
				err = ks.parsePackages(l.Pos, args[1:], body)
			case cmd == "%post":
				err = ks.parsePost(l.Pos, args[1:], body)
			case skippedSections[cmd]:
				ks.Ignored = append(ks.Ignored, fmt.Sprintf("%s: %s section (not run by an image build)", l.Pos, cmd))
			default:
				err = quoting(l.Pos, "unknown section", "unknown section "+cmd)
			}
			if err != nil {
				return nil, err
			}
			i = end
			continue
		}
		if err := ks.command(l.Pos, cmd, args[1:]); err != nil {
			return nil, err
		}
	}
	return ks, nil
}

func findEnd(lines []Line, start int) (int, error) {
	for j := start + 1; j < len(lines); j++ {
		f := strings.Fields(lines[j].Text)
		if len(f) > 0 && f[0] == "%end" {
			return j, nil
		}
	}
	return 0, quoting(lines[start].Pos, "the section has no %end", strings.Fields(lines[start].Text)[0]+" has no %end")
}

func (ks *Kickstart) command(pos Pos, cmd string, args []string) error {
	switch cmd {
	case "repo", "url":
		r, err := parseRepo(pos, cmd, args)
		if err != nil {
			return err
		}
		for _, o := range ks.Repos {
			if o.Name == r.Name {
				return quoting(pos, fmt.Sprintf("a repo of this name is already defined at %s", o.Pos), fmt.Sprintf("repo %q already defined at %s", r.Name, o.Pos))
			}
		}
		ks.Repos = append(ks.Repos, r)
	case "bootloader":
		fs := newFlags(cmd)
		app := fs.String("append", "", "")
		timeout := fs.Int("timeout", -1, "")
		for _, s := range []string{"location", "driveorder", "password", "boot-drive", "md5pass"} {
			fs.String(s, "", "")
		}
		for _, s := range []string{"iscrypted", "leavebootorder", "extlinux", "disabled", "nombr", "sdboot", "upgrade", "lba32", "useLilo", "nomdadm"} {
			fs.Bool(s, false, "")
		}
		if err := parseFlags(pos, fs, args, 0); err != nil {
			return err
		}
		ks.Bootloader = Bootloader{Append: *app, Timeout: *timeout}
	case "part", "partition":
		fs := newFlags(cmd)
		size := fs.Int("size", 0, "")
		for _, s := range []string{"fstype", "ondisk", "ondrive", "label", "fsoptions", "maxsize", "mkfsoptions", "onpart", "usepart", "asprimary", "start", "end", "recommended"} {
			fs.String(s, "", "")
		}
		for _, s := range []string{"grow", "noformat", "encrypted", "hibernation", "resize"} {
			fs.Bool(s, false, "")
		}
		if err := parseFlags(pos, fs, args, 1); err != nil {
			return err
		}
		switch mnt := fs.Arg(0); mnt {
		case "/":
			ks.RootSize = *size
		case "swap", "biosboot", "/boot", "/boot/efi":
			ks.Ignored = append(ks.Ignored, fmt.Sprintf("%s: part %s (a live image has only a root filesystem)", pos, mnt))
		default:
			const why = "a live image has a single / filesystem (as livemedia-creator requires)"
			return quoting(pos, "part: "+why, fmt.Sprintf("part %s: %s", mnt, why))
		}
	default:
		if !ignoredCommands[cmd] {
			return quoting(pos, "unknown kickstart command", fmt.Sprintf("unknown kickstart command %q", cmd))
		}
		ks.Ignored = append(ks.Ignored, fmt.Sprintf("%s: %s (does not apply to an image build)", pos, cmd))
	}
	return nil
}

func parseRepo(pos Pos, cmd string, args []string) (Repo, error) {
	fs := newFlags(cmd)
	var r Repo
	fs.StringVar(&r.Name, "name", "", "")
	fs.StringVar(&r.BaseURL, "baseurl", "", "")
	if cmd == "url" {
		fs.StringVar(&r.BaseURL, "url", "", "")
	}
	fs.StringVar(&r.Mirrorlist, "mirrorlist", "", "")
	fs.StringVar(&r.Metalink, "metalink", "", "")
	fs.StringVar(&r.Proxy, "proxy", "", "")
	fs.BoolVar(&r.NoVerifySSL, "noverifyssl", false, "")
	cost := fs.String("cost", "", "")
	excl := fs.String("excludepkgs", "", "")
	incl := fs.String("includepkgs", "", "")
	fs.Bool("install", false, "")
	fs.Bool("ignoregroups", false, "")
	fs.String("sslcacert", "", "")
	fs.String("sslclientcert", "", "")
	fs.String("sslclientkey", "", "")
	if err := parseFlags(pos, fs, args, 0); err != nil {
		return r, err
	}
	if cmd == "url" && r.Name == "" {
		r.Name = "url"
	}
	if r.Name == "" {
		return r, &Error{Pos: pos, Msg: "repo needs --name"}
	}
	n := 0
	for _, s := range []string{r.BaseURL, r.Mirrorlist, r.Metalink} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		const why = "needs exactly one of --baseurl, --mirrorlist, --metalink"
		return r, quoting(pos, cmd+" "+why, fmt.Sprintf("%s %s %s", cmd, r.Name, why))
	}
	if *cost != "" {
		c, err := strconv.Atoi(*cost)
		if err != nil {
			return r, quoting(pos, "repo: --cost is not a number", fmt.Sprintf("repo %s: --cost %q is not a number", r.Name, *cost))
		}
		r.Cost = c
	}
	r.Exclude = splitComma(*excl)
	r.Include = splitComma(*incl)
	r.Pos = pos
	return r, nil
}

func (ks *Kickstart) parsePackages(pos Pos, args []string, body []Line) error {
	fs := newFlags("%packages")
	p := &ks.Packages
	fs.BoolVar(&p.ExcludeDocs, "excludedocs", false, "")
	fs.BoolVar(&p.NoCore, "nocore", false, "")
	for _, s := range []string{"ignoremissing", "multilib", "excludeWeakdeps", "exclude-weakdeps", "default", "nobase", "ignorebroken"} {
		fs.Bool(s, false, "")
	}
	for _, s := range []string{"instLangs", "inst-langs", "retries", "timeout"} {
		fs.String(s, "", "")
	}
	if err := parseFlags(pos, fs, args, 0); err != nil {
		return err
	}
	p.Pos = pos
	for _, l := range body {
		text := strings.TrimSpace(l.Text)
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		if text == "" {
			continue
		}
		item := strings.Fields(text)[0] // group options such as --optional follow the name
		switch {
		case strings.HasPrefix(item, "-@"):
			p.ExcludeGroups = append(p.ExcludeGroups, item[2:])
		case strings.HasPrefix(item, "-"):
			p.Exclude = append(p.Exclude, item[1:])
		case strings.HasPrefix(item, "@"):
			p.Groups = append(p.Groups, item[1:])
		default:
			p.Include = append(p.Include, item)
		}
	}
	return nil
}

func (ks *Kickstart) parsePost(pos Pos, args []string, body []Line) error {
	fs := newFlags("%post")
	s := Script{Pos: pos}
	fs.BoolVar(&s.NoChroot, "nochroot", false, "")
	fs.BoolVar(&s.ErrorOnFail, "erroronfail", false, "")
	fs.StringVar(&s.Interpreter, "interpreter", "/bin/sh", "")
	fs.StringVar(&s.Log, "log", "", "")
	fs.StringVar(&s.Log, "logfile", "", "")
	if err := parseFlags(pos, fs, args, 0); err != nil {
		return err
	}
	var b strings.Builder
	for _, l := range body {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	s.Body = b.String()
	ks.Posts = append(ks.Posts, s)
	return nil
}

func newFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(true)
	return fs
}

func parseFlags(pos Pos, fs *pflag.FlagSet, args []string, nargs int) error {
	if err := fs.Parse(args); err != nil {
		return quoting(pos, fs.Name()+": an unknown option, or an option's bad value", fmt.Sprintf("%s: %v", fs.Name(), err))
	}
	if fs.NArg() != nargs {
		what := fmt.Sprintf("%s: takes %d argument(s) besides its options", fs.Name(), nargs)
		return quoting(pos, what, fmt.Sprintf("%s, got %q", what, fs.Args()))
	}
	return nil
}

func splitComma(s string) []string {
	if s == "" {
		return nil
	}
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// Expand substitutes $releasever and $basearch, as dnf does in repo URLs.
func Expand(s, releasever, basearch string) string {
	return strings.NewReplacer("$releasever", releasever, "${releasever}", releasever,
		"$basearch", basearch, "${basearch}", basearch).Replace(s)
}
