package api

import (
	"context"
	"strings"
	"testing"
)

// TestSeedRESTClient posts exactly what the 2012 client, cli/build_rest.py,
// sent: json.dumps of the INI and of the kickstart, the file name as it was,
// the whole object json.dumps'd again with Python's separators.
func TestSeedRESTClient(t *testing.T) {
	s, h := server(t)
	body := `{"ksfname": "fedora-live-mini.ks", ` +
		`"config": "\"[DEFAULT]\\ntype=live\\narch=x86_64\\nrelease=40\\nstaging=\\nemail=\\n\\n[live]\\nlabel=F40-Mini\\ntitle=Fedora Mini\\nproduct=Fedora\\nreleasever=40\\ntmpdir=/tmp\\ncachedir=/var/cache/live\\nlogfile=/tmp/live.log\\nconfig=fedora-live-mini.ks\\n\"", ` +
		`"ks": "\"repo --name=fedora --baseurl=http://dl.example.org/40/\\n%packages\\n@core\\n%end\\n\""}`
	code, out := do(t, "POST", h.URL+"/rest", "application/json", body)
	if code != 201 || out["type"] != "live" {
		t.Fatalf("the 2012 client's body: %d %v", code, out)
	}
	b, err := s.Store.Get(context.Background(), out["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"config":"fedora-live-mini.ks"`, `"kickstart":"repo --name=fedora`} {
		if !strings.Contains(string(b.Request), want) {
			t.Errorf("stored request %s lacks %s", b.Request, want)
		}
	}
}

func TestPlainOrQuoted(t *testing.T) {
	tests := map[string]struct {
		in   *string
		want string
	}{
		"absent":      {nil, ""},
		"plain":       {ptr("a.ks"), "a.ks"},
		"json-quoted": {ptr(`"a.ks"`), "a.ks"},
		"json null":   {ptr("null"), ""},
		"a path":      {ptr("/srv/ks/b.ks"), "/srv/ks/b.ks"},
	}
	for name, tc := range tests {
		if got := plainOrQuoted(tc.in); got != tc.want {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}

func ptr(s string) *string { return &s }
