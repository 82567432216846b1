package portal

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// resolveTimeout bounds the DNS lookup of ValidateEndpoint.
const resolveTimeout = 5 * time.Second

// Address ranges no portal or OAuth server may resolve to, besides what
// netip.Addr reports as loopback, private, link-local, multicast or
// unspecified.
var rejectedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, includes broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("100::/64"),       // discard-only
}

// nat64Prefix embeds an IPv4 address in its last 32 bits; the embedded
// address is checked like a plain IPv4 one.
var nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")

// ValidateEndpoint parses raw as the address of a portal or OAuth server and
// rejects it unless it is an https URL whose host resolves only to public
// unicast addresses. Loopback, private (10/8, 172.16/12, 192.168/16,
// fc00::/7), link-local (169.254/16 with the cloud metadata address,
// fe80::/10), CGNAT (100.64/10), multicast and unspecified addresses are
// rejected. With allowInsecure, loopback hosts are accepted over http and
// https, for tests and local tryouts; other hosts still need https.
//
// The HTTP client checks every dialled address again, so a name that
// resolves differently later (DNS rebinding) is stopped at connect time.
func ValidateEndpoint(raw string, allowInsecure bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a URL: %v", ErrInvalidEndpoint, raw, err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: %q has no host", ErrInvalidEndpoint, raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: %q contains user credentials", ErrInvalidEndpoint, u.Redacted())
	}
	if u.Scheme != "https" && !(allowInsecure && u.Scheme == "http") {
		return nil, fmt.Errorf("%w: %q must use https", ErrInvalidEndpoint, raw)
	}
	addrs, err := resolveHost(u.Hostname())
	if err != nil {
		return nil, fmt.Errorf("%w: resolve %q: %v", ErrInvalidEndpoint, u.Hostname(), err)
	}
	loopback := true
	for _, a := range addrs {
		if err := checkAddr(a, allowInsecure); err != nil {
			return nil, fmt.Errorf("%w: host %q: %v", ErrInvalidEndpoint, u.Hostname(), err)
		}
		loopback = loopback && a.IsLoopback()
	}
	if u.Scheme == "http" && !loopback {
		return nil, fmt.Errorf("%w: %q must use https, because plain http is allowed only to loopback hosts", ErrInvalidEndpoint, raw)
	}
	return u, nil
}

func resolveHost(host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("no addresses")
	}
	return ips, nil
}

// checkAddr returns why a is not an acceptable address for a portal, or nil.
// allowLoopback admits loopback addresses only.
func checkAddr(a netip.Addr, allowLoopback bool) error {
	a = a.Unmap()
	if nat64Prefix.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	switch {
	case a.IsLoopback():
		if allowLoopback {
			return nil
		}
		return fmt.Errorf("%s is a loopback address", a)
	case a.IsPrivate():
		return fmt.Errorf("%s is a private address", a)
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return fmt.Errorf("%s is a link-local address", a)
	case a.IsUnspecified():
		return fmt.Errorf("%s is the unspecified address", a)
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return fmt.Errorf("%s is a multicast address", a)
	}
	for _, p := range rejectedPrefixes {
		if p.Contains(a) {
			return fmt.Errorf("%s is in the reserved range %s", a, p)
		}
	}
	return nil
}

// dialControl is a net.Dialer Control function that rejects connections to
// addresses ValidateEndpoint would reject, after DNS resolution.
func dialControl(allowLoopback bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("%w: dial %s: %v", ErrInvalidEndpoint, address, err)
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("%w: dial %s: not an IP address", ErrInvalidEndpoint, address)
		}
		if err := checkAddr(a, allowLoopback); err != nil {
			return fmt.Errorf("%w: dial %s: %v", ErrInvalidEndpoint, address, err)
		}
		return nil
	}
}
