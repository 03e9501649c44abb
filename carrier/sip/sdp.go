package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Static RTP payload types of the codecs we speak (RFC 3551).
var staticPT = map[string]uint8{CodecPCMU: 0, CodecPCMA: 8}

// dtmfPT is the payload type we offer for telephone-event.
const dtmfPT = 101

// maxSDP bounds the SDP we parse; a real answer is a few hundred bytes.
const maxSDP = 16 << 10

// offer is what we put in our SDP.
type offer struct {
	user    string // o= user name
	session uint64 // o= session id and version
	addr    netip.Addr
	port    int
	codecs  []string // PCMU/PCMA in preference order
}

func (o offer) marshal() []byte {
	ipv := "IP4"
	if o.addr.Is6() && !o.addr.Is4In6() {
		ipv = "IP6"
	}
	addr := o.addr.Unmap().String()
	var b strings.Builder
	fmts := make([]string, 0, len(o.codecs)+1)
	for _, c := range o.codecs {
		fmts = append(fmts, strconv.Itoa(int(staticPT[c])))
	}
	fmts = append(fmts, strconv.Itoa(dtmfPT))
	fmt.Fprintf(&b, "v=0\r\no=%s %d %d IN %s %s\r\ns=%s\r\nc=IN %s %s\r\nt=0 0\r\n",
		o.user, o.session, o.session, ipv, addr, o.user, ipv, addr)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n", o.port, strings.Join(fmts, " "))
	for _, c := range o.codecs {
		fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", staticPT[c], c)
	}
	fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\na=ptime:20\r\na=sendrecv\r\n", dtmfPT, dtmfPT)
	return []byte(b.String())
}

// answer is what we take from the far end's SDP.
type answer struct {
	addr   netip.Addr // where to send RTP
	port   int
	codec  string // negotiated codec, PCMU or PCMA
	pt     uint8  // its payload type
	dtmfPT int    // telephone-event payload type, -1 if none

	rtcpPort int  // a=rtcp (RFC 3605), 0 if absent: RTP port + 1
	rtcpMux  bool // a=rtcp-mux (RFC 5761)
}

var errNoMedia = errors.New("sdp: no usable audio stream")

// parseAnswer reads the far end's SDP and picks the first of its audio
// formats that we offered (the answerer's order is the one that counts,
// RFC 3264 §6.1). It never panics on malformed input.
func parseAnswer(body []byte, offered []string) (answer, error) {
	a := answer{dtmfPT: -1}
	if len(body) > maxSDP {
		return a, fmt.Errorf("sdp: %d bytes is too long", len(body))
	}
	var sessionAddr, mediaAddr string
	inAudio, seenAudio := false, false
	var fmts []string
	rtpmap := map[int]string{} // payload type -> encoding name (upper case), audio section only
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		val := line[2:]
		switch line[0] {
		case 'm':
			inAudio = false
			f := strings.Fields(val)
			if seenAudio || len(f) < 4 || f[0] != "audio" {
				continue
			}
			port, err := strconv.Atoi(strings.SplitN(f[1], "/", 2)[0])
			if err != nil || port < 0 || port > 65535 {
				return a, fmt.Errorf("sdp: bad audio port %q", f[1])
			}
			if !strings.HasPrefix(f[2], "RTP/AVP") {
				continue // SRTP profiles and friends: not ours
			}
			inAudio, seenAudio = true, true
			a.port = port
			fmts = f[3:]
		case 'c':
			f := strings.Fields(val)
			if len(f) < 3 || f[0] != "IN" {
				continue
			}
			host := strings.SplitN(f[2], "/", 2)[0] // drop multicast TTL
			if inAudio {
				mediaAddr = host
			} else if !seenAudio {
				sessionAddr = host
			}
		case 'a':
			if !inAudio {
				continue
			}
			name, v, _ := strings.Cut(val, ":")
			switch name {
			case "rtcp-mux":
				a.rtcpMux = true
				continue
			case "rtcp":
				// "port [nettype addrtype addr]": the port is what we
				// use; the address is the media one in practice.
				f := strings.Fields(v)
				if len(f) > 0 {
					if p, err := strconv.Atoi(f[0]); err == nil && p > 0 && p <= 65535 {
						a.rtcpPort = p
					}
				}
				continue
			case "rtpmap":
			default:
				continue
			}
			ptS, enc, ok := strings.Cut(v, " ")
			pt, err := strconv.Atoi(ptS)
			if !ok || err != nil || pt < 0 || pt > 127 {
				continue
			}
			enc, rate, _ := strings.Cut(strings.TrimSpace(enc), "/")
			if r, _, _ := strings.Cut(rate, "/"); r != "8000" {
				continue // a telephone-event or G.711 at another clock rate is not ours
			}
			rtpmap[pt] = strings.ToUpper(enc)
		}
	}
	if !seenAudio {
		return a, errNoMedia
	}
	if a.port == 0 {
		return a, fmt.Errorf("sdp: audio stream rejected (port 0): %w", errNoMedia)
	}
	host := mediaAddr
	if host == "" {
		host = sessionAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return a, fmt.Errorf("sdp: connection address %q: %w", host, err)
	}
	a.addr = addr
	want := map[string]bool{}
	for _, c := range offered {
		want[c] = true
	}
	for _, f := range fmts {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			continue
		}
		name, mapped := rtpmap[pt]
		if !mapped {
			// Static types need no rtpmap.
			for n, s := range staticPT {
				if int(s) == pt {
					name = n
				}
			}
		}
		if name == "TELEPHONE-EVENT" {
			if a.dtmfPT < 0 {
				a.dtmfPT = pt
			}
			continue
		}
		if a.codec == "" && want[name] {
			a.codec, a.pt = name, uint8(pt)
		}
	}
	if a.codec == "" {
		return a, fmt.Errorf("sdp: no common codec in %v: %w", fmts, errNoMedia)
	}
	return a, nil
}
