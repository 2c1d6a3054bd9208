package web

import (
	"context"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"fbs/internal/egress"
	"fbs/internal/spec"
	"fbs/internal/store"
)

const miniKS = "repo --name=x --baseurl=http://x/\n%packages\n@core\n%end\n"

// loopback is the operator's allowance for the tests' kickstart servers on 127.0.0.1.
var loopback = &egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

// TestFormKickstartURLGuarded: the form's kickstart URL is fetched only
// where the operator's egress policy allows: one on the server's own
// machine is refused by its field unless loopback is allowed.
func TestFormKickstartURLGuarded(t *testing.T) {
	ks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(miniKS)) }))
	defer ks.Close()
	form := &multipart.Form{Value: map[string][]string{"type": {"live"}, "arch": {"x86_64"}, "release": {"41"}, "live.kickstart_url": {ks.URL + "/live.ks"}}}
	_, err := fromForm(context.Background(), form, nil)
	var fe *fieldError
	if !errors.As(err, &fe) || fe.Field != "live.kickstart" || !strings.Contains(fe.Msg, egress.ErrRefused.Error()) {
		t.Errorf("a kickstart URL on loopback: %v", err)
	}
	if _, err := fromForm(context.Background(), form, loopback); err != nil {
		t.Errorf("loopback allowed: %v", err)
	}
}

