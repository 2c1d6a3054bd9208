package image

import (
	"sort"
	"strings"
	"text/template"
)

// GrubConfig is what goes into the live media's grub.cfg (BIOS and UEFI alike).
type GrubConfig struct {
	Label   string
	Title   string
	Append  string // bootloader --append
	Timeout int
}

// Serial reports whether the kernel line sends the console to a serial port;
// then GRUB's menu goes there too, so a headless boot shows it.
func (c GrubConfig) Serial() bool { return strings.Contains(c.Append, "console=ttyS") }

// Entries are the kernel command lines for the menu, as lorax's live templates have them.
func (c GrubConfig) Args(extra string) string {
	f := []string{"root=live:CDLABEL=" + c.Label}
	if c.Append != "" {
		f = append(f, c.Append)
	}
	f = append(f, "rd.live.image")
	if extra != "" {
		f = append(f, extra)
	}
	return strings.Join(append(f, "quiet", "rhgb"), " ")
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
menuentry 'Start {{.Title}}' --class fedora --class gnu-linux --class gnu --class os {
	linux /images/pxeboot/vmlinuz {{.Args ""}}
	initrd /images/pxeboot/initrd.img
}
menuentry 'Test this media & start {{.Title}}' --class fedora --class gnu-linux --class gnu --class os {
	linux /images/pxeboot/vmlinuz {{.Args "rd.live.check"}}
	initrd /images/pxeboot/initrd.img
}
submenu 'Troubleshooting -->' {
	menuentry 'Start {{.Title}} in basic graphics mode' --class fedora --class gnu-linux --class gnu --class os {
		linux /images/pxeboot/vmlinuz {{.Args "nomodeset"}}
		initrd /images/pxeboot/initrd.img
	}
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
