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
	own := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("2a01:4f8::5")}
	lab := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	listed := func(s string) []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix(s)} }
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
		"loopback allowed":         {"127.0.0.1", loop, ""},
		"link-local v6":            {"fe80::1", nil, "link-local"},
		"link-local v6 with zone":  {"fe80::1%eth0", nil, "link-local"},
		"unspecified":              {"0.0.0.0", nil, "unspecified"},
		"unspecified v6":           {"::", nil, "unspecified"},
		"this host":                {"0.1.2.3", nil, "this host"},
		"private":                  {"192.168.1.1", nil, "a private network"},
		"private 172":              {"172.16.0.1", nil, "a private network"},
		"private allowed":          {"10.9.9.9", lab, ""},
		"unique local v6":          {"fd00::1", nil, "a private network"},
		"carrier-grade NAT":        {"100.64.0.1", nil, "shared address space"},
		"multicast local":          {"224.0.0.1", nil, "multicast"},
		"multicast global":         {"239.1.1.1", nil, "multicast"},
		"multicast v6":             {"ff02::1", nil, "multicast"},
		"reserved":                 {"240.0.0.1", nil, "reserved"},
		"broadcast":                {"255.255.255.255", nil, "broadcast"},
		"benchmarking":             {"198.18.0.1", nil, "benchmarking"},
		"benchmarking, upper /16":  {"198.19.255.254", nil, "benchmarking"},
		"benchmarking v6":          {"2001:2::1", nil, "benchmarking"},
		"TEST-NET-1":               {"192.0.2.1", nil, "documentation"},
		"TEST-NET-2":               {"198.51.100.1", nil, "documentation"},
		"TEST-NET-3":               {"203.0.113.1", nil, "documentation"},
		"documentation v6":         {"2001:db8::1", nil, "documentation"},
		"documentation v6 3fff":    {"3fff::1", nil, "documentation"},
		"documentation listed":     {"192.0.2.1", listed("192.0.2.0/24"), ""},
		"discard-only v6":          {"100::1", nil, "discard-only"},
		"site-local v6":            {"fec0::1", nil, "site-local"},
		"IETF protocol assignment": {"192.0.0.8", nil, "IETF protocol assignments"},

		// Cloud metadata services, wherever they are.
		"AWS, GCP, Azure metadata":    {"169.254.169.254", nil, "link-local"},
		"AWS metadata v6":             {"fd00:ec2::254", nil, "a private network"},
		"Alibaba metadata":            {"100.100.100.200", nil, "shared address space"},
		"Azure WireServer":            {"168.63.129.16", nil, "Azure's WireServer"},
		"Azure WireServer listed":     {"168.63.129.16", listed("168.63.129.16/32"), ""},
		"Azure WireServer's neighbor": {"168.63.129.17", nil, ""},
		"OCI legacy metadata":         {"192.0.0.192", nil, "IETF protocol assignments"},

		// IPv6 addresses that carry an IPv4 address are judged by it.
		"IPv4-mapped loopback":        {"::ffff:127.0.0.1", nil, "IPv4-mapped of 127.0.0.1: loopback"},
		"IPv4-mapped metadata":        {"::ffff:169.254.169.254", nil, "link-local"},
		"IPv4-mapped public":          {"::ffff:93.184.215.14", nil, ""},
		"IPv4-mapped, v4 allowed":     {"::ffff:127.0.0.1", loop, ""},
		"IPv4-mapped own address":     {"::ffff:10.1.2.3", lab, "an address of this machine"},
		"IPv4-compatible loopback":    {"::127.0.0.1", nil, "IPv4-compatible"},
		"IPv4-compatible public":      {"::93.184.215.14", nil, "IPv4-compatible"},
		"NAT64 metadata":              {"64:ff9b::a9fe:a9fe", nil, "NAT64 of 169.254.169.254: link-local"},
		"NAT64 loopback":              {"64:ff9b::7f00:1", nil, "NAT64 of 127.0.0.1: loopback"},
		"NAT64 private":               {"64:ff9b::192.168.1.1", nil, "a private network"},
		"NAT64 Azure WireServer":      {"64:ff9b::168.63.129.16", nil, "Azure's WireServer"},
		"NAT64 public":                {"64:ff9b::5db8:d70e", nil, ""},
		"NAT64, v4 allowed":           {"64:ff9b::10.9.9.9", lab, ""},
		"NAT64 own address":           {"64:ff9b::10.1.2.3", lab, "an address of this machine"},
		"NAT64 prefix listed":         {"64:ff9b::a9fe:a9fe", listed("64:ff9b::/96"), ""},
		"local-use NAT64 metadata":    {"64:ff9b:1::a9fe:a9fe", nil, "local-use NAT64"},
		"local-use NAT64 public":      {"64:ff9b:1::5db8:d70e", nil, "local-use NAT64"},
		"local-use NAT64 listed":      {"64:ff9b:1::5db8:d70e", listed("64:ff9b:1::/48"), ""},
		"6to4 metadata":               {"2002:a9fe:a9fe::1", nil, "6to4 of 169.254.169.254: link-local"},
		"6to4 loopback":               {"2002:7f00:1::1", nil, "6to4 of 127.0.0.1: loopback"},
		"6to4 unspecified":            {"2002::1", nil, "6to4 of 0.0.0.0: unspecified"},
		"6to4 public":                 {"2002:5db8:d70e::1", nil, ""},
		"Teredo (RFC 4380's example)": {"2001:0:4136:e378:8000:63bf:3fff:fdd2", nil, "Teredo"},
		"Teredo, client metadata":     {"2001:0:5db8:d70e::5601:5601", nil, "Teredo"},

		"own address":              {"10.1.2.3", nil, "an address of this machine"},
		"own address, net allowed": {"10.1.2.3", lab, "an address of this machine"},
		"own public address":       {"2a01:4f8::5", nil, "an address of this machine"},
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

// TestTables: each range is written as its network (a stray host bit,
// as in 168.63.129.16/24, would refuse more than the comment says) and
// given once.
func TestTables(t *testing.T) {
	seen := map[netip.Prefix]bool{}
	var all []netip.Prefix
	for _, n := range refused {
		all = append(all, n.pfx)
	}
	for _, e := range embedding {
		all = append(all, e.pfx)
	}
	for _, pfx := range all {
		if pfx != pfx.Masked() || seen[pfx] {
			t.Errorf("%s: not its network (%s), or given twice", pfx, pfx.Masked())
		}
		seen[pfx] = true
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
