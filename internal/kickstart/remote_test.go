package kickstart

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"fbs/internal/egress"
)

// files is a loader of kickstarts held in memory, by name.
type files map[string]string

func (f files) Load(_ context.Context, ref, _ string) (string, []byte, error) {
	text, ok := f[ref]
	if !ok {
		return "", nil, errors.New("no such file")
	}
	return ref, []byte(text), nil
}

// TestBounds: the whole kickstart is bounded — its size with everything
// it includes, the number of includes, their depth — each error naming
// the line that went over.
func TestBounds(t *testing.T) {
	chain := files{}
	for i := range maxIncludeDepth + 1 {
		chain[fmt.Sprint("d", i)] = fmt.Sprintf("%%include d%d\n", i+1)
	}
	chain["d17"] = "lang en\n"
	tests := map[string]struct {
		files files
		want  string
	}{
		"size": {files{"top.ks": "lang en\n%include big\n%include big\n", "big": strings.Repeat("# padding\n", 60<<10)},
			"top.ks:3: the kickstart with the files it includes is larger than 1024 KiB"},
		"count": {files{"top.ks": strings.Repeat("%include small\n", maxIncludes+1), "small": "lang en\n"},
			fmt.Sprintf("top.ks:%d: %%include: the kickstart includes more than %d files", maxIncludes+1, maxIncludes)},
		"depth":  {chain, "d15:1: %include nested deeper than 16 files"},
		"within": {files{"top.ks": strings.Repeat("%include small\n", maxIncludes), "small": "lang en\n"}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			top := "top.ks"
			if name == "depth" {
				top = "d0"
			}
			_, err := Flatten(context.Background(), tc.files, top)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestBoundsStopFetching: includes of a large URL stop at the bound: the
// server is asked for the file twice, not four times, and no more than the
// bound is read.
func TestBoundsStopFetching(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			asked.Add(1)
			w.Write([]byte(strings.Repeat("# padding\n", 70<<10)))
			return
		}
		w.Write([]byte(strings.Repeat("%include big\n", 4)))
	}))
	defer srv.Close()
	_, err := Flatten(context.Background(), &FileLoader{}, srv.URL+"/top.ks")
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/top.ks:2: the kickstart with the files it includes is larger than 1024 KiB") {
		t.Errorf("error %v", err)
	}
	if n := asked.Load(); n != 2 {
		t.Errorf("the large file was fetched %d times, want 2", n)
	}
}

// TestFetchedTextNotQuoted: an error about a line fetched by URL names
// the URL, the line and the problem, never the line's text (the URL may
// name a page that holds secrets); the same line given inline is quoted.
func TestFetchedTextNotQuoted(t *testing.T) {
	tests := map[string]string{
		"unknown command":  "API_KEY=hunter2\n",
		"unknown section":  "%hunter2\n%end\n",
		"no end":           "%hunter2\n",
		"cannot split":     "token 'hunter2\n",
		"bad option":       "bootloader --hunter2\n",
		"bad value":        "bootloader --timeout=hunter2\n",
		"extra argument":   "part / hunter2\n",
		"repo twice":       "repo --name=hunter2 --baseurl=http://x/\nrepo --name=hunter2 --baseurl=http://x/\n",
		"repo two sources": "repo --name=hunter2 --baseurl=http://x/ --metalink=http://y/\n",
		"repo cost":        "repo --name=a --baseurl=http://x/ --cost=hunter2\n",
		"part":             "part /hunter2\n",
		"include":          "%include hunter2\n",
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/ks" {
					http.NotFound(w, r)
					return
				}
				w.Write([]byte(text))
			}))
			defer srv.Close()
			_, err := Read(context.Background(), &FileLoader{}, srv.URL+"/ks", "")
			if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.HasPrefix(err.Error(), srv.URL+"/ks:") {
				t.Errorf("fetched: %v", err)
			}
			_, err = Read(context.Background(), &FileLoader{}, "inline.ks", text)
			if err == nil || !strings.Contains(err.Error(), "hunter2") {
				t.Errorf("inline: %v, want the text quoted", err)
			}
		})
	}
}

// TestRequestURLsGuarded: a request's kickstart, and a URL it includes,
// are fetched only where the egress policy allows: a server on 127.0.0.1
// is refused by default and read when the operator allows loopback.
func TestRequestURLsGuarded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("repo --name=a --baseurl=http://x/\n"))
	}))
	defer srv.Close()
	loopback := &egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	tests := map[string]struct {
		policy    *egress.Policy
		ref, text string
		refused   bool
	}{
		"by URL":                     {nil, srv.URL + "/ks", "", true},
		"included":                   {nil, "", "%include " + srv.URL + "/ks\n", true},
		"by URL, loopback allowed":   {loopback, srv.URL + "/ks", "", false},
		"included, loopback allowed": {loopback, "", "%include " + srv.URL + "/ks\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Read(context.Background(), &FileLoader{NoLocal: true, Egress: tc.policy}, tc.ref, tc.text)
			if refused := err != nil && strings.Contains(err.Error(), egress.ErrRefused.Error()); refused != tc.refused || !tc.refused && err != nil {
				t.Errorf("error %v, want refused=%v", err, tc.refused)
			}
		})
	}
}
