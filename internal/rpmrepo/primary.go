package rpmrepo

import (
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// PrimarySums reads a repo's primary.xml (plain, .gz or .zst, as
// createrepo_c writes it) and returns each package's file checksum by
// NEVRA ("name-[epoch:]version-release.arch", as rpm's %{NEVRA} prints it).
func PrimarySums(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	switch filepath.Ext(path) {
	case ".gz":
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = z
	case ".zst":
		z, err := zstd.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer z.Close()
		r = z
	case ".xml":
	default:
		return nil, fmt.Errorf("%s: compression not supported", path)
	}
	sums := map[string]string{}
	dec := xml.NewDecoder(r)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return sums, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "package" {
			continue
		}
		var p struct {
			Name    string `xml:"name"`
			Arch    string `xml:"arch"`
			Version struct {
				Epoch string `xml:"epoch,attr"`
				Ver   string `xml:"ver,attr"`
				Rel   string `xml:"rel,attr"`
			} `xml:"version"`
			Checksum struct {
				Type  string `xml:"type,attr"`
				Value string `xml:",chardata"`
			} `xml:"checksum"`
		}
		if err := dec.DecodeElement(&p, &se); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if p.Checksum.Type != "sha256" {
			continue
		}
		evr := p.Version.Ver + "-" + p.Version.Rel
		if p.Version.Epoch != "" && p.Version.Epoch != "0" {
			evr = p.Version.Epoch + ":" + evr
		}
		sums[p.Name+"-"+evr+"."+p.Arch] = strings.TrimSpace(p.Checksum.Value)
	}
}
