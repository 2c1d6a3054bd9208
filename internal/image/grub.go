package image

import (
	"sort"
	"strings"
	"text/template"
)

// GrubConfig is a medium's grub.cfg (BIOS and UEFI alike), in the shape of
// lorax's templates.
type GrubConfig struct {
	Label   string
	Timeout int
	// Serial also puts GRUB's menu on the first serial port, for headless boots.
	Serial          bool
	Entries         []GrubEntry
	Troubleshooting []GrubEntry
}

// GrubEntry is one menu entry: its title and kernel command line.
type GrubEntry struct {
	Title, Args string
}

// LiveMenu is lorax's live menu: root=live:CDLABEL=… rd.live.image.
func LiveMenu(label, title, appendArgs string, timeout int) GrubConfig {
	args := func(extra string) string {
		return joinArgs("root=live:CDLABEL="+label, appendArgs, "rd.live.image", extra, "quiet", "rhgb")
	}
	return GrubConfig{
		Label: label, Timeout: timeout, Serial: serialConsole(appendArgs),
		Entries: []GrubEntry{
			{"Start " + title, args("")},
			{"Test this media & start " + title, args("rd.live.check")},
		},
		Troubleshooting: []GrubEntry{{"Start " + title + " in basic graphics mode", args("nomodeset")}},
	}
}

// InstallerMenu is lorax's boot.iso menu: inst.stage2=hd:LABEL=….
func InstallerMenu(label, product, version, appendArgs string, timeout int) GrubConfig {
	args := func(extra string) string {
		return joinArgs("inst.stage2=hd:LABEL="+label, appendArgs, extra, "quiet")
	}
	name := product + " " + version
	return GrubConfig{
		Label: label, Timeout: timeout, Serial: serialConsole(appendArgs),
		Entries: []GrubEntry{
			{"Install " + name, args("")},
			{"Test this media & install " + name, args("rd.live.check")},
		},
		Troubleshooting: []GrubEntry{
			{"Install " + name + " in basic graphics mode", args("nomodeset")},
			{"Rescue a " + product + " system", args("inst.rescue")},
		},
	}
}

func serialConsole(args string) bool { return strings.Contains(args, "console=ttyS") }

func joinArgs(args ...string) string {
	var out []string
	for _, a := range args {
		if a != "" {
			out = append(out, a)
		}
	}
	return strings.Join(out, " ")
}

var grubTemplate = template.Must(template.New("grub.cfg").Parse(`set default="0"

function load_video {
  insmod all_video
}

load_video
set gfxpayload=keep
insmod gzio
insmod part_gpt
{{- if .Serial}}
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
{{- end}}

set timeout={{.Timeout}}
### END /etc/grub.d/00_header ###

search --no-floppy --set=root -l '{{.Label}}'

### BEGIN /etc/grub.d/10_linux ###
{{- range .Entries}}
menuentry '{{.Title}}' --class fedora --class gnu-linux --class gnu --class os {
	linux /images/pxeboot/vmlinuz {{.Args}}
	initrd /images/pxeboot/initrd.img
}
{{- end}}
submenu 'Troubleshooting -->' {
{{- range .Troubleshooting}}
	menuentry '{{.Title}}' --class fedora --class gnu-linux --class gnu --class os {
		linux /images/pxeboot/vmlinuz {{.Args}}
		initrd /images/pxeboot/initrd.img
	}
{{- end}}
}
`))

// Render returns the grub.cfg text.
func (c GrubConfig) Render() string {
	var b strings.Builder
	if err := grubTemplate.Execute(&b, c); err != nil {
		panic(err) // the template is fixed; an error is a bug here
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
