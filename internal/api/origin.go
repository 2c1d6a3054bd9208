package api

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"fbs/internal/egress"
)

// browserGuard keeps web pages of other sites out of the server. In
// local mode the API takes calls without a token, so any page a user
// opens could post a build to 127.0.0.1 (a text/plain or multipart post
// needs no CORS preflight) or cancel one; Go's CrossOriginProtection
// refuses unsafe methods that the browser marks cross-site (Sec-Fetch-Site,
// or else an Origin that is not the Host). Clients that are not browsers
// send neither header and pass. A page that rebinds its own DNS name to
// the server's address is same-origin to the browser, and could read
// logs and artifacts too: its requests carry its own name as Host, which
// the server does not answer (Hosts).
func (s *Server) browserGuard(next http.Handler) http.Handler {
	next = http.NewCrossOriginProtection().Handler(next)
	if len(s.Hosts) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(s.Hosts, r.Host, r.TLS != nil) {
			fail(w, http.StatusMisdirectedRequest, fmt.Errorf("this server does not answer to the host name %q (its operator adds names with --allowed-host)", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed says whether a request's Host is one of allowed: "name"
// (any port), "name:port", or "*" (any host).
func hostAllowed(allowed []string, host string, tls bool) bool {
	name, port := splitHost(host, tls)
	if name == "" {
		return false
	}
	for _, a := range allowed {
		if a == "*" {
			return true
		}
		aname, aport, err := net.SplitHostPort(a)
		if err != nil {
			aname, aport = strings.Trim(a, "[]"), ""
		}
		if strings.EqualFold(strings.TrimSuffix(aname, "."), name) && (aport == "" || aport == port) {
			return true
		}
	}
	return false
}

// splitHost is a Host header's name and port (the scheme's when absent).
func splitHost(host string, tls bool) (string, string) {
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		name, port = strings.Trim(host, "[]"), "80"
		if tls {
			port = "443"
		}
	}
	return strings.TrimSuffix(name, "."), port
}

// DefaultHosts are the host names a server listening on addr answers
// unless its operator says otherwise: the loopback names with its port
// (the CLI on the same machine), publicURL's host (any port: a proxy in
// front may forward its own), the listen address when it names one, and,
// when it listens on every address, this machine's addresses and host
// name with its port (remote workers and clients that name the server so).
func DefaultHosts(addr net.Addr, publicURL string) ([]string, error) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("listening on %s: not a TCP address", addr)
	}
	port := strconv.Itoa(tcp.Port)
	hosts := []string{net.JoinHostPort("localhost", port), net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("::1", port)}
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || u.Hostname() == "" {
			return nil, fmt.Errorf("--public-url %q: not a URL with a host", publicURL)
		}
		hosts = append(hosts, u.Hostname())
	}
	if !tcp.IP.IsUnspecified() {
		return append(hosts, net.JoinHostPort(tcp.IP.String(), port)), nil
	}
	if name, err := os.Hostname(); err == nil {
		short, _, _ := strings.Cut(name, ".")
		hosts = append(hosts, net.JoinHostPort(name, port), net.JoinHostPort(short, port))
	}
	for _, ip := range egress.Own() {
		if !ip.IsLinkLocalUnicast() {
			hosts = append(hosts, net.JoinHostPort(ip.String(), port))
		}
	}
	return hosts, nil
}
