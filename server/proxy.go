package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
	forwardedheader "github.com/shogo82148/forwarded-header"
)

// The headers a reverse proxy may name the client in (server.client_ip_header).
const (
	headerXForwardedFor = "X-Forwarded-For" // RFC 7239's ancestor: a list of addresses, the client first
	headerXRealIP       = "X-Real-IP"       // one address, as nginx's $remote_addr
	headerForwarded     = "Forwarded"       // RFC 7239
)

// clientIPHeaders are the values server.client_ip_header takes, in their usual spelling.
var clientIPHeaders = []string{headerXForwardedFor, headerXRealIP, headerForwarded}

// proxies knows which TCP peers are reverse proxies of ours (server.trusted_proxies) and
// the one header they name the client in (server.client_ip_header): only that header,
// and only from them, is believed. Anyone else could write X-Forwarded-For and pose as
// any address, or as this machine; and a proxy passes on, untouched, the headers it does
// not set itself, so a client's own X-Forwarded-For reaches us through a proxy that sets
// only X-Real-IP.
type proxies struct {
	nets   []netip.Prefix
	header string // client_ip_header, spelt as in clientIPHeaders; "" for none
}

func newProxies(cidrs []string, header string) *proxies {
	p := &proxies{header: canonicalClientIPHeader(header)}
	for _, c := range cidrs {
		prefix, err := parsePrefix(c)
		if err != nil {
			continue // the config was validated; nothing to trust in a bad line
		}
		p.nets = append(p.nets, prefix)
	}
	return p
}

// canonicalClientIPHeader is a client_ip_header value in its usual spelling, whatever its
// case; "" when it is none of them.
func canonicalClientIPHeader(s string) string {
	for _, h := range clientIPHeaders {
		if strings.EqualFold(strings.TrimSpace(s), h) {
			return h
		}
	}
	return ""
}

// parsePrefix reads a CIDR, or a single address as its own /32 or /128.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked(), nil
}

// trustsAddr reports whether a is one of our proxies.
func (p *proxies) trustsAddr(a netip.Addr) bool {
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// trusts reports whether the request's TCP peer is one of our proxies.
func (p *proxies) trusts(r *http.Request) bool {
	if len(p.nets) == 0 {
		return false
	}
	peer, ok := peerAddr(r)
	return ok && p.trustsAddr(peer)
}

// hop is one entry of a forwarding chain: the address it names (invalid when it is
// "unknown", an obfuscated name or unreadable) and, in a Forwarded element, the
// protocol the request came in with.
type hop struct {
	addr  netip.Addr
	proto string
}

// client walks the chain of the believed header right to left, from the TCP peer (one of
// ours), past every hop that is one of our proxies: the first address that is not is the
// client. A hop that names no address (unknown, obfuscated, unreadable) ends the walk: we
// cannot see past it, and the client is the last of our proxies, the one that wrote it.
// When every hop is ours, the leftmost one is the client.
func (p *proxies) client(h http.Header, peer netip.Addr) hop {
	chain := p.chain(h)
	last := hop{addr: peer}
	for i := len(chain) - 1; i >= 0; i-- {
		c := chain[i]
		if !c.addr.IsValid() {
			return hop{addr: last.addr, proto: c.proto}
		}
		if !p.trustsAddr(c.addr) {
			return c
		}
		last = c
	}
	return last
}

// chain is the forwarding chain the believed header holds, the client's end first, over
// all of its lines in order.
func (p *proxies) chain(h http.Header) []hop {
	var out []hop
	switch p.header {
	case headerXForwardedFor:
		for _, line := range h.Values(headerXForwardedFor) {
			for item := range strings.SplitSeq(line, ",") {
				if item = strings.TrimSpace(item); item != "" {
					out = append(out, hop{addr: parseHopAddr(item)})
				}
			}
		}
	case headerXRealIP:
		// One address; a proxy that sets it replaces the client's, so the last line is its.
		if lines := h.Values(headerXRealIP); len(lines) > 0 {
			out = append(out, hop{addr: parseHopAddr(strings.TrimSpace(lines[len(lines)-1]))})
		}
	case headerForwarded:
		for _, line := range h.Values(headerForwarded) {
			for _, elem := range forwardedElements(line) {
				out = append(out, forwardedHop(elem))
			}
		}
	}
	return out
}

// forwardedHop reads one element of a Forwarded header (RFC 7239, 4) with its grammar:
// quoted strings and their escapes, IPv6 in brackets with a port, unknown and obfuscated
// names. An element that does not parse names no address.
func forwardedHop(elem string) hop {
	parsed, err := forwardedheader.Parse([]string{elem})
	if err != nil || len(parsed) != 1 {
		return hop{}
	}
	f := parsed[0]
	h := hop{proto: f.Proto}
	if a := f.For.IP; a.IsValid() && f.For.ObfuscatedNode == "" && a.Zone() == "" && !a.IsUnspecified() {
		h.addr = a.Unmap()
	}
	return h
}

// forwardedElements splits a Forwarded line at the commas between its elements, not at
// those inside a quoted string (for="[2001:db8::1]:4711" holds no comma, but a client can
// write one there to pose as two hops). The parser of the elements is the library's; the
// split is ours so that one bad element a client wrote does not hide the good ones our
// proxies appended after it. Empty elements (", ,") are dropped, as in any list (RFC 9110,
// 5.6.1).
func forwardedElements(line string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case quoted && c == '\\':
			i++ // a quoted-pair: the next byte is taken as it is
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = appendElement(out, line[start:i])
			start = i + 1
		}
	}
	return appendElement(out, line[start:])
}

