package rpmrepo

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"fbs/internal/kickstart"
)

// Comps returns the repo's group file (comps.xml), or nil when it has
// none. A repo given by mirrorlist or metalink is read from the mirror dnf
// would take (see readRepomd).
func Comps(ctx context.Context, r kickstart.Repo, releasever, arch string) ([]byte, error) {
	c := client(r.Proxy)
	base, doc, err := readRepomd(ctx, c, r, releasever, arch)
	if err != nil {
		return nil, err
	}
	base = strings.TrimSuffix(base, "/")
	var md struct {
		Data []struct {
			Type     string `xml:"type,attr"`
			Location struct {
				Href string `xml:"href,attr"`
			} `xml:"location"`
		} `xml:"data"`
	}
	if err := xml.Unmarshal(doc, &md); err != nil {
		return nil, fmt.Errorf("%s/repodata/repomd.xml: %w", base, err)
	}
	for _, want := range []string{"group", "group_gz"} {
		for _, d := range md.Data {
			if d.Type != want {
				continue
			}
			if err := relative(d.Location.Href); err != nil {
				return nil, fmt.Errorf("%s/repodata/repomd.xml: %s: %w", base, d.Type, err)
			}
			data, err := get(ctx, c, base+"/"+d.Location.Href)
			if err != nil || want == "group" {
				return data, err
			}
			z, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", d.Location.Href, err)
			}
			return readLimited(io.Reader(z))
		}
	}
	return nil, nil
}

// relative checks a repomd location: a path within the repo, never one
// that leaves it (.., an absolute path, another URL).
func relative(href string) error {
	if href == "" || strings.HasPrefix(href, "/") || strings.ContainsAny(href, ":\x00\\?#") {
		return fmt.Errorf("location %q is not a path within the repo", href)
	}
	for _, seg := range strings.Split(href, "/") {
		if seg == ".." {
			return fmt.Errorf("location %q leaves the repo", href)
		}
	}
	return nil
}
