package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is a fetch refused because the image's host is on this machine or
// on a private network: a publication must not make the server reach what only it can
// reach (its own admin page, a cloud's metadata service, an intranet).
var ErrForbiddenAddress = errors.New("media: address not allowed")

// hosts are the hosts a fetch may reach whatever their address: the API host and the
// operator's media.allowed_hosts. An entry with a port allows that port only.
type hosts struct {
	anyPort map[string]bool // "intranet.example.com"
	exact   map[string]bool // "intranet.example.com:8443", "127.0.0.1:8081"
}

// newHosts reads allowed (host or host:port, as media.allowed_hosts holds them) and the
// host:port of each base URL (the API's).
func newHosts(allowed []string, bases ...string) (hosts, error) {
	h := hosts{anyPort: map[string]bool{}, exact: map[string]bool{}}
	for _, a := range allowed {
		host, port, err := SplitHost(a)
		if err != nil {
			return h, err
		}
		if port == "" {
			h.anyPort[host] = true
		} else {
			h.exact[net.JoinHostPort(host, port)] = true
		}
	}
	for _, b := range bases {
		if b == "" {
			continue
		}
		u, err := url.Parse(b)
		if err != nil || u.Host == "" {
			return h, fmt.Errorf("media: %q is not an absolute URL", b)
		}
		h.exact[hostPort(u)] = true
	}
	return h, nil
}

// SplitHost reads an allowed host: a name or an address, with or without a port
// ("images.intranet", "10.1.2.3", "[fd00::1]:8080"), lower-cased.
func SplitHost(s string) (host, port string, err error) {
	s = strings.ToLower(strings.TrimSpace(s))
	bad := fmt.Errorf("media: %q is not a host or host:port like images.example.com or 10.0.0.5:8080", s)
	if s == "" || strings.ContainsAny(s, "/?#@ ") {
		return "", "", bad
	}
	host = s
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return "", "", bad
		}
	} else if strings.Count(s, ":") > 1 { // a bare IPv6 address
		if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err != nil {
			return "", "", bad
		}
		host = strings.Trim(s, "[]")
	}
	if host == "" || strings.HasPrefix(host, "[") {
		return "", "", bad
	}
	return host, port, nil
}

// allows reports whether addr (host:port, as a URL names it) is one of the hosts.
func (h hosts) allows(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	host = strings.ToLower(host)
	return h.exact[net.JoinHostPort(host, portOf(addr))] || h.anyPort[host]
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// hostPort is u's host:port, the port made explicit from the scheme, lower-cased.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// dialer connects a fetch: to an allowed host as asked, to any other only at a public
// address. The address is checked as it is dialled (net.Dialer.Control sees the IP the
// name resolved to), so a name that resolves to a public address when checked and to a
// private one when used (DNS rebinding) gets nowhere.
type dialer struct {
	hosts   hosts
	open    net.Dialer // allowed hosts
	guarded net.Dialer // every other host
}

func newDialer(h hosts, timeout time.Duration) *dialer {
	d := &dialer{hosts: h}
	d.open = net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	d.guarded = d.open
	d.guarded.Control = func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !public(ap.Addr()) {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
		}
		return nil
	}
	return d
}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.hosts.allows(addr) {
		return d.open.DialContext(ctx, network, addr)
	}
	return d.guarded.DialContext(ctx, network, addr)
}

// notPublic are the ranges no image of the news lives in, besides those netip names:
// "this network", shared address space (carrier-grade NAT), IETF protocol assignments,
// benchmarking, reserved and broadcast.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

// nat64 and sixToFour carry an IPv4 address inside an IPv6 one: that address is judged.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// public reports whether a is an address on the internet: not loopback, private,
// link-local (169.254.169.254, the cloud metadata service, is link-local), multicast or
// unspecified, judged on the IPv4 address an IPv6 one carries when it carries one.
func public(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return public(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(a):
			return public(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
