package server

import (
	"net/http"
	"net/netip"
	"testing"
)

// TestClientIPConformance: where each header style puts the client, walked right to left
// from the TCP peer past our proxies (127.0.0.1 and 10.9.0.0/16), with RFC 7239's grammar
// for Forwarded: quoted strings and their escapes, several lines, IPv6 in brackets with a
// port, unknown and obfuscated names; and only the header the operator named.
func TestClientIPConformance(t *testing.T) {
	const peer = "127.0.0.1"
	for _, tc := range []struct {
		name, header string
		lines        map[string][]string
		want, proto  string
	}{
		// X-Forwarded-For
		{"xff: one hop", headerXForwardedFor, map[string][]string{"X-Forwarded-For": {"198.51.100.2"}}, "198.51.100.2", ""},
		{"xff: the client's own entry is left of the one we trust", headerXForwardedFor, map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.3"}}, "198.51.100.3", ""},
		{"xff: past a trusted hop", headerXForwardedFor, map[string][]string{"X-Forwarded-For": {"198.51.100.4, 10.9.1.1"}}, "198.51.100.4", ""},
		{"xff: several lines are one list", headerXForwardedFor, map[string][]string{"X-Forwarded-For": {"6.6.6.6", "198.51.100.5, 10.9.1.1"}}, "198.51.100.5", ""},
		{"xff: a port and brackets", headerXForwardedFor, map[string][]string{"X-Forwarded-For": {"[2001:db8::7]:4711, 198.51.100.6:443"}}, "198.51.100.6", ""},
		{"xff: IPv6 past a trusted hop", headerXForwardedFor, map[string][]string{"X-Forwarded-For": {"2001:db8::8, 10.9.1.1"}}, "2001:db8::8", ""},
		{"xff: garbage ends the walk at our last proxy", headerXForwardedFor, map[string][]string{"X-Forwarded-For": {"6.6.6.6, unknown, 10.9.1.1"}}, "10.9.1.1", ""},
		{"xff: all ours", headerXForwardedFor, map[string][]string{"X-Forwarded-For": {"10.9.2.2, 10.9.1.1"}}, "10.9.2.2", ""},
		{"xff: absent", headerXForwardedFor, nil, peer, ""},
		{"xff: empty items", headerXForwardedFor, map[string][]string{"X-Forwarded-For": {" , 198.51.100.9 ,"}}, "198.51.100.9", ""},
		{"xff: not believed when X-Real-IP is the header", headerXRealIP, map[string][]string{"X-Forwarded-For": {"6.6.6.6"}, "X-Real-Ip": {"198.51.100.10"}}, "198.51.100.10", ""},
		{"xff: not believed when Forwarded is the header", headerForwarded, map[string][]string{"X-Forwarded-For": {"6.6.6.6"}}, peer, ""},

		// X-Real-IP
		{"x-real-ip", headerXRealIP, map[string][]string{"X-Real-Ip": {"198.51.100.11"}}, "198.51.100.11", ""},
		{"x-real-ip: the last line is the proxy's", headerXRealIP, map[string][]string{"X-Real-Ip": {"6.6.6.6", "198.51.100.12"}}, "198.51.100.12", ""},
		{"x-real-ip: IPv6", headerXRealIP, map[string][]string{"X-Real-Ip": {"2001:db8::13"}}, "2001:db8::13", ""},
		{"x-real-ip: garbage is our proxy", headerXRealIP, map[string][]string{"X-Real-Ip": {"localhost"}}, peer, ""},
		{"x-real-ip: not believed when X-Forwarded-For is the header", headerXForwardedFor, map[string][]string{"X-Real-Ip": {"6.6.6.6"}}, peer, ""},

		// Forwarded (RFC 7239)
		{"fwd: the probe's chain", headerForwarded, map[string][]string{"Forwarded": {"for=198.51.100.4, for=10.9.1.1"}}, "198.51.100.4", ""},
		{"fwd: two lines, the client's first", headerForwarded, map[string][]string{"Forwarded": {"for=6.6.6.6", "for=198.51.100.14;proto=https"}}, "198.51.100.14", "https"},
		{"fwd: two lines past a trusted hop", headerForwarded, map[string][]string{"Forwarded": {"for=198.51.100.15", "for=10.9.1.1"}}, "198.51.100.15", ""},
		{"fwd: a comma in a quoted string is no second hop", headerForwarded, map[string][]string{"Forwarded": {`for="6.6.6.6, for=7.7.7.7", for=198.51.100.16`}}, "198.51.100.16", ""},
		{"fwd: a comma in a quoted string, walked into", headerForwarded, map[string][]string{"Forwarded": {`for="6.6.6.6, for=10.9.3.3", for=10.9.1.1`}}, "10.9.1.1", ""},
		{"fwd: an escaped quote stays in its string", headerForwarded, map[string][]string{"Forwarded": {`for="x\", for=6.6.6.6", for=198.51.100.17`}}, "198.51.100.17", ""},
		{"fwd: IPv6 with a port", headerForwarded, map[string][]string{"Forwarded": {`for="[2001:db8:cafe::17]:4711";proto=https`}}, "2001:db8:cafe::17", "https"},
		{"fwd: IPv4 with a port", headerForwarded, map[string][]string{"Forwarded": {`for="198.51.100.18:80", for=10.9.1.1`}}, "198.51.100.18", ""},
		{"fwd: parameters in any order and case", headerForwarded, map[string][]string{"Forwarded": {`Proto=HTTPS;By=10.9.1.1;For=198.51.100.19`}}, "198.51.100.19", "https"},
		{"fwd: unknown ends the walk at our proxy", headerForwarded, map[string][]string{"Forwarded": {"for=6.6.6.6, for=unknown, for=10.9.1.1"}}, "10.9.1.1", ""},
		{"fwd: an obfuscated name ends the walk", headerForwarded, map[string][]string{"Forwarded": {"for=_hidden;proto=https, for=10.9.1.1"}}, "10.9.1.1", "https"},
		{"fwd: unknown as the nearest hop is our peer", headerForwarded, map[string][]string{"Forwarded": {"for=unknown"}}, peer, ""},
		{"fwd: a bad element ends the walk", headerForwarded, map[string][]string{"Forwarded": {"for=6.6.6.6, for=300.1.1.1, for=10.9.1.1"}}, "10.9.1.1", ""},
		{"fwd: a bad element left of the client does not matter", headerForwarded, map[string][]string{"Forwarded": {"for;;;, for=198.51.100.20"}}, "198.51.100.20", ""},
		{"fwd: a duplicate parameter is a bad element", headerForwarded, map[string][]string{"Forwarded": {"for=6.6.6.6;for=7.7.7.7"}}, peer, ""},
		{"fwd: an element without for", headerForwarded, map[string][]string{"Forwarded": {"for=6.6.6.6, proto=https"}}, peer, "https"},
		{"fwd: empty elements", headerForwarded, map[string][]string{"Forwarded": {", ,for=198.51.100.21, "}}, "198.51.100.21", ""},
		{"fwd: an unterminated string hides what follows", headerForwarded, map[string][]string{"Forwarded": {`for="6.6.6.6, for=7.7.7.7`}}, peer, ""},
		{"fwd: not believed when X-Forwarded-For is the header", headerXForwardedFor, map[string][]string{"Forwarded": {"for=6.6.6.6"}}, peer, ""},

		// No header named: the peer.
		{"none", "", map[string][]string{"X-Forwarded-For": {"6.6.6.6"}, "X-Real-Ip": {"6.6.6.6"}, "Forwarded": {"for=6.6.6.6"}}, peer, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxies([]string{"127.0.0.1", "10.9.0.0/16"}, tc.header)
			got := p.client(http.Header(tc.lines), netip.MustParseAddr(peer))
			if got.addr.String() != tc.want || got.proto != tc.proto {
				t.Errorf("%v: client %s (proto %q), want %s (proto %q)", tc.lines, got.addr, got.proto, tc.want, tc.proto)
			}
		})
	}
}

// TestClientIPHeaderSpelling: the operator may write the header in any case.
func TestClientIPHeaderSpelling(t *testing.T) {
	for in, want := range map[string]string{"x-forwarded-for": headerXForwardedFor, "X-REAL-IP": headerXRealIP, " forwarded ": headerForwarded, "X-Client-IP": ""} {
		if got := canonicalClientIPHeader(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
