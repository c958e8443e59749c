package server

import (
	"strings"
	"sync"
)

// pagePolicies are the Content-Security-Policy of pages other than the embed, by the host
// the browser asked for. A screen's WebSocket goes to its own host, but engines before CSP
// Level 3 (Chromium 64 among them) do not count ws: and wss: as 'self' and refuse it
// unless the policy names it: so each page's policy names its own host, the request's
// (the host the browser used: a proxy passes it on, as checkOrigin needs it too) and
// public_url's, and no other. A server answers under a few names (an address, localhost,
// a DNS name): each policy is built once and shared (headers are only read after this),
// so a request allocates nothing for it.
type pagePolicies struct {
	head, tail string // around the WebSocket sources
	public     string // public_url's sources, "" without one
	self       []string

	mu     sync.RWMutex
	byHost map[string][]string
}

// maxPolicyHosts bounds the policies kept: a client may send any Host it likes, and a
// host past the bound only costs its request the building.
const maxPolicyHosts = 64

// newPagePolicies makes the policies that start with head and end with tail, around the
// connect-src sources. publicHost is public_url's host[:port], or "".
func newPagePolicies(head, tail, publicHost string) *pagePolicies {
	p := &pagePolicies{head: head, tail: tail, byHost: map[string][]string{}}
	if h, ok := cspHost(publicHost); ok {
		p.public = wsSources(h)
	}
	p.self = []string{head + "connect-src 'self'" + p.public + "; " + tail}
	return p
}

// forHost is the policy for a page asked for with Host host.
func (p *pagePolicies) forHost(host string) []string {
	p.mu.RLock()
	v, ok := p.byHost[host]
	p.mu.RUnlock()
	if ok {
		return v
	}
	h, ok := cspHost(host)
	if !ok {
		return p.self // nothing a policy can name: our own origin (and public_url's)
	}
	src := wsSources(h)
	if src == p.public {
		src = ""
	}
	v = []string{p.head + "connect-src 'self'" + src + p.public + "; " + p.tail}
	p.mu.Lock()
	if len(p.byHost) < maxPolicyHosts {
		p.byHost[host] = v
	}
	p.mu.Unlock()
	return v
}

func wsSources(host string) string { return " ws://" + host + " wss://" + host }

// cspHost is host (a Host header: name or IPv4 address, and a port) as a CSP host-source
// writes it, lower case, and whether it is one. Anything else (an IPv6 literal, which the
// grammar has no room for, or a header with characters that would end the directive) is
// not named in a policy.
func cspHost(host string) (string, bool) {
	name, port, hasPort := strings.Cut(host, ":")
	if name == "" || (hasPort && port == "") {
		return "", false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return "", false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	for _, c := range []byte(port) {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return strings.ToLower(host), true
}