// TestSubmitForm: each image type's fields become its request; a bad
// field comes back marked, with its error next to it and what was typed
// kept.
func TestSubmitForm(t *testing.T) {
	s, h := server(t)
	s.Egress = loopback
	ksServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/mini.ks":
			w.Write([]byte(miniKS))
		case "/broken.ks":
			w.Write([]byte("repo --name=x --baseurl=http://x/\n%packages\n@core\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer ksServer.Close()
	br := newBrowser(t, h.URL)
	csrf := br.csrf()
	base := func(typ string, kv ...string) map[string]string {
		f := map[string]string{"csrf": csrf, "type": typ, "arch": "x86_64", "release": "41", "compression": "zstd"}
		for i := 0; i < len(kv); i += 2 {
			f[kv[i]] = kv[i+1]
		}
		return f
	}
	tests := []struct {
		name   string
		fields map[string]string
		files  map[string]string
		field  string // the field marked; "" for a good request
		want   []string
	}{
		{"live uploaded", base("live", "live.title", "Mini", "nvr", "kernel-6.1-1.fc41\nbash-5.2-1.fc41", "bid", "12 13"), map[string]string{"live.kickstart_file": miniKS},
			"", []string{`"type":"live"`, `"title":"Mini"`, `"compression":"zstd"`, `"nvr":["kernel-6.1-1.fc41","bash-5.2-1.fc41"]`, `"bid":[12,13]`, `"kickstart":"repo --name=x`}},
		{"live by URL", base("live", "live.kickstart_url", ksServer.URL+"/mini.ks"), nil, "", []string{`"config":"` + ksServer.URL + `/mini.ks"`}},
		{"boot", base("boot", "boot.product", "remix", "boot.repo_url", "https://mirror.example.org/41/os/", "boot.updates", "1", "boot.updates_url", "https://mirror.example.org/41/updates/", "boot.proxy", "http://proxy:3128",
			"boot.append", "console=ttyS0,115200", "boot.timeout", "1"), nil,
			"", []string{`"type":"boot"`, `"product":"remix"`, `"updates":true`, `"proxy":"http://proxy:3128"`, `"append":"console=ttyS0,115200"`, `"timeout":1`}},
		{"bad boot timeout", base("boot", "boot.repo_url", "https://m/os/", "boot.timeout", "soon"), nil, "boot-timeout", []string{"is not a number of seconds"}},
		{"negative boot timeout", base("boot", "boot.repo_url", "https://m/os/", "boot.timeout", "-1"), nil, "boot-timeout", []string{"0 or more"}},
		{"dvd", base("dvd", "dvd.flavor", "Server", "email", "qa@example.org, dev@example.org"), map[string]string{"dvd.kickstart_file": miniKS}, "",
			[]string{`"type":"dvd"`, `"flavor":"Server"`, `"email":["qa@example.org","dev@example.org"]`}},
		{"no type", base(""), nil, "type", []string{"choose the image"}},
		{"bad release", base("live", "release", "forty"), map[string]string{"live.kickstart_file": miniKS}, "release", []string{"&#34;forty&#34; is not a Fedora release", `value="forty"`}},
		{"bad kickstart URL", base("live", "live.kickstart_url", "htp:/nowhere/mini.ks"), nil, "live-kickstart", []string{"is not an http, https or ftp URL", `value="htp:/nowhere/mini.ks"`}},
		{"missing kickstart URL", base("dvd", "dvd.kickstart_url", ksServer.URL+"/gone.ks"), nil, "dvd-kickstart", []string{"404 Not Found"}},
		{"broken kickstart", base("live", "live.kickstart_url", ksServer.URL+"/broken.ks"), nil, "live-kickstart", []string{"/broken.ks:2: the section has no %end"}},
		{"kickstart without a repo", base("dvd"), map[string]string{"dvd.kickstart_file": "%packages\n@core\n%end\n"}, "dvd-kickstart", []string{"no repo (or url) command"}},
		{"no kickstart", base("live"), nil, "live-kickstart", []string{"upload the kickstart, paste it, or give its URL"}},
		{"no repo", base("boot"), nil, "boot-repo_url", []string{"the release repo needs"}},
		{"updates without a repo", base("boot", "boot.repo_url", "https://m/os/", "boot.updates", "1"), nil, "boot-updates", []string{"updates=1 needs"}},
		{"bad build id", base("live", "bid", "12 x"), map[string]string{"live.kickstart_file": miniKS}, "bid", []string{"&#34;x&#34; is not a Koji build id"}},
		{"bad nvr", base("live", "nvr", "kernel"), map[string]string{"live.kickstart_file": miniKS}, "nvr", []string{"is not a name-version-release"}},
		{"bad email", base("live", "email", "not-an-address"), map[string]string{"live.kickstart_file": miniKS}, "email", []string{"is not an email address"}},
		{"local staging", base("live", "staging", "file:///etc"), map[string]string{"live.kickstart_file": miniKS}, "staging", []string{"stages into no local dir"}},
		{"kickstart including a server file", base("live"), map[string]string{"live.kickstart_file": "%include /etc/passwd\n"}, "live-kickstart", []string{"/etc/passwd"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := br.post("/submit", tc.fields, tc.files)
			if tc.field == "" {
				loc := resp.Header.Get("Location")
				if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/builds/") {
					t.Fatalf("%d %s: %s", resp.StatusCode, loc, page)
				}
				b, err := s.Store.Get(context.Background(), strings.TrimPrefix(loc, "/builds/"))
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range tc.want {
					if !strings.Contains(string(b.Request), w) {
						t.Errorf("the request lacks %s: %s", w, b.Request)
					}
				}
				return
			}
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="`+tc.field+`-error"`) || !strings.Contains(page, `<a href="#`+anchor(formFieldOf(tc.field))+`">`) {
				t.Fatalf("%d, no error by %s: %s", resp.StatusCode, tc.field, page)
			}
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("the page lacks %s", w)
				}
			}
		})
	}
}

// formFieldOf undoes the id an error's field gets (dots become dashes).
func formFieldOf(id string) string {
	for _, typ := range []string{"boot", "dvd", "live"} {
		if rest, ok := strings.CutPrefix(id, typ+"-"); ok {
			return typ + "." + rest
		}
	}
	return id
}

// TestFormRoundTrip: a build's request, put into the form for a copy and
// sent back unchanged, is the same request.
func TestFormRoundTrip(t *testing.T) {
	ks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(miniKS)) }))
	defer ks.Close()
	for name, text := range map[string]string{
		"boot": `{"type":"boot","arch":"aarch64","release":"41","staging":"ftp://ftp.example.org/pub","email":["qa@example.org","dev@example.org"],"webhook":"https://ci.example.org/h",
			"nvr":["kernel-6.1-1.fc41"],"bid":[7,9],"boot":{"product":"remix","version":"41.1","updates":true,"updates_testing":true,"repo":{"url":"https://m/os/"},
			"updates_repo":{"mirror":"https://mm/metalink?repo=updates"},"updates_testing_repo":{"url":"https://m/testing/"},"proxy":"http://proxy:3128","append":"console=ttyS0","timeout":0,"compression":"zstd"}}`,
		"dvd":  `{"type":"dvd","arch":"x86_64","release":"rawhide","dvd":{"name":"remix","flavor":"Server","config":"dvd.ks","kickstart":"` + strings.ReplaceAll(miniKS, "\n", `\n`) + `"}}`,
		"live": `{"type":"live","arch":"x86_64","release":"40","live":{"product":"remix","title":"Remix","label":"Remix-Live","config":"` + ks.URL + `/live.ks","compression":"lz4"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			want, err := spec.ParseJSON(name, []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			got, err := fromForm(context.Background(), &multipart.Form{Value: toForm(want)}, loopback)
			if err != nil {
				t.Fatal(err)
			}
			if name == "dvd" {
				want.DVD.Config = "dvd.ks" // a pasted kickstart is named for its type
			}
			a, _ := json.Marshal(want)
			b, _ := json.Marshal(got)
			if string(a) != string(b) {
				t.Errorf("\n got %s\nwant %s", b, a)
			}
		})
	}
}

// TestSubmitCopy: a build's page offers a copy of its request in the form.
func TestSubmitCopy(t *testing.T) {
	s, h := server(t)
	b := &store.Build{Request: json.RawMessage(`{"type":"live","arch":"x86_64","release":"40","live":{"title":"Mini <b>","kickstart":"` + strings.ReplaceAll(miniKS, "\n", `\n`) + `"}}`), Type: "live", Arch: "x86_64", Release: "40"}
	s.Store.Create(context.Background(), b)
	br := newBrowser(t, h.URL)
	if _, page := br.page("/builds/" + b.ID); !strings.Contains(page, `href="/submit?from=`+b.ID+`"`) {
		t.Error("no copy link on the build's page")
	}
	code, page := br.page("/submit?from=" + b.ID)
	for _, want := range []string{"A copy of build", `value="Mini &lt;b&gt;"`, "%packages\n@core", `id="type-live" value="live" checked`} {
		if code != 200 || !strings.Contains(page, want) {
			t.Errorf("the copy lacks %q (%d)", want, code)
		}
	}
	if code, _ := br.page("/submit?from=nope"); code != http.StatusNotFound {
		t.Errorf("a copy of no build: %d", code)
	}
}
