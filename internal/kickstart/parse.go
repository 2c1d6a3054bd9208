package kickstart

import (
	"fmt"
	"strconv"
	"strings"
)

// Kickstart is what an image build takes from a kickstart file.
type Kickstart struct {
	Repos    []Repo
	Packages Packages
	Posts    []Script
	// System is what the kickstart says of the installed system.
	System     System
	Bootloader Bootloader
	// RootSize is part / --size in MiB; a squashfs root needs no size, so it is only recorded.
	RootSize int
	// Ignored lists, for the log, commands that do not apply to an image
	// build and what pykickstart would warn of (deprecated options).
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

// Sections whose contents fbs does not run; they are skipped to their %end.
// (pykickstart: sections.py; %addon and %anaconda are anaconda's own.)
var skippedSections = map[string]string{
	"%pre": "runs before the installation", "%pre-install": "runs before the installation",
	"%onerror": "runs when the installation fails", "%traceback": "runs when the installer crashes; deprecated",
	"%addon": "configures an anaconda add-on", "%anaconda": "configures anaconda's interface",
}

func isSection(word string) bool {
	return word == "%packages" || word == "%post" || word == "%certificate" || skippedSections[word] != ""
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
		switch cmd {
		case "%end":
			return nil, &Error{Pos: l.Pos, Msg: "%end without a section to close"}
		case "%ksappend":
			ks.Ignored = append(ks.Ignored, fmt.Sprintf("%s: %%ksappend not expanded: pykickstart's parser skips it, as ksflatten, livemedia-creator and Koji do", l.Pos))
			continue
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
			case cmd == "%certificate":
				err = ks.parseCertificate(l.Pos, args[1:], body)
			case skippedSections[cmd] != "":
				ks.Ignored = append(ks.Ignored, fmt.Sprintf("%s: %s section not run by an image build: it %s", l.Pos, cmd, skippedSections[cmd]))
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

// findEnd is the index of the %end closing the section that starts at
// lines[start]. As in pykickstart, the header of another section before it
// is an error: that section is unterminated (a script may hold other
// %-lines, such as %pragma).
func findEnd(lines []Line, start int) (int, error) {
	for j := start + 1; j < len(lines); j++ {
		f := strings.Fields(lines[j].Text)
		switch {
		case len(f) == 0:
		case f[0] == "%end":
			return j, nil
		case isSection(f[0]):
			open := strings.Fields(lines[start].Text)[0]
			return 0, &Error{Pos: lines[j].Pos, Msg: fmt.Sprintf("%s (at %s) does not end with %%end before this %s", open, lines[start].Pos, f[0])}
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
		for _, s := range []string{"location", "driveorder", "password", "boot-drive", "md5pass", "default", "hvargs"} {
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
		// F41_Partition's options.
		for _, s := range []string{"fstype", "type", "ondisk", "ondrive", "label", "fsoptions", "maxsize", "mkfsoptions", "onpart",
			"usepart", "start", "end", "fsprofile", "passphrase", "cipher", "escrowcert", "luks-version", "pbkdf",
			"pbkdf-memory", "pbkdf-time", "pbkdf-iterations", "hw-passphrase", "onbiosdisk", "bytes-per-inode"} {
			fs.String(s, "", "")
		}
		for _, s := range []string{"grow", "noformat", "encrypted", "hibernation", "resize", "recommended", "asprimary", "backuppassphrase"} {
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
		return ks.otherCommand(pos, cmd, args)
	}
	return nil
}

// otherCommand takes an installed-system command into ks.System, notes
// one that does not apply to an image, and refuses one pykickstart
// refuses: removed ones and unknown ones.
func (ks *Kickstart) otherCommand(pos Pos, cmd string, args []string) error {
	if ok, err := ks.systemCommand(pos, cmd, args); ok {
		return err
	}
	if why, ok := notApplicable[cmd]; ok {
		ks.Ignored = append(ks.Ignored, fmt.Sprintf("%s: %s does not apply to an image build (%s)", pos, cmd, why))
		return nil
	}
	if instead, ok := removed[cmd]; ok {
		msg := cmd + " has been removed from kickstart (pykickstart refuses it)"
		if instead != "" {
			msg += "; " + instead
		}
		return &Error{Pos: pos, Msg: msg}
	}
	return quoting(pos, "unknown kickstart command", fmt.Sprintf("unknown kickstart command %q", cmd))
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
