// Package egress decides which addresses the connections fbs makes for a
// request may reach. A request names URLs (its webhook, its kickstart and
// the files that kickstart includes) that the server or a worker then
// fetches from inside the operator's network; without a check, a request
// could make fbs call its own API, a cloud's metadata service or any
// internal host. The check is made on the address actually dialled, for
// every connection (redirects included), so neither a DNS name nor a
// redirect leads around it.
package egress

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrRefused is a connection to an address requests may not reach.
var ErrRefused = errors.New("refused: a request's URLs may not reach this address unless the operator allows its network (--allow-net)")

// Policy is what a request's URLs may reach: any public address, and the
// networks the operator allows (internal mirrors; tests allow 127.0.0.0/8).
// A nil *Policy allows no private network.
type Policy struct {
	Allow []netip.Prefix
}

// Parse makes a policy of the operator's allowed networks (CIDR, or a
// single address), as --allow-net gives them.
func Parse(nets []string) (*Policy, error) {
	p := &Policy{}
	for _, s := range nets {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			addr, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not a network (10.1.0.0/16, fd00::/8) or an address", s)
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		p.Allow = append(p.Allow, pfx.Masked())
	}
	return p, nil
}

// Check says whether ip may be reached (nil) or why not.
func (p *Policy) Check(ip netip.Addr) error {
	var allow []netip.Prefix
	if p != nil {
		allow = p.Allow
	}
	return check(ip, allow, Own())
}

// refused are the networks a request's URLs may not reach unless the
// operator allows them: the IANA IPv4 and IPv6 Special-Purpose Address
// Registries' ranges that are not globally reachable, and cloud metadata
// services that are not in one. An address takes its most specific
// range's reason (255.255.255.255 is broadcast, not reserved).
var refused = []struct {
	pfx netip.Prefix
	why string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this host"},                                    // RFC 791, 1122
	{netip.MustParsePrefix("0.0.0.0/32"), "unspecified"},                                 // RFC 1122
	{netip.MustParsePrefix("10.0.0.0/8"), "a private network"},                           // RFC 1918
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (carrier-grade NAT)"}, // RFC 6598; holds Alibaba Cloud's metadata service, 100.100.100.200
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},                                   // RFC 1122
	{netip.MustParsePrefix("168.63.129.16/32"), "Azure's WireServer"},                    // a public address: every Azure VM's host (its agent, DNS, health probes)
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},                              // RFC 3927; holds 169.254.169.254, the metadata service of AWS, GCP (metadata.google.internal), Azure, OCI, OpenStack
	{netip.MustParsePrefix("172.16.0.0/12"), "a private network"},                        // RFC 1918
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},                 // RFC 6890; holds OCI's legacy metadata service, 192.0.0.192
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation (TEST-NET-1)"},                // RFC 5737
	{netip.MustParsePrefix("192.168.0.0/16"), "a private network"},                       // RFC 1918
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},                             // RFC 2544
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation (TEST-NET-2)"},             // RFC 5737
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation (TEST-NET-3)"},              // RFC 5737
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},                                  // RFC 5771
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},                                   // RFC 1112
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},                           // RFC 919
	{netip.MustParsePrefix("::/128"), "unspecified"},                                     // RFC 4291
	{netip.MustParsePrefix("::1/128"), "loopback"},                                       // RFC 4291
	{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated)"},                     // RFC 4291 2.5.5.1: a host may still tunnel it to the IPv4 address
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64"},                         // RFC 8215: the operator's own translator, where the IPv4 address sits depends on its prefix length (RFC 6052 2.2)
	{netip.MustParsePrefix("100::/64"), "discard-only"},                                  // RFC 6666
	{netip.MustParsePrefix("2001::/32"), "Teredo"},                                       // RFC 4380: reached through a relay, at a client's NAT mapping; no server lives there
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking"},                               // RFC 5180
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},                            // RFC 3849
	{netip.MustParsePrefix("3fff::/20"), "documentation"},                                // RFC 9637
	{netip.MustParsePrefix("fc00::/7"), "a private network (unique local)"},              // RFC 4193; holds AWS's IPv6 metadata service, fd00:ec2::254
	{netip.MustParsePrefix("fe80::/10"), "link-local"},                                   // RFC 4291
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)"},                      // RFC 3879
	{netip.MustParsePrefix("ff00::/8"), "multicast"},                                     // RFC 4291
}

// embedding are the IPv6 ranges whose addresses carry the IPv4 address
// their packets go to (the host or a translator on the way sends them
// there): such an address is judged as that IPv4 address too, so
// 64:ff9b::a9fe:a9fe is 169.254.169.254.
var embedding = []struct {
	pfx  netip.Prefix
	at   int // the IPv4 address's first byte in the IPv6 address
	what string
}{
	{netip.MustParsePrefix("::ffff:0:0/96"), 12, "IPv4-mapped"}, // RFC 4291 2.5.5.2
	{netip.MustParsePrefix("64:ff9b::/96"), 12, "NAT64"},        // RFC 6052 2.1, the well-known prefix
	{netip.MustParsePrefix("2002::/16"), 2, "6to4"},             // RFC 3056 2
}

// check is the decision: own are this machine's interface addresses.
// An address of this machine other than loopback is never reachable (an
// allowed network that holds it does not open the server's own API);
// anything else in an allowed network is; an address that carries an
// IPv4 address is reachable only if that address is; an address in a
// refused network is not.
func check(ip netip.Addr, allow []netip.Prefix, own []netip.Addr) error {
	ip = ip.WithZone("")
	// No address in the message: the dialler's error names it (an IPv4
	// address carried in it, which the dialler's does not, is named below).
	refuse := func(why string) error { return fmt.Errorf("%s: %w", why, ErrRefused) }
	if !ip.IsValid() {
		return refuse("not an IP address")
	}
	for _, o := range own {
		if o == ip && !ip.IsLoopback() {
			return refuse("an address of this machine")
		}
	}
	for _, pfx := range allow {
		if pfx.Contains(ip) {
			return nil
		}
	}
	for _, e := range embedding {
		if e.pfx.Contains(ip) {
			a := ip.As16()
			v4 := netip.AddrFrom4([4]byte(a[e.at : e.at+4]))
			if err := check(v4, allow, own); err != nil {
				return fmt.Errorf("%s of %s: %w", e.what, v4, err)
			}
			return nil
		}
	}
	bits, why := -1, ""
	for _, n := range refused {
		if n.pfx.Contains(ip) && n.pfx.Bits() > bits {
			bits, why = n.pfx.Bits(), n.why
		}
	}
	if why != "" {
		return refuse(why)
	}
	return nil
}

// Own are this machine's interface addresses now (they change: a lease,
// a new interface); Check reads them at each connection.
func Own() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}

// control is a net.Dialer's Control: it runs for each connection after
// the name was resolved, with the address about to be dialled.
func (p *Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("not an IP address and port: %w", ErrRefused)
	}
	return p.Check(ap.Addr())
}

// Dialer dials only addresses the policy allows (for FTP).
func (p *Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, Control: p.control}
}

// Client is an HTTP client whose every connection, redirects' included,
// the policy checks. It uses no proxy: a proxy would make the
// connections the check is for, out of its sight.
func (p *Policy) Client(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = p.Dialer(30 * time.Second).DialContext
	return &http.Client{Transport: tr, Timeout: timeout}
}
