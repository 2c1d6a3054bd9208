package koji

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlain: names from the hub name files here only when plain.
func TestPlain(t *testing.T) {
	for name, ok := range map[string]bool{
		"hello-2.0-1.fc40":            true,
		"hello-2.0-1.fc40.x86_64.rpm": true,
		"":                            false,
		".":                           false,
		"..":                          false,
		"../../etc/cron.d/x":          false,
		"/etc/passwd":                 false,
		"a/b":                         false,
		`a\b`:                         false,
		"nul\x00byte":                 false,
		".hidden":                     false,
		strings.Repeat("x", 256):      false,
	} {
		if err := plain(name); (err == nil) != ok {
			t.Errorf("plain(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

// answer is a hub that answers every call with body.
type answer string

func (a answer) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(string(a))), Header: http.Header{}}, nil
}

func hub(body string) *Client {
	return &Client{Hub: "http://hub.invalid/kojihub", TopURL: "http://top.invalid/", HTTP: &http.Client{Transport: answer(body)}}
}

func response(members string) string {
	return "<?xml version='1.0'?><methodResponse><params><param><value>" + members + "</value></param></params></methodResponse>"
}

func build(nvr, name string) string {
	return "<struct><member><name>id</name><value><int>7</int></value></member>" +
		"<member><name>name</name><value><string>" + name + "</string></value></member>" +
		"<member><name>version</name><value><string>1</string></value></member>" +
		"<member><name>release</name><value><string>1</string></value></member>" +
		"<member><name>nvr</name><value><string>" + nvr + "</string></value></member>" +
		"<member><name>state</name><value><int>1</int></value></member></struct>"
}

// TestHostileHub: a hub whose answers would put files outside the cache,
// or paths outside the topurl, is refused.
func TestHostileHub(t *testing.T) {
	ctx := context.Background()
	tests := map[string]struct {
		body string
		want string
	}{
		"nvr with ..":    {response(build("../../etc/x-1-1", "x")), "not a plain file name"},
		"name with /":    {response(build("x-1-1", "a/b")), "not a plain file name"},
		"volume with ..": {response(strings.Replace(build("x-1-1", "x"), "</struct>", "<member><name>volume_name</name><value><string>../../../etc</string></value></member></struct>", 1)), "volume \"../../../etc\": not a plain name"},
		"volume":         {response(strings.Replace(build("x-1-1", "x"), "</struct>", "<member><name>volume_name</name><value><string>vol2</string></value></member></struct>", 1)), ""},
		"good":           {response(build("x-1-1", "x")), ""},
		"not xml":        {"<html>", "answered"},
		"empty":          {"", "answered"},
		"wrong type":     {response("<int>3</int>"), "answered"},
		"fault":          {"<?xml version='1.0'?><methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><string>no</string></value></member></struct></value></fault></methodResponse>", "Koji says: no"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := hub(tc.body).GetBuild(ctx, "x-1-1")
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	rpms := response("<array><data><value><struct><member><name>name</name><value><string>../../x</string></value></member>" +
		"<member><name>version</name><value><string>1</string></value></member><member><name>release</name><value><string>1</string></value></member>" +
		"<member><name>arch</name><value><string>x86_64</string></value></member></struct></value></data></array>")
	if _, err := hub(rpms).ListRPMs(ctx, Build{ID: 7, NVR: "x-1-1"}, "x86_64"); err == nil || !strings.Contains(err.Error(), "not a plain file name") {
		t.Errorf("an RPM named ../../x: %v", err)
	}
}

// FuzzHubAnswer: whatever the hub answers, the client returns a build and
// RPMs with plain names, or an error; it never panics.
func FuzzHubAnswer(f *testing.F) {
	f.Add(response(build("x-1-1", "x")))
	f.Add(response("<array><data><struct><member><name>name</name><value><string>x</string></value></member></struct></data></array>"))
	f.Add("<methodResponse><fault><value><struct></struct></value></fault></methodResponse>")
	f.Fuzz(func(t *testing.T, body string) {
		c := hub(body)
		b, err := c.GetBuild(context.Background(), "x-1-1")
		if err == nil && plain(b.NVR) != nil {
			t.Fatalf("build %q taken", b.NVR)
		}
		rpms, err := c.ListRPMs(context.Background(), Build{ID: 7, NVR: "x-1-1"}, "x86_64")
		for _, r := range rpms {
			if err == nil && plain(r.File()) != nil {
				t.Fatalf("RPM %q taken", r.File())
			}
		}
	})
}

// endless is a body without end that counts what was read of it.
type endless struct{ read *int64 }

func (e endless) Read(p []byte) (int, error) {
	*e.read += int64(len(p))
	return len(p), nil
}
func (e endless) Close() error { return nil }

type endlessServer struct{ read *int64 }

func (e endlessServer) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: endless(e), Header: http.Header{}}, nil
}

// TestDownloadStopsAtKojisSize: an RPM Koji says has 1,000 bytes, served
// without end, is refused having read 1,001 bytes, and nothing is kept.
func TestDownloadStopsAtKojisSize(t *testing.T) {
	var read int64
	c := &Client{TopURL: "http://top.invalid/", HTTP: &http.Client{Transport: endlessServer{&read}}}
	dst := filepath.Join(t.TempDir(), "x-1-1.x86_64.rpm")
	r := RPM{Name: "x", Version: "1", Release: "1", Arch: "x86_64", Size: 1000}
	err := c.download(context.Background(), "http://top.invalid/x.rpm", dst, r)
	if err == nil || !strings.Contains(err.Error(), "x-1-1.x86_64.rpm is larger than the 1000 bytes Koji says") {
		t.Errorf("error %v", err)
	}
	if read != 1001 {
		t.Errorf("read %d bytes, want 1001", read)
	}
	if left, _ := os.ReadDir(filepath.Dir(dst)); len(left) != 0 {
		t.Errorf("left %v", left)
	}
}
