package rpmrepo

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"fbs/internal/kickstart"
)

func TestFingerprint(t *testing.T) {
	repomd := []byte("<repomd><revision>42</revision></repomd>")
	sum := sha256.Sum256(repomd)
	want := hex.EncodeToString(sum[:])
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "40/x86_64/repodata"), 0o755)
	os.WriteFile(filepath.Join(dir, "40/x86_64/repodata/repomd.xml"), repomd, 0o644)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/mirrorlist":
			fmt.Fprintf(w, "# mirrors for %s\n\n%s/40/x86_64/\n", r.URL.RawQuery, srv.URL)
		case "/metalink":
			fmt.Fprintf(w, `<metalink><files><file name="repomd.xml"><verification>
<hash type="md5">00000000000000000000000000000000</hash><hash type="sha256">%s</hash></verification></file></files></metalink>`, want)
		default:
			http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
		}
	}))
	defer srv.Close()
	tests := map[string]kickstart.Repo{
		"baseurl over http":   {BaseURL: srv.URL + "/$releasever/$basearch/"},
		"baseurl from a file": {BaseURL: "file://" + dir + "/40/x86_64"},
		"mirrorlist":          {Mirrorlist: srv.URL + "/mirrorlist?repo=fedora-$releasever"},
		"metalink":            {Metalink: srv.URL + "/metalink?repo=fedora-$releasever&arch=$basearch"},
	}
	for name, r := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Fingerprint(context.Background(), r, "40", "x86_64")
			if err != nil || got != want {
				t.Errorf("Fingerprint = %q, %v; want %q", got, err, want)
			}
		})
	}
	_, err := Fingerprint(context.Background(), kickstart.Repo{BaseURL: srv.URL + "/41/"}, "41", "x86_64")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing repo: %v", err)
	}
	_, err = Fingerprint(context.Background(), kickstart.Repo{BaseURL: "ftp://x/y"}, "41", "x86_64")
	if err == nil {
		t.Error("an ftp repo got a fingerprint")
	}
}

func TestPrimarySums(t *testing.T) {
	xmlText := `<?xml version="1.0"?><metadata xmlns="http://linux.duke.edu/metadata/common" packages="2">
<package type="rpm"><name>busybox</name><arch>x86_64</arch><version epoch="0" ver="1.35.0" rel="4"/>
<checksum type="sha256" pkgid="YES">aaaa</checksum></package>
<package type="rpm"><name>grub2</name><arch>noarch</arch><version epoch="1" ver="2.06" rel="13"/>
<checksum type="sha256" pkgid="YES">bbbb</checksum></package></metadata>`
	dir := t.TempDir()
	plain := filepath.Join(dir, "primary.xml")
	os.WriteFile(plain, []byte(xmlText), 0o644)
	gz := filepath.Join(dir, "x-primary.xml.gz")
	f, _ := os.Create(gz)
	z := gzip.NewWriter(f)
	z.Write([]byte(xmlText))
	z.Close()
	f.Close()
	for _, p := range []string{plain, gz} {
		got, err := PrimarySums(p)
		want := map[string]string{"busybox-1.35.0-4.x86_64": "aaaa", "grub2-1:2.06-13.noarch": "bbbb"}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v %v", filepath.Base(p), got, err)
		}
	}
}

// TestCompsByMirror: a repo given only by mirrorlist or metalink has its
// comps read from the mirror dnf would take; a metalink's mirror whose
// repomd.xml is not the one it names is passed over.
func TestCompsByMirror(t *testing.T) {
	repomd := []byte(`<repomd><data type="group"><location href="repodata/comps.xml"/></data></repomd>`)
	want := sha256.Sum256(repomd)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/mirrorlist":
			fmt.Fprintf(w, "# repo=%s\n%s/good/40/x86_64/\n", r.URL.Query().Get("repo"), srv.URL)
		case "/metalink":
			fmt.Fprintf(w, `<metalink><files><file name="repomd.xml"><verification><hash type="sha256">%x</hash></verification>
<resources><url protocol="http" preference="100">%s/stale/repodata/repomd.xml</url>
<url protocol="http" preference="90">%s/good/40/x86_64/repodata/repomd.xml</url></resources></file></files></metalink>`, want, srv.URL, srv.URL)
		case "/stale/repodata/repomd.xml":
			w.Write([]byte("<repomd><revision>old</revision></repomd>"))
		case "/good/40/x86_64/repodata/repomd.xml":
			w.Write(repomd)
		case "/good/40/x86_64/repodata/comps.xml":
			w.Write([]byte("<comps><group><id>core</id></group></comps>"))
		default:
			http.NotFound(w, r)
		}
	}))
	tests := map[string]kickstart.Repo{
		"mirrorlist": {Name: "fedora", Mirrorlist: srv.URL + "/mirrorlist?repo=fedora-$releasever"},
		"metalink":   {Name: "fedora", Metalink: srv.URL + "/metalink?repo=fedora-$releasever&arch=$basearch"},
	}
	for name, r := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Comps(context.Background(), r, "40", "x86_64")
			if err != nil || !strings.Contains(string(got), "<id>core</id>") {
				t.Errorf("Comps = %q, %v", got, err)
			}
		})
	}
	srv.Close()
	if _, err := Comps(context.Background(), tests["metalink"], "40", "x86_64"); err == nil {
		t.Error("no error with the metalink unreachable")
	}
}
