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

// refusedNets are not reachable unless allowed; the netip predicates in
// check cover loopback, link-local, unspecified, private and multicast.
var refusedNets = []struct {
	pfx netip.Prefix
	why string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this host"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
}

// check is the decision: own are this machine's interface addresses.
// An address of this machine other than loopback is never reachable (an
// allowed network that holds it does not open the server's own API);
// anything else in an allowed network is; loopback, link-local,
// unspecified, private, multicast and reserved addresses are not.
func check(ip netip.Addr, allow []netip.Prefix, own []netip.Addr) error {
	ip = ip.Unmap().WithZone("")
	// No address in the message: the dialler's error names it.
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
	switch {
	case ip.IsLoopback():
		return refuse("loopback")
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return refuse("link-local")
	case ip.IsUnspecified():
		return refuse("unspecified")
	case ip.IsPrivate():
		return refuse("a private network")
	case ip.IsMulticast():
		return refuse("multicast")
	}
	for _, n := range refusedNets {
		if n.pfx.Contains(ip) {
			return refuse(n.why)
		}
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
