// Package rpmrepo reads RPM repositories the way dnf finds them: by base URL,
// mirrorlist or metalink.
package rpmrepo

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"fbs/internal/kickstart"
)

const maxDoc = 8 << 20

// Fingerprint identifies the repository's current content: the sha256 of its
// repodata/repomd.xml, which names every metadata file by checksum. A repo
// given by metalink is fingerprinted by the repomd.xml hash the metalink
// publishes; one given by mirrorlist, by its first mirror's repomd.xml. A
// base URL, where the repo has one, is read first.
func Fingerprint(ctx context.Context, r kickstart.Repo, releasever, arch string) (string, error) {
	c := client(r.Proxy)
	if r.BaseURL == "" && r.Metalink != "" {
		doc, err := get(ctx, c, kickstart.Expand(r.Metalink, releasever, arch))
		if err != nil {
			return "", err
		}
		return metalinkSum(doc)
	}
	_, doc, err := readRepomd(ctx, c, r, releasever, arch)
	if err != nil {
		return "", err
	}
	return sha256Hex(doc), nil
}

// readRepomd finds the repo's base URL as dnf does and reads its
// repodata/repomd.xml there: the base URL where the repo has one, else
// the first mirror of its mirrorlist, else the first mirror of its
// metalink whose repomd.xml has the sha256 the metalink publishes (a
// mirror not yet synced has another).
func readRepomd(ctx context.Context, c *http.Client, r kickstart.Repo, releasever, arch string) (base string, doc []byte, err error) {
	expand := func(s string) string { return kickstart.Expand(s, releasever, arch) }
	at := func(base string) string { return strings.TrimSuffix(base, "/") + "/repodata/repomd.xml" }
	switch {
	case r.BaseURL != "":
		base = expand(r.BaseURL)
		doc, err = get(ctx, c, at(base))
		return base, doc, err
	case r.Mirrorlist != "":
		list, err := get(ctx, c, expand(r.Mirrorlist))
		if err != nil {
			return "", nil, err
		}
		sc := bufio.NewScanner(strings.NewReader(string(list)))
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
				doc, err = get(ctx, c, at(line))
				return line, doc, err
			}
		}
		return "", nil, fmt.Errorf("mirrorlist %s names no mirror", expand(r.Mirrorlist))
	case r.Metalink != "":
		ml, err := get(ctx, c, expand(r.Metalink))
		if err != nil {
			return "", nil, err
		}
		want, err := metalinkSum(ml)
		if err != nil {
			return "", nil, fmt.Errorf("metalink %s: %w", expand(r.Metalink), err)
		}
		last := errors.New("it names no http or https mirror")
		for _, u := range metalinkURLs(ml) {
			doc, err := get(ctx, c, u)
			switch {
			case err != nil:
				last = err
			case sha256Hex(doc) != want:
				last = fmt.Errorf("%s is not the repomd.xml the metalink names (another sha256: the mirror is not in sync)", u)
			default:
				return strings.TrimSuffix(u, "repodata/repomd.xml"), doc, nil
			}
		}
		return "", nil, fmt.Errorf("metalink %s: no mirror has its repomd.xml: %w", expand(r.Metalink), last)
	}
	return "", nil, fmt.Errorf("repo %s has no baseurl, mirrorlist or metalink", r.Name)
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// metalinkURL is a mirror's URL of repomd.xml in a metalink (Fedora's
// MirrorManager writes one <url> a mirror, best first).
var metalinkURL = regexp.MustCompile(`<url[^>]*>\s*(https?://[^<\s]+/repodata/repomd\.xml)\s*</url>`)

func metalinkURLs(doc []byte) []string {
	var out []string
	for _, m := range metalinkURL.FindAllSubmatch(doc, -1) {
		out = append(out, html.UnescapeString(string(m[1])))
	}
	return out
}

var metalinkRepomd = regexp.MustCompile(`(?s)<file name="repomd.xml">.*?<hash type="sha256">([0-9a-f]{64})</hash>`)

func metalinkSum(doc []byte) (string, error) {
	m := metalinkRepomd.FindSubmatch(doc)
	if m == nil {
		return "", fmt.Errorf("metalink has no sha256 for repomd.xml")
	}
	return string(m[1]), nil
}

func client(proxy string) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if proxy != "" {
		if u, err := url.Parse(proxy); err == nil {
			tr.Proxy = http.ProxyURL(u)
		}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func get(ctx context.Context, c *http.Client, target string) ([]byte, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "file":
		f, err := os.Open(u.Path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f)
	case "http", "https":
	default:
		return nil, fmt.Errorf("%s: cannot read %s URLs", target, u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", target, resp.Status)
	}
	return readLimited(resp.Body)
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDoc+1))
	if err == nil && len(data) > maxDoc {
		err = fmt.Errorf("larger than %d MiB", maxDoc>>20)
	}
	return data, err
}
