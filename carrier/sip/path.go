package sip

import (
	"net/netip"
	"strconv"
	"sync"
)

// rtpPath is where a session's far end is: the address media goes to,
// latched to where the far end's media really comes from (symmetric RTP,
// NAT), and which sources are believed.
type rtpPath struct {
	mu      sync.Mutex
	remote  netip.AddrPort // where we send; latched to the real source
	latched bool
	// sdpIP is the far end's SDP connection address: media from it is
	// trusted whatever its port (NAT). pinned is the first source accepted
	// since the SDP or the answer; when sdpIP is private or unroutable the
	// far end's media may legitimately come from another IP (its NAT's),
	// and then only that first source is believed, so a stranger who can
	// reach our port cannot take the call's audio or inject DTMF.
	sdpIP   netip.Addr
	pinned  netip.AddrPort
	foreign uint64 // packets dropped for coming from an untrusted source
}

// setSDP takes the far end's SDP address.
func (p *rtpPath) setSDP(to netip.AddrPort) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.latched {
		p.remote = to
	}
	p.sdpIP = to.Addr()
}

// unpin forgets the pinned source (the answer may move media elsewhere).
func (p *rtpPath) unpin() {
	p.mu.Lock()
	p.pinned = netip.AddrPort{}
	p.mu.Unlock()
}

// dest is where to send, when known.
func (p *rtpPath) dest() (netip.AddrPort, bool) {
	p.mu.Lock()
	to := p.remote
	p.mu.Unlock()
	return to, to.IsValid() && to.Port() != 0
}

// trusted reports whether media from src may be taken as the far end's,
// pinning the first trusted source; a refused one is counted.
func (p *rtpPath) trusted(src netip.AddrPort) bool {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	p.mu.Lock()
	defer p.mu.Unlock()
	ok := src.Addr() == p.sdpIP ||
		(unroutable(p.sdpIP) && (!p.pinned.IsValid() || src == p.pinned))
	if ok && !p.pinned.IsValid() {
		p.pinned = src
	}
	if !ok {
		p.foreign++
	}
	return ok
}

// latch sends to from from now on, the first time or when a new source
// (SSRC) comes from a new address.
func (p *rtpPath) latch(from netip.AddrPort, newSource bool) {
	p.mu.Lock()
	if !p.latched || (newSource && from != p.remote) {
		p.remote, p.latched = from, true
	}
	p.mu.Unlock()
}

// rtcpSource reports whether RTCP from src comes from the far end: its
// SDP address, its pinned source or where we send (RTCP comes from another
// port than RTP, which the RTP pinning would refuse).
func (p *rtpPath) rtcpSource(src netip.Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return src == p.sdpIP || (p.pinned.IsValid() && src == p.pinned.Addr()) || (p.remote.IsValid() && src == p.remote.Addr())
}

func (p *rtpPath) stats(m map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remote.IsValid() {
		m["rtp_remote"] = p.remote.String()
	}
	if p.foreign > 0 {
		m["rtp_foreign"] = strconv.FormatUint(p.foreign, 10)
	}
}
