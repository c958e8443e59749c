package media

import (
	"net/http"
	"net/netip"
	"testing"
)

// TestPublic: only addresses on the internet may be fetched from, judged on the IPv4
// address an IPv6 one carries.
func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "8.8.8.8": true, "2606:4700::1111": true,
		"127.0.0.1": false, "127.9.9.9": false, "::1": false,
		"10.1.2.3": false, "172.16.0.1": false, "172.31.255.255": false, "192.168.1.1": false, "fd00::1": false,
		"169.254.169.254": false, "fe80::1": false, // link-local: the cloud metadata service
		"0.0.0.0": false, "::": false, "0.1.2.3": false, "100.64.0.1": false, "192.0.0.8": false,
		"198.18.0.1": false, "240.0.0.1": false, "255.255.255.255": false, "224.0.0.1": false, "ff02::1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "::ffff:8.8.8.8": true,
		"64:ff9b::7f00:1": false, "64:ff9b::a9fe:a9fe": false, "64:ff9b::808:808": true,
		"2002:7f00:1::": false, "2002:c0a8:101::": false, "2002:808:808::": true,
		"172.32.0.1": true, "100.128.0.1": true,
	} {
		if got := public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("public(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestAllowedHosts: an entry without a port allows every port of its host, one with a
// port that port only; the API's host is allowed at its port, the scheme's by default.
func TestAllowedHosts(t *testing.T) {
	h, err := newHosts([]string{"Images.Intranet", "10.1.2.3:8080", "[fd00::5]:9000", "fd00::6"}, "https://acme-api.spencer.co/api")
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"images.intranet:80": true, "IMAGES.INTRANET:8443": true, "other.intranet:80": false,
		"10.1.2.3:8080": true, "10.1.2.3:80": false,
		"[fd00::5]:9000": true, "[fd00::5]:80": false, "[fd00::6]:1": true,
		"acme-api.spencer.co:443": true, "acme-api.spencer.co:80": false, "spencer.co:443": false,
	} {
		if got := h.allows(addr); got != want {
			t.Errorf("allows(%s) = %v, want %v", addr, got, want)
		}
	}
	for _, bad := range []string{"", "http://images.intranet", "images.intranet/path", "host:0", "host:99999", "host:port", "a b", "user@host"} {
		if _, _, err := SplitHost(bad); err == nil {
			t.Errorf("SplitHost(%q) accepted", bad)
		}
	}
}

// TestPrivate: images behind the API's token and signed ones are no use outside; an
// ordinary CDN URL, query and all, is.
func TestPrivate(t *testing.T) {
	l, err := Open(Config{APIURL: "https://acme-api.spencer.co/api", Authorize: noAuth{}})
	if err != nil {
		t.Fatal(err)
	}
	for u, want := range map[string]bool{
		"https://acme-api.spencer.co/attachments/1.jpg":                                      true,
		"https://cdn.example.com/a.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc": true,
		"https://d111.cloudfront.net/a.jpg?Expires=1700000000&Signature=abc&Key-Pair-Id=K":   true,
		"https://storage.googleapis.com/b/a.jpg?X-Goog-Signature=abc":                        true,
		"https://acct.blob.core.windows.net/c/a.jpg?sv=2022-11-02&se=2026-12-01&sig=abc":     true,
		"https://cdn.example.com/a.jpg":                                                      false,
		"https://cdn.example.com/a.jpg?w=1200&format=webp":                                   false,
		"https://acme-api.spencer.co:8443/attachments/1.jpg":                                 false,
	} {
		if got := l.Private(u); got != want {
			t.Errorf("Private(%s) = %v, want %v", u, got, want)
		}
	}
}

type noAuth struct{}

func (noAuth) Authorized(req *http.Request, send func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	return send(req)
}
