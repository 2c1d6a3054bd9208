// Package rpmrepo reads RPM repositories the way dnf finds them: by base URL,
// mirrorlist or metalink.
package rpmrepo

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	expand := func(s string) string { return kickstart.Expand(s, releasever, arch) }
	switch {
	case r.BaseURL != "":
		return repomdSum(ctx, c, expand(r.BaseURL))
	case r.Metalink != "":
		doc, err := get(ctx, c, expand(r.Metalink))
		if err != nil {
			return "", err
		}
		return metalinkSum(doc)
	}
	doc, err := get(ctx, c, expand(r.Mirrorlist))
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(strings.NewReader(string(doc)))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			return repomdSum(ctx, c, line)
		}
	}
	return "", fmt.Errorf("mirrorlist %s names no mirror", expand(r.Mirrorlist))
}

func repomdSum(ctx context.Context, c *http.Client, base string) (string, error) {
	doc, err := get(ctx, c, strings.TrimSuffix(base, "/")+"/repodata/repomd.xml")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:]), nil
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