func appendElement(out []string, elem string) []string {
	if elem = strings.TrimSpace(elem); elem != "" {
		out = append(out, elem)
	}
	return out
}

// parseHopAddr reads an address of X-Forwarded-For or X-Real-IP: bare, in brackets, or
// with a port (some load balancers add it). Anything else names no address.
func parseHopAddr(s string) netip.Addr {
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a = ap.Addr()
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		a, _ = netip.ParseAddr(s[1 : len(s)-1])
	} else {
		a, _ = netip.ParseAddr(s)
	}
	if !a.IsValid() || a.Zone() != "" || a.IsUnspecified() {
		return netip.Addr{}
	}
	return a.Unmap()
}

// clientIP is the address of the client: the TCP peer, or, when the peer is a trusted
// proxy, the client that server.client_ip_header names. It is echo's IPExtractor, so
// c.RealIP() gives it everywhere: logs, limits, the status page.
func (s *Server) clientIP(r *http.Request) string {
	peer, ok := peerAddr(r)
	if !ok {
		return r.RemoteAddr
	}
	if !s.proxies.trustsAddr(peer) {
		return peer.String()
	}
	return s.proxies.client(r.Header, peer).addr.String()
}

// scheme is the scheme the client used: https when the connection is TLS, or when a
// trusted proxy says so: in the Forwarded element that names the client (proto=) when
// that is the header believed, else in X-Forwarded-Proto.
func (s *Server) scheme(c echo.Context) string {
	r := c.Request()
	if r.TLS != nil {
		return "https"
	}
	if s.proxies.trusts(r) {
		var proto string
		if s.proxies.header == headerForwarded {
			peer, _ := peerAddr(r)
			proto = s.proxies.client(r.Header, peer).proto
		} else {
			proto = r.Header.Get(echo.HeaderXForwardedProto)
		}
		if p := strings.ToLower(strings.TrimSpace(proto)); p == "https" || p == "http" {
			return p
		}
	}
	return "http"
}

// forwardingHeaders are the headers a proxy adds; a request with any of them came through
// one, wherever its TCP peer is.
var forwardingHeaders = []string{headerForwarded, echo.HeaderXForwardedFor, echo.HeaderXRealIP, echo.HeaderXForwardedProto, "X-Forwarded-Host"}

func forwarded(r *http.Request) bool {
	for _, h := range forwardingHeaders {
		if _, ok := r.Header[h]; ok {
			return true
		}
	}
	return false
}

// peerAddr is the TCP peer's address.
func peerAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// isLoopbackHost reports whether host (a Host header, port allowed) names this machine:
// localhost, a name under .localhost, or a loopback address.
func isLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
