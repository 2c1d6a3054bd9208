package build

import (
	"context"
	"fmt"
	"strings"

	"fbs/internal/dnf"
	"fbs/internal/kickstart"
	"fbs/internal/spec"
	"fbs/internal/sysconfig"
)

// Description is what a build of a request would do, told without doing
// it (fbs plan): the kickstart as flattened, the dnf transaction, the
// repos, the scripts, the installed system's configuration, the image and
// the stages. Its JSON is stable: fields are added, never renamed.
type Description struct {
	Type    string `json:"type"`
	Arch    string `json:"arch"`
	Release string `json:"release"`
	// Kickstart is the flattened kickstart, %include expanded.
	Kickstart string       `json:"kickstart,omitempty"`
	Packages  PackagesPlan `json:"packages"`
	Repos     []RepoPlan   `json:"repos"`
	Scripts   []ScriptPlan `json:"scripts"`
	System    SystemPlan   `json:"system"`
	Steps     []SystemStep `json:"system_steps"`
	Image     ImagePlan    `json:"image"`
	Stages    []Stage      `json:"stages"`
	Notes     []string     `json:"notes"`
	DNF       dnf.Version  `json:"dnf_version"`
}

// PackagesPlan is the dnf transaction, in dnf's syntax.
type PackagesPlan struct {
	Install []string `json:"install"`
	Exclude []string `json:"exclude"`
	Options []string `json:"options"`
	Macros  []string `json:"macros"`
	Notes   []string `json:"notes"`
}

// RepoPlan is a repo the packages come from.
type RepoPlan struct {
	Name       string `json:"name"`
	BaseURL    string `json:"baseurl,omitempty"`
	Mirrorlist string `json:"mirrorlist,omitempty"`
	Metalink   string `json:"metalink,omitempty"`
	Cost       int    `json:"cost,omitempty"`
}

// ScriptPlan is a %post script.
type ScriptPlan struct {
	Kind        string `json:"kind"`
	Chroot      bool   `json:"chroot"`
	Interpreter string `json:"interpreter"`
	ErrorOnFail bool   `json:"erroronfail,omitempty"`
	Log         string `json:"log,omitempty"`
	Body        string `json:"body"`
	At          string `json:"at"`
}

// SystemPlan is what the kickstart says of the installed system. It shows
// no password, only whether one is set or the account locked (the
// kickstart's own text is as written).
type SystemPlan struct {
	Lang     string        `json:"lang,omitempty"`
	Keyboard *KeyboardPlan `json:"keyboard,omitempty"`
	Timezone string        `json:"timezone,omitempty"`
	Services ServicePlan   `json:"services"`
	Hostname string        `json:"hostname,omitempty"`
	SELinux  string        `json:"selinux,omitempty"`
	RootPW   string        `json:"rootpw,omitempty"` // "set", "locked", "set, locked"
	Users    []string      `json:"users"`
}

// KeyboardPlan is the keyboard command: the console's keymap and X's layouts.
type KeyboardPlan struct {
	VCKeymap string   `json:"vckeymap,omitempty"`
	XLayouts []string `json:"xlayouts,omitempty"`
}

// ServicePlan is the services command.
type ServicePlan struct {
	Enabled  []string `json:"enabled"`
	Disabled []string `json:"disabled"`
}

// SystemStep is one step of applying the system (sysconfig.Steps): a
// file written into the root, or a command run chrooted in it.
type SystemStep struct {
	Why      string   `json:"why"`
	Write    string   `json:"write,omitempty"`
	Run      []string `json:"run,omitempty"`
	Requires string   `json:"requires,omitempty"`
	MayFail  bool     `json:"may_fail,omitempty"`
}

// ImagePlan is the medium made.
type ImagePlan struct {
	Label       string `json:"label"`
	RootImage   string `json:"root_image,omitempty"`
	RootFS      string `json:"rootfs,omitempty"`
	Compression string `json:"compression,omitempty"`
	Backend     string `json:"backend"`
}

