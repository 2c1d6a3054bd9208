package kickstart

import (
	"fmt"
	"strings"
)

// parseCertificate reads a %certificate section (pykickstart: sections.py,
// CertificateSection): --filename, and --dir or --type anchor; its lines
// are the certificate, every line kept.
func (ks *Kickstart) parseCertificate(pos Pos, args []string, body []Line) error {
	fs := newFlags("%certificate")
	c := Certificate{Pos: pos}
	fs.StringVar(&c.Filename, "filename", "", "")
	fs.StringVar(&c.Dir, "dir", "", "")
	typ := fs.String("type", "", "")
	if err := parseFlags(pos, fs, args, 0); err != nil {
		return err
	}
	switch {
	case c.Filename == "" || strings.Contains(c.Filename, "/"):
		return &Error{Pos: pos, Msg: "%certificate: needs --filename, a file name without a directory"}
	case *typ != "" && *typ != "anchor":
		return quoting(pos, "%certificate: --type is anchor or nothing", fmt.Sprintf("%%certificate: --type %q: anchor or nothing", *typ))
	case c.Dir == "" && *typ == "":
		return &Error{Pos: pos, Msg: "%certificate: one of --dir or --type must be given"}
	}
	c.Anchor = *typ == "anchor"
	var b strings.Builder
	for _, l := range body {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	if strings.TrimSpace(b.String()) == "" {
		return &Error{Pos: pos, Msg: "%certificate: the section is empty"}
	}
	c.Body = b.String()
	ks.System.Certificates = append(ks.System.Certificates, c)
	return nil
}
