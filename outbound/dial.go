package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// Resolver looks up the addresses of a host name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ErrNotResolved is matched (errors.Is) by the error of a host name that
// has no address: not a refusal (the receiver may not exist yet), but no
// request can reach it either.
var ErrNotResolved = errors.New("outbound: the host name has no address")

// dialer connects under the policy: it reads the host as the policy
// does, resolves a name itself, checks every address and dials only those
// the policy allows, by address, so that no second lookup (DNS rebinding)
// can change what was checked. Its net.Dialer checks the address once more
// just before connect(2) (ControlContext), whatever path reached it.
type dialer struct {
	policy   *Policy
	trust    Trust
	resolver Resolver
	nd       net.Dialer
	// dial makes the connection to a checked address; nd.DialContext
	// unless a test watches what is dialled.
	dial func(ctx context.Context, network, address string) (net.Conn, error)
}

type hostNameKey struct{}

func newDialer(p *Policy, t Trust, r Resolver, cfg *Config) *dialer {
	d := &dialer{policy: p, trust: t, resolver: r}
	d.nd = net.Dialer{
		Timeout:   cfg.ConnectTimeout,
		KeepAlive: cfg.IdleConnTimeout,
		ControlContext: func(ctx context.Context, network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &RefusedError{Rule: RuleHost, Trust: t, Host: address, Detail: "not an address"}
			}
			name, _ := ctx.Value(hostNameKey{}).(string)
			if rerr := p.checkAddr(ap.Addr(), name, t); rerr != nil {
				rerr.Host = name
				return rerr
			}
			return nil
		},
	}
	d.dial = d.nd.DialContext
	if cfg.dial != nil {
		nd := d.nd
		d.dial = func(ctx context.Context, network, address string) (net.Conn, error) {
			return cfg.dial(ctx, &nd, network, address)
		}
	}
	return d
}

// DialContext is http.Transport's DialContext.
func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	hostPart, portPart, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("outbound: dial %q: %w", address, err)
	}
	port, err := strconv.ParseUint(portPart, 10, 16)
	if err != nil || port == 0 {
		return nil, &RefusedError{Rule: RulePort, Trust: d.trust, Host: hostPart, Detail: "the port must be a number from 1 to 65535"}
	}
	h, herr := parseHost(hostPart)
	if herr != "" {
		return nil, &RefusedError{Rule: RuleHost, Trust: d.trust, Host: hostPart, Detail: herr}
	}
	addrs := []netip.Addr{h.addr}
	if !h.isIP() {
		if addrs, err = d.lookup(ctx, ipNetwork(network), h.name); err != nil {
			return nil, err
		}
	}
	allowed, refused := d.policy.filter(addrs, h.name, d.trust)
	if len(allowed) == 0 {
		if refused == nil {
			return nil, fmt.Errorf("%w: %s has no %s address", ErrNotResolved, hostPart, network)
		}
		refused.Host = hostPart
		return nil, refused
	}
	ctx = context.WithValue(ctx, hostNameKey{}, h.name)
	var firstErr error
	for _, a := range allowed {
		c, err := d.dial(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

func (d *dialer) lookup(ctx context.Context, network, name string) ([]netip.Addr, error) {
	addrs, err := d.resolver.LookupNetIP(ctx, network, name)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return nil, fmt.Errorf("%w: %s: %w", ErrNotResolved, name, err)
	case err != nil:
		return nil, fmt.Errorf("outbound: resolving %s: %w", name, err)
	case len(addrs) == 0:
		return nil, fmt.Errorf("%w: %s", ErrNotResolved, name)
	}
	return addrs, nil
}

// filter splits a host's addresses into those the policy allows, in
// order, and the first refusal. A name with both public and private
// addresses is dialled on its public ones only.
func (p *Policy) filter(addrs []netip.Addr, name string, t Trust) ([]netip.Addr, *RefusedError) {
	var allowed []netip.Addr
	var refused *RefusedError
	for _, a := range addrs {
		a = a.WithZone("").Unmap()
		if rerr := p.checkAddr(a, name, t); rerr != nil {
			if refused == nil {
				refused = rerr
			}
			continue
		}
		allowed = append(allowed, a)
	}
	return allowed, refused
}

func ipNetwork(network string) string {
	switch network {
	case "tcp4", "udp4":
		return "ip4"
	case "tcp6", "udp6":
		return "ip6"
	}
	return "ip"
}