// Describe tells what building req would do, with a dnf of version v
// (0: the host's). It reads the kickstart (and its %includes) and asks
// the host's dnf its version, nothing more.
func Describe(ctx context.Context, req *spec.Request, opts Options, v dnf.Version) (*Description, error) {
	b := &build{req: req, opts: opts}
	d := &Description{Type: req.Type, Arch: req.Arch, Release: req.Release, Notes: append([]string{}, req.Ignored...),
		Repos: []RepoPlan{}, Scripts: []ScriptPlan{}, Steps: []SystemStep{},
		System: SystemPlan{Users: []string{}, Services: ServicePlan{Enabled: []string{}, Disabled: []string{}}}}
	pkgs := b.runtimeSet()
	if req.HasKickstart() {
		ref, text := req.Kickstart()
		ks, err := kickstart.Read(ctx, b.loader(), ref, text)
		if err != nil {
			return nil, err
		}
		b.ks, b.repos = ks, ks.Repos
		d.Kickstart = kickstart.Text(ks.Lines)
		d.Notes = append(d.Notes, ks.Ignored...)
		if req.Type == "live" {
			if err := d.describeSystem(ks); err != nil {
				return nil, err
			}
		}
		if req.Type != "boot" {
			pkgs = ks.Packages
		}
	} else {
		b.repos = bootRepos(req, pkgs.Pos)
	}
	if v == 0 {
		var err error
		if v, err = hostDNF(ctx); err != nil {
			d.Notes = append(d.Notes, fmt.Sprintf("%v: the transaction is shown for dnf 4", err))
		}
	}
	d.DNF = v
	t := dnf.Plan(pkgs, v)
	d.Packages = PackagesPlan{Install: nonNil(t.Specs), Exclude: nonNil(t.Exclude), Options: nonNil(t.Options), Macros: nonNil(t.Macros), Notes: nonNil(t.Notes)}
	for _, r := range b.repos {
		d.Repos = append(d.Repos, RepoPlan{Name: r.Name, BaseURL: r.BaseURL, Mirrorlist: r.Mirrorlist, Metalink: r.Metalink, Cost: r.Cost})
	}
	d.Image = ImagePlan{Label: req.Label(), Backend: "native"}
	if opts.native() {
		d.Image.RootImage, d.Image.RootFS, d.Image.Compression = b.rootImage(), req.RootFS(), req.Compression()
	} else {
		d.Image.Backend = opts.Backend
	}
	d.Stages = Plan(req, opts)
	return d, nil
}

func (d *Description) describeSystem(ks *kickstart.Kickstart) error {
	for _, s := range ks.Posts {
		d.Scripts = append(d.Scripts, ScriptPlan{Kind: "%post", Chroot: !s.NoChroot, Interpreter: s.Interpreter, ErrorOnFail: s.ErrorOnFail, Log: s.Log, Body: s.Body, At: s.Pos.String()})
	}
	sys := ks.System
	p := &d.System
	if sys.Lang != nil {
		p.Lang = sys.Lang.Lang
	}
	if k := sys.Keyboard; k != nil {
		p.Keyboard = &KeyboardPlan{VCKeymap: k.VCKeymap, XLayouts: k.XLayouts}
	}
	if sys.Timezone != nil {
		p.Timezone = sys.Timezone.Name
	}
	p.Services.Enabled = nonNil(sys.Services.Enabled)
	p.Services.Disabled = nonNil(sys.Services.Disabled)
	p.Hostname, p.SELinux = sys.Hostname, sys.SELinux
	if pw := sys.RootPW; pw != nil {
		var how []string
		if pw.Password != "" {
			how = append(how, "set")
		}
		if pw.Lock {
			how = append(how, "locked")
		}
		p.RootPW = strings.Join(how, ", ")
	}
	for _, u := range sys.Users {
		p.Users = append(p.Users, u.Name)
	}
	steps, err := sysconfig.Steps(sys)
	if err != nil {
		return err
	}
	for _, s := range steps {
		d.Steps = append(d.Steps, SystemStep{Why: s.Why, Write: s.Path, Run: s.Args, Requires: s.Requires, MayFail: s.MayFail})
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Text is the description as people read it.
func (d *Description) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s image, %s, release %s: %s (%s)\n", d.Type, d.Arch, d.Release, d.Image.Label, d.Image.Backend)
	b.WriteString("\nrepos\n")
	for _, r := range d.Repos {
		fmt.Fprintf(&b, "  %s  %s\n", r.Name, strings.Join(kickstart.Repo{BaseURL: r.BaseURL, Mirrorlist: r.Mirrorlist, Metalink: r.Metalink}.Sources(), " "))
	}
	fmt.Fprintf(&b, "\ndnf %d install\n  %s\n", max(d.DNF, 4), strings.Join(d.Packages.Install, " "))
	for _, l := range [][2]string{{"exclude", strings.Join(d.Packages.Exclude, " ")}, {"options", strings.Join(d.Packages.Options, " ")}, {"macros", strings.Join(d.Packages.Macros, "; ")}} {
		if l[1] != "" {
			fmt.Fprintf(&b, "  %s: %s\n", l[0], l[1])
		}
	}
	for _, n := range d.Packages.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	if len(d.Steps) > 0 {
		b.WriteString("\nsystem\n")
		for _, s := range d.Steps {
			what := s.Write
			if len(s.Run) > 0 {
				what = "$ " + strings.Join(s.Run, " ")
			}
			fmt.Fprintf(&b, "  %-22s %s\n", s.Why, what)
		}
	}
	for _, s := range d.Scripts {
		fmt.Fprintf(&b, "\n%s (%s, %s, chroot %v)\n%s", s.Kind, s.At, s.Interpreter, s.Chroot, indentLines(s.Body))
	}
	b.WriteString("\nstages\n")
	b.WriteString(Text(d.Stages))
	if len(d.Notes) > 0 {
		b.WriteString("\nnotes\n")
		for _, n := range d.Notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
	}
	return b.String()
}

func indentLines(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString("  | " + l)
		}
	}
	if !strings.HasSuffix(b.String(), "\n") {
		b.WriteString("\n")
	}
	return b.String()
}
