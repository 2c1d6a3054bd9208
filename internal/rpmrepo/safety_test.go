package rpmrepo

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fbs/internal/kickstart"
)

// TestRelative: a repomd location is followed only within the repo.
func TestRelative(t *testing.T) {
	for href, ok := range map[string]bool{
		"repodata/abc-comps.xml":    true,
		"repodata/abc-comps.xml.gz": true,
		"":                          false,
		"../../etc/shadow":          false,
		"repodata/../../x":          false,
		"/etc/shadow":               false,
		"file:///etc/shadow":        false,
		"http://elsewhere/comps":    false,
		"repodata/x\x00.xml":        false,
		`repodata\..\..\x`:          false,
	} {
		if err := relative(href); (err == nil) != ok {
			t.Errorf("relative(%q) = %v, want ok=%v", href, err, ok)
		}
	}
}

// comps writes a repo whose repomd points its group data at href, with a
// secret next to the repo, and reads its comps.
func comps(t testing.TB, repomd string) ([]byte, string, error) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	os.MkdirAll(filepath.Join(repo, "repodata"), 0o755)
	os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cret"), 0o600)
	os.WriteFile(filepath.Join(repo, "repodata", "comps.xml"), []byte("<comps/>"), 0o644)
	os.WriteFile(filepath.Join(repo, "repodata", "repomd.xml"), []byte(repomd), 0o644)
	data, err := Comps(context.Background(), kickstart.Repo{Name: "x", BaseURL: "file://" + repo}, "40", "x86_64")
	return data, dir, err
}

func repomd(typ, href string) string {
	return `<repomd><data type="` + typ + `"><location href="` + href + `"/></data></repomd>`
}

func TestCompsStaysInRepo(t *testing.T) {
	tests := map[string]struct {
		repomd, want string
		ok           bool
	}{
		"in the repo":   {repomd("group", "repodata/comps.xml"), "<comps/>", true},
		"up and out":    {repomd("group", "../secret"), "leaves the repo", false},
		"absolute":      {repomd("group", "/etc/passwd"), "not a path within the repo", false},
		"another url":   {repomd("group_gz", "file:///etc/passwd"), "not a path within the repo", false},
		"no group data": {repomd("primary", "repodata/primary.xml"), "", true},
		"not xml":       {"<repomd", "repomd.xml", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			data, _, err := comps(t, tc.repomd)
			if tc.ok && (err != nil || !strings.Contains(string(data), tc.want)) || !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("got %q, %v; want ok=%v with %q", data, err, tc.ok, tc.want)
			}
		})
	}
}

// FuzzComps: whatever the repomd says, Comps reads nothing outside the repo.
func FuzzComps(f *testing.F) {
	f.Add(repomd("group", "repodata/comps.xml"))
	f.Add(repomd("group", "../secret"))
	f.Add(repomd("group_gz", "repodata/comps.xml.gz"))
	f.Fuzz(func(t *testing.T, doc string) {
		data, _, _ := comps(t, doc)
		if bytes.Contains(data, []byte("s3cret")) {
			t.Fatalf("read the secret outside the repo: %q", doc)
		}
	})
}

// FuzzPrimarySums: any primary.xml.gz gives sums or an error, never a panic.
func FuzzPrimarySums(f *testing.F) {
	f.Add([]byte(`<metadata><package type="rpm"><name>a</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/><checksum type="sha256">ab</checksum></package></metadata>`))
	f.Add([]byte(`<metadata><package><name>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		path := filepath.Join(t.TempDir(), "primary.xml.gz")
		var buf bytes.Buffer
		z := gzip.NewWriter(&buf)
		z.Write(doc)
		z.Close()
		os.WriteFile(path, buf.Bytes(), 0o644)
		PrimarySums(path)
	})
}

// FuzzMetalink: any metalink gives a sha256 of 64 hex digits or an error.
func FuzzMetalink(f *testing.F) {
	f.Add([]byte(`<metalink><files><file name="repomd.xml"><verification><hash type="sha256">` + strings.Repeat("a", 64) + `</hash></verification></file></files></metalink>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		sum, err := metalinkSum(doc)
		if err == nil && len(sum) != 64 {
			t.Fatalf("sum %q", sum)
		}
	})
}
