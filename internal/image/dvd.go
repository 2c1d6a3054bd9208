package image

import (
	"fmt"
	"sort"
	"strings"
)

// ProductTreeInfo is pungi's .treeinfo (productmd 1.2) for a DVD holding
// one variant, with the checksums of the files it names.
func (s Stamp) ProductTreeInfo(variant string, checksums map[string]string) string {
	sections := map[string][][2]string{
		"general": {{"; WARNING.0", "This section provides compatibility with pre-productmd treeinfos."},
			{"; WARNING.1", "Read productmd documentation for details about new format."},
			{"arch", s.Arch}, {"family", s.Product}, {"name", s.Product + " " + s.Version}, {"packagedir", "Packages"},
			{"platforms", s.Arch}, {"repository", "."}, {"timestamp", fmt.Sprint(s.Time.Unix())},
			{"variant", variant}, {"variants", variant}, {"version", s.Version}},
		"header":           {{"type", "productmd.treeinfo"}, {"version", "1.2"}},
		"images-" + s.Arch: s.images(),
		"release":          {{"name", s.Product}, {"short", s.Product}, {"version", s.Version}},
		"stage2":           {{"mainimage", "images/install.img"}},
		"tree":             {{"arch", s.Arch}, {"build_timestamp", fmt.Sprint(s.Time.Unix())}, {"platforms", s.Arch}, {"variants", variant}},
		"variant-" + variant: {{"id", variant}, {"name", variant}, {"packages", "Packages"}, {"repository", "."},
			{"type", "variant"}, {"uid", variant}},
	}
	for _, path := range sortedKeys(checksums) {
		sections["checksums"] = append(sections["checksums"], [2]string{path, "sha256:" + checksums[path]})
	}
	names := make([]string, 0, len(sections))
	for n := range sections {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "[%s]\n", n)
		for _, kv := range sections[n] {
			fmt.Fprintf(&b, "%s = %s\n", kv[0], kv[1])
		}
	}
	return b.String()
}

// images is the [images-<arch>] section: productmd sorts its keys.
func (s Stamp) images() [][2]string {
	images := [][2]string{{"initrd", "images/pxeboot/initrd.img"}, {"kernel", "images/pxeboot/vmlinuz"}}
	if s.efiImageLine() != "" {
		images = append([][2]string{{"efiboot.img", EFIImage}}, images...)
	}
	return images
}

// MediaRepo is the DVD's media.repo, as pungi writes it.
func (s Stamp) MediaRepo() string {
	return fmt.Sprintf("[InstallMedia]\nname=%s %s\nmediaid=%d\nmetadata_expire=-1\ngpgcheck=0\ncost=500\n", s.Product, s.Version, s.Time.Unix())
}
