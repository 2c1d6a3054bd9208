package egress

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// TestCheck: the decision, on addresses alone (no traffic).
func TestCheck(t *testing.T) {
	own := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("2001:db8::5")}
	lab := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tests := map[string]struct {
		ip    string
		allow []netip.Prefix
		why   string // "" when allowed
	}{
		"public":                   {"93.184.215.14", nil, ""},
		"public v6":                {"2606:4700::1111", nil, ""},
		"loopback":                 {"127.0.0.1", nil, "loopback"},
		"loopback elsewhere in /8": {"127.3.4.5", nil, "loopback"},
		"loopback v6":              {"::1", nil, "loopback"},
		"loopback v4-mapped":       {"::ffff:127.0.0.1", nil, "loopback"},
		"loopback allowed":         {"127.0.0.1", loop, ""},
		"cloud metadata":           {"169.254.169.254", nil, "link-local"},
		"link-local v6":            {"fe80::1", nil, "link-local"},
		"link-local v6 with zone":  {"fe80::1%eth0", nil, "link-local"},
		"unspecified":              {"0.0.0.0", nil, "unspecified"},
		"unspecified v6":           {"::", nil, "unspecified"},
		"this host":                {"0.1.2.3", nil, "this host"},
		"private":                  {"192.168.1.1", nil, "a private network"},
		"private 172":              {"172.16.0.1", nil, "a private network"},
		"unique local v6":          {"fd00::1", nil, "a private network"},
		"carrier-grade NAT":        {"100.64.0.1", nil, "shared address space"},
		"multicast":                {"224.0.0.1", nil, "link-local"},
		"multicast global":         {"239.1.1.1", nil, "multicast"},
		"broadcast":                {"255.255.255.255", nil, "reserved"},
		"private allowed":          {"10.9.9.9", lab, ""},
		"own address":              {"10.1.2.3", nil, "an address of this machine"},
		"own address, net allowed": {"10.1.2.3", lab, "an address of this machine"},
		"own public address":       {"2001:db8::5", nil, "an address of this machine"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := check(netip.MustParseAddr(tc.ip), tc.allow, own)
			switch {
			case tc.why == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.why != "" && (!errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.why)):
				t.Errorf("error %v, want ErrRefused for %q", err, tc.why)
			}
		})
	}
}

func TestParse(t *testing.T) {
	p, err := Parse([]string{"127.0.0.0/8", "10.1.2.3", "fd00::1/8"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(p.Allow); got != "[127.0.0.0/8 10.1.2.3/32 fd00::/8]" {
		t.Errorf("allowed %s", got)
	}
	if _, err := Parse([]string{"intranet"}); err == nil || !strings.Contains(err.Error(), `"intranet" is not a network`) {
		t.Errorf("a name: %v", err)
	}
}

// TestClient: the client's connections are checked as they are dialled:
// a server on 127.0.0.1 is refused by default and reached when loopback
// is allowed, by address or by name; a redirect to another loopback
// address outside the allowance is refused on that hop.
func TestClient(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := &httptest.Server{Listener: other, Config: &http.Server{Handler: http.NotFoundHandler()}}
	elsewhere.Start()
	defer elsewhere.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away" {
			http.Redirect(w, r, elsewhere.URL+"/", http.StatusFound)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	one := netip.MustParsePrefix("127.0.0.1/32")
	tests := map[string]struct {
		policy  *Policy
		url     string
		refused bool
	}{
		"default":                     {nil, srv.URL, true},
		"by name":                     {nil, "http://localhost:" + port + "/", true},
		"loopback allowed":            {&Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, srv.URL, false},
		"loopback allowed, by name":   {&Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}, "http://localhost:" + port + "/", false},
		"redirect within":             {&Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, srv.URL + "/away", false},
		"redirect out of the allowed": {&Policy{Allow: []netip.Prefix{one}}, srv.URL + "/away", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp, err := tc.policy.Client(0).Get(tc.url)
			if err == nil {
				resp.Body.Close()
			}
			if tc.refused != errors.Is(err, ErrRefused) {
				t.Errorf("error %v, want refused=%v", err, tc.refused)
			}
		})
	}
}
