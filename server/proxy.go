package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// proxies knows which TCP peers are reverse proxies of ours (server.trusted_proxies):
// only their forwarding headers are believed. Anyone else could write X-Forwarded-For
// and pose as any address, or as this machine.
type proxies struct {
	nets   []netip.Prefix
	xff    echo.IPExtractor
	realIP echo.IPExtractor
}

func newProxies(cidrs []string) *proxies {
	p := &proxies{}
	// echo trusts loopback and private ranges by default; we trust exactly the configured ones.
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, c := range cidrs {
		prefix, err := parsePrefix(c)
		if err != nil {
			continue // the config was validated; nothing to trust in a bad line
		}
		p.nets = append(p.nets, prefix)
		_, ipnet, _ := net.ParseCIDR(prefix.String())
		opts = append(opts, echo.TrustIPRange(ipnet))
	}
	p.xff = echo.ExtractIPFromXFFHeader(opts...)
	p.realIP = echo.ExtractIPFromRealIPHeader(opts...)
	return p
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

// trusts reports whether the request's TCP peer is one of our proxies.
func (p *proxies) trusts(r *http.Request) bool {
	if len(p.nets) == 0 {
		return false
	}
	peer, ok := peerAddr(r)
	if !ok {
		return false
	}
	for _, n := range p.nets {
		if n.Contains(peer) {
			return true
		}
	}
	return false
}

// clientIP is the address of the client: the TCP peer, or, when the peer is a trusted
// proxy, the nearest untrusted address its forwarding headers name. It is echo's
// IPExtractor, so c.RealIP() gives it everywhere: logs, limits, the status page.
func (s *Server) clientIP(r *http.Request) string {
	if !s.proxies.trusts(r) {
		return peerHost(r)
	}
	h := r.Header
	switch {
	case h.Get(echo.HeaderXForwardedFor) != "":
		return s.proxies.xff(r)
	case h.Get(echo.HeaderXRealIP) != "":
		return s.proxies.realIP(r)
	case h.Get("Forwarded") != "":
		if ip := forwardedParam(h.Get("Forwarded"), "for"); ip != "" {
			return ip
		}
	}
	return peerHost(r)
}

// scheme is the scheme the client used: https when the connection is TLS, or when a
// trusted proxy says so (X-Forwarded-Proto, or proto= of Forwarded, RFC 7239).
func (s *Server) scheme(c echo.Context) string {
	r := c.Request()
	if r.TLS != nil {
		return "https"
	}
	if s.proxies.trusts(r) {
		proto := r.Header.Get(echo.HeaderXForwardedProto)
		if proto == "" {
			proto = forwardedParam(r.Header.Get("Forwarded"), "proto")
		}
		if p := strings.ToLower(strings.TrimSpace(proto)); p == "https" || p == "http" {
			return p
		}
	}
	return "http"
}

// forwardingHeaders are the headers a proxy adds; a request with any of them came through
// one, wherever its TCP peer is.
var forwardingHeaders = []string{"Forwarded", echo.HeaderXForwardedFor, echo.HeaderXRealIP, echo.HeaderXForwardedProto, "X-Forwarded-Host"}

func forwarded(r *http.Request) bool {
	for _, h := range forwardingHeaders {
		if _, ok := r.Header[h]; ok {
			return true
		}
	}
	return false
}

// forwardedParam is the value of param (for, proto) in the element of a Forwarded header
// nearest to us, with quotes, brackets and any port removed from an address.
func forwardedParam(header, param string) string {
	elems := strings.Split(header, ",")
	for _, pair := range strings.Split(elems[len(elems)-1], ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(k, param) {
			continue
		}
		v = strings.Trim(v, `"`)
		if param != "for" {
			return v
		}
		if ap, err := netip.ParseAddrPort(v); err == nil {
			return ap.Addr().Unmap().String()
		}
		if a, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
			return a.Unmap().String()
		}
		return ""
	}
	return ""
}

// peerAddr is the TCP peer's address.
func peerAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

func peerHost(r *http.Request) string {
	if a, ok := peerAddr(r); ok {
		return a.String()
	}
	return r.RemoteAddr
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
