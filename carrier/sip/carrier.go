// Package sip is a dialtone.Carrier that places calls through SIP trunks
// with RTP media: G.711 µ-law and A-law in 20 ms packets, RFC 4733 and
// SIP INFO DTMF, early media, stereo recording, RTP statistics and an RTP
// timeout. Signalling uses github.com/emiago/sipgo (transactions, dialogs,
// digest auth); RTP packets use github.com/pion/rtp.
//
// One Carrier listens on one local SIP address (UDP, plus TCP when a trunk
// needs it). Every leg has its own RTP socket on the local IP the trunk is
// reached from; a shared pacer (one goroutine per CPU, at most 8) sends the
// 20 ms frames of all legs, so thousands of calls do not cost thousands of
// tickers.
package sip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/cluster"
	"github.com/dialtone-voice/dialtone/speech"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Errors of the carrier.
var (
	ErrNoRoute   = errors.New("sip: no trunk for this call")
	ErrClosed    = errors.New("sip: carrier closed")
	errLegEnded  = errors.New("sip: leg ended")
	errRingOut   = errors.New("ring timeout")
	errHangupReq = errors.New("hangup requested")
	errNoAnswer  = errors.New("no response to the invite")
)

// trunk is a configured trunk; its caps (MaxCalls, MaxCPS) are counted
// by the carrier's Limits.
type trunk struct {
	Trunk
	localIP netip.Addr // our IP towards the trunk
	client  *sipgo.Client
	dialog  *sipgo.DialogUA
	health  trunkHealth
}

// Carrier places calls on SIP trunks. It is safe for concurrent use.
type Carrier struct {
	cfg    Config
	log    *slog.Logger
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	trunks map[string]*trunk
	pacer  *pacer

	udp      net.PacketConn
	tcp      net.Listener
	tlsLn    net.Listener // where TLS trunks send in-dialog requests; nil without TLS trunks
	tlsPort  int
	host     string // advertised in Via and Contact
	port     int
	serveErr chan error

	limits dialtone.Limits

	mu     sync.Mutex
	closed bool
	legs   map[string]*leg // by SIP Call-ID
}

// New starts a carrier: it binds the SIP listeners and serves in-dialog
// requests (BYE, INFO, re-INVITE) until Close.
func New(cfg Config, log *slog.Logger) (*Carrier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sip config: %w", err)
	}
	if len(cfg.Trunks) == 0 {
		return nil, errors.New("sip config: no trunks")
	}
	cfg.Config = cfg.Defaults()
	if cfg.ASRAccountModels == nil {
		cfg.ASRAccountModels = cfg.ASR.AccountModels()
	}
	if log == nil {
		log = slog.Default()
	}
	c := &Carrier{
		cfg:    cfg,
		log:    log.With("component", "sip"),
		trunks: make(map[string]*trunk, len(cfg.Trunks)),
		pacer:  newPacer(),
		legs:   make(map[string]*leg),
		limits: cfg.Limits,
	}
	if c.limits == nil {
		c.limits = cluster.NewLocalLimits("")
	}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()

	var err error
	c.udp, err = net.ListenPacket("udp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("sip: listen udp %s: %w", cfg.Listen, err)
	}
	laddr := c.udp.LocalAddr().(*net.UDPAddr)
	c.port = laddr.Port
	needTCP := false
	for _, t := range cfg.Trunks {
		needTCP = needTCP || t.Transport == TransportTCP
	}
	if needTCP {
		c.tcp, err = net.Listen("tcp", net.JoinHostPort(laddr.IP.String(), strconv.Itoa(c.port)))
		if err != nil {
			return nil, fmt.Errorf("sip: listen tcp on the udp port %d: %w", c.port, err)
		}
	}
	if c.tlsLn, err = listenTLS(cfg, laddr); err != nil {
		return nil, err
	}
	if c.tlsLn != nil {
		c.tlsPort = c.tlsLn.Addr().(*net.TCPAddr).Port
	}

	// The host we advertise: the configured one, the listen IP, or the IP
	// the first trunk is reached from.
	c.host = cfg.Advertise
	if c.host == "" && !laddr.IP.IsUnspecified() {
		c.host = laddr.IP.String()
	}
	for _, t := range cfg.Trunks {
		ip, err := localIPTowards(t.Address)
		if err != nil {
			return nil, fmt.Errorf("sip: trunk %s: %w", t.Name, err)
		}
		if !laddr.IP.IsUnspecified() {
			ip, _ = netip.AddrFromSlice(laddr.IP)
			ip = ip.Unmap()
		}
		if c.host == "" {
			c.host = ip.String()
		}
		c.trunks[t.Name] = &trunk{Trunk: t, localIP: ip}
	}

	// sipgo's layers log through a wrapper that keeps what strangers' bad
	// datagrams cause at Debug (siplog.go).
	sipLog := newSipgoLogger(c.log)
	peers, err := tlsPeers(cfg.Trunks)
	if err != nil {
		return nil, err
	}
	uaOpts := []sipgo.UserAgentOption{sipgo.WithUserAgent(cfg.UserAgent), sipgo.WithUserAgentHostname(c.host),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog))}
	if len(peers) > 0 {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(clientTLSConfig(peers)))
	}
	c.ua, err = sipgo.NewUA(uaOpts...)
	if err != nil {
		return nil, fmt.Errorf("sip: user agent: %w", err)
	}
	c.srv, err = sipgo.NewServer(c.ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		return nil, fmt.Errorf("sip: server: %w", err)
	}
	c.srv.OnBye(c.onBye)
	c.srv.OnInfo(c.onInfo)
	c.srv.OnInvite(c.onInvite)
	c.srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	c.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})

	// UDP requests leave from the listening socket, so responses and the
	// far end's in-dialog requests come back to where we listen; stream
	// transports open their own connections (binding them to the listen
	// port would collide with the listener).
	udpCli, err := sipgo.NewClient(c.ua, sipgo.WithClientLogger(sipLog), sipgo.WithClientHostname(c.host),
		sipgo.WithClientPort(c.port), sipgo.WithClientConnectionAddr(c.udp.LocalAddr().String()))
	if err != nil {
		return nil, fmt.Errorf("sip: client: %w", err)
	}
	streamCli, err := sipgo.NewClient(c.ua, sipgo.WithClientLogger(sipLog), sipgo.WithClientHostname(c.host))
	if err != nil {
		return nil, fmt.Errorf("sip: client: %w", err)
	}
	for _, tr := range c.trunks {
		cli := udpCli
		if tr.Transport != TransportUDP {
			cli = streamCli
		}
		contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "dialtone", Host: c.host, Port: c.port}}
		if tr.Transport == TransportTLS {
			contact.Address.Port = c.tlsPort
		}
		if tr.Transport != TransportUDP {
			contact.Address.UriParams = sip.NewParams()
			contact.Address.UriParams.Add("transport", tr.Transport)
		}
		tr.client = cli
		// RewriteContact sends in-dialog requests to where responses came
		// from: the trunk, which is where a trunk wants them, also when the
		// far end's Contact is an address we cannot reach.
		tr.dialog = &sipgo.DialogUA{Client: cli, ContactHDR: contact, RewriteContact: true}
	}

	c.serveErr = make(chan error, 3)
	go func() { c.serveErr <- c.srv.ServeUDP(c.udp) }()
	if c.tcp != nil {
		go func() { c.serveErr <- c.srv.ServeTCP(c.tcp) }()
	}
	if c.tlsLn != nil {
		go func() { c.serveErr <- c.srv.ServeTLS(c.tlsLn) }()
	}
	// Serving registers the listening socket with sipgo's transport layer
	// in its own goroutine; until then a request would try to bind the
	// listen address a second time. Wait for it (bounded).
	for i := 0; ; i++ {
		if _, err := c.ua.TransportLayer().GetConnection("udp", c.udp.LocalAddr().String()); err == nil {
			break
		}
		if i == 500 {
			return nil, errors.New("sip: udp listener did not start")
		}
		select {
		case err := <-c.serveErr:
			return nil, fmt.Errorf("sip: serve: %w", err)
		case <-time.After(2 * time.Millisecond):
		}
	}
	ok = true
	tlsAddr := ""
	if c.tlsLn != nil {
		tlsAddr = c.tlsLn.Addr().String()
	}
	c.log.Info("sip carrier listening", "addr", c.udp.LocalAddr().String(), "tcp", c.tcp != nil, "tls", tlsAddr, "trunks", len(c.trunks))
	return c, nil
}

// Addr is the local SIP address (UDP; TCP uses the same port).
func (c *Carrier) Addr() string { return c.udp.LocalAddr().String() }

// Close hangs up every leg and stops the carrier.
func (c *Carrier) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	legs := make([]*leg, 0, len(c.legs))
	for _, l := range c.legs {
		legs = append(legs, l)
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, l := range legs {
		_ = l.Hangup(ctx)
	}
	for _, l := range legs {
		select {
		case <-l.done:
		case <-ctx.Done():
		}
	}
	c.pacer.close()
	var err error
	if c.ua != nil {
		err = c.ua.Close() // closes the transports, listeners included
	}
	if c.udp != nil {
		_ = c.udp.Close()
	}
	if c.tcp != nil {
		_ = c.tcp.Close()
	}
	if c.tlsLn != nil {
		_ = c.tlsLn.Close()
	}
	return err
}

// localIPTowards is the local IP the kernel routes to addr from. Dialling
// UDP sends nothing; it only consults the routing table.
func localIPTowards(addr string) (netip.Addr, error) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("route to %s: %w", addr, err)
	}
	defer conn.Close()
	ap := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return ap.Addr().Unmap(), nil
}

// Originate places a call. When the trunk is at its call or rate cap it
// waits for room, as long as ctx allows.
func (c *Carrier) Originate(ctx context.Context, req dialtone.OriginateRequest) (dialtone.Leg, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	names := pickTrunks(c.cfg.Routes, c.cfg.DefaultTrunk, req.AccountUID, req.To)
	if len(names) == 0 {
		return nil, fmt.Errorf("sip: originate %s to %s: %w", req.CallID, req.To, ErrNoRoute)
	}
	tr := c.upTrunk(names, nil)
	down := tr == nil
	if down {
		tr = c.trunks[names[0]]
	}
	l := newLeg(c, tr, req)
	l.candidates = names
	if req.Listen != nil {
		l.lis = newListener(l, req.Listen, c.cfg.Recognizer, c.hints(req))
	}
	if down {
		// Every trunk of the route is resting after failing to answer: the
		// call fails at once, as unreachable, rather than wait for a
		// timeout that is known to come.
		go l.failNow(dialtone.FailUnreachable, map[string]string{"reason": "trunk down", "trunks": strings.Join(names, ",")})
		return l, nil
	}
	to := rewriteNumber(tr.Rewrite, req.To)
	fromUser, paiUser := presentation(&tr.Trunk, req.From)
	if fromUser == "" {
		fromUser = "anonymous"
	}
	if !validUser(to) || !validUser(fromUser) || (paiUser != "" && !validUser(paiUser)) {
		// A number we cannot put in a URI is an invalid number, not a
		// system failure: report it as the network would.
		go l.failNow(dialtone.FailInvalid, map[string]string{"reason": "number not dialable"})
		return l, nil
	}

	if err := c.acquireSlot(ctx, tr, l.sipCallID); err != nil {
		return nil, fmt.Errorf("sip: originate %s on trunk %s: %w", req.CallID, tr.Name, err)
	}
	l.release = func() { c.releaseSlot(l.sipCallID) }
	st, err := openStream(tr.localIP, c.cfg.RTPPortMin, c.cfg.RTPPortMax, c.cfg.RTPTimeout, c.cfg.MaxRecording,
		streamHooks{dtmf: l.onDTMF, timeout: l.onRTPTimeout, audio: l.onAudio, early: l.onEarly})
	if err != nil {
		l.release()
		return nil, fmt.Errorf("sip: originate %s: %w", req.CallID, err)
	}
	st.rc.mu.Lock()
	st.rc.every = c.cfg.rtcpInterval
	st.rc.mu.Unlock()
	l.st = st
	inv, err := c.buildInvite(tr, l, to, fromUser, paiUser)
	if err != nil {
		st.close()
		l.release()
		return nil, fmt.Errorf("sip: originate %s: %w", req.CallID, err)
	}
	if err := c.pace(ctx, tr); err != nil {
		st.close()
		l.release()
		return nil, fmt.Errorf("sip: originate %s on trunk %s: %w", req.CallID, tr.Name, err)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		st.close()
		l.release()
		return nil, ErrClosed
	}
	c.legs[l.sipCallID] = l
	c.mu.Unlock()
	c.pacer.add(st)
	go l.run(inv)
	return l, nil
}

// upTrunk returns the first trunk of names that is up and not in tried,
// or nil.
func (c *Carrier) upTrunk(names []string, tried map[string]bool) *trunk {
	now := time.Now()
	for _, n := range names {
		if tr := c.trunks[n]; tr != nil && !tried[n] && tr.health.up(now) {
			return tr
		}
	}
	return nil
}

// hints are what the recogniser listens for on a call: the SmartCall's
// AsrModelID, else the model configured for its account.
func (c *Carrier) hints(req dialtone.OriginateRequest) speech.Hints {
	h := speech.Hints{Model: req.Listen.AsrModelID, Account: req.AccountUID}
	if h.Model == "" {
		h.Model = c.cfg.ASRAccountModels[req.AccountUID]
	}
	return h
}

// acquire takes a call slot of the trunk for holder (a leg) and then its
// turn in the trunk's pace, waiting for both as long as ctx allows. The
// slots and paces are the carrier's Limits: this node's alone, or the
// cluster's when its nodes share a store.
func (c *Carrier) acquire(ctx context.Context, tr *trunk, holder string) error {
	if err := c.acquireSlot(ctx, tr, holder); err != nil {
		return err
	}
	if err := c.pace(ctx, tr); err != nil {
		c.releaseSlot(holder)
		return err
	}
	return nil
}

// acquireSlot takes a call slot of the trunk for holder.
func (c *Carrier) acquireSlot(ctx context.Context, tr *trunk, holder string) error {
	if tr.MaxCalls > 0 {
		caps := []dialtone.SlotCap{{Key: dialtone.TrunkSlotKey(tr.Name), Max: tr.MaxCalls}}
		if err := c.limits.Acquire(ctx, holder, caps); err != nil {
			return fmt.Errorf("waiting for a free call slot: %w", err)
		}
	}
	return nil
}

// pace waits for the trunk's next start. It is the last step before the
// INVITE leaves, so that what delays a call after its turn (opening its
// RTP socket, building the INVITE) does not bunch INVITEs on the wire.
func (c *Carrier) pace(ctx context.Context, tr *trunk) error {
	if tr.MaxCPS > 0 {
		if err := c.limits.Pace(ctx, dialtone.TrunkPaceKey(tr.Name), tr.MaxCPS); err != nil {
			return fmt.Errorf("waiting for the call rate: %w", err)
		}
	}
	return nil
}

// releaseSlot gives back holder's call slot, if it holds one.
func (c *Carrier) releaseSlot(holder string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.limits.Release(ctx, holder); err != nil {
		c.log.Warn("cannot give back a trunk's call slot", "err", err)
	}
}

func (c *Carrier) forget(l *leg) {
	c.mu.Lock()
	if c.legs[l.sipCallID] == l {
		delete(c.legs, l.sipCallID)
	}
	c.mu.Unlock()
	if l.st != nil {
		c.pacer.remove(l.st)
	}
}

// buildInvite makes the INVITE with our SDP offer.
func (c *Carrier) buildInvite(tr *trunk, l *leg, to, fromUser, paiUser string) (*sip.Request, error) {
	host, portS, err := net.SplitHostPort(tr.Address)
	if err != nil {
		return nil, fmt.Errorf("trunk address %q: %w", tr.Address, err)
	}
	port, _ := strconv.Atoi(portS)
	ruri := sip.Uri{Scheme: "sip", User: to, Host: host, Port: port}
	if tr.Transport != TransportUDP {
		ruri.UriParams = sip.NewParams()
		ruri.UriParams.Add("transport", tr.Transport)
	}
	req := sip.NewRequest(sip.INVITE, ruri)
	req.SetTransport(sip.NetworkToUpper(tr.Transport))

	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: fromUser, Host: tr.FromDomain}, Params: sip.NewParams()}
	tag := randHex(8)
	from.Params.Add("tag", tag)
	l.mu.Lock()
	l.localTag = tag
	l.mu.Unlock()
	toH := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: to, Host: tr.FromDomain}}
	callID := sip.CallIDHeader(l.sipCallID)
	req.AppendHeader(from)
	req.AppendHeader(toH)
	req.AppendHeader(&callID)
	if paiUser != "" {
		req.AppendHeader(sip.NewHeader("P-Asserted-Identity", "<sip:"+paiUser+"@"+tr.FromDomain+">"))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", c.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	o := offer{user: "dialtone", session: uint64(time.Now().Unix()), addr: tr.localIP, port: l.st.port(), codecs: normCodecs(tr.Codecs)}
	l.offer = o
	req.SetBody(o.marshal())
	// Header injection is ruled out before we get here: numbers pass
	// validUser and the domain passed Config.Validate (sipgo v1.7.2 has no
	// request validator of its own).
	return req, nil
}

func normCodecs(cs []string) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, strings.ToUpper(c))
	}
	return out
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *Carrier) legOf(req *sip.Request) *leg {
	id := req.CallID()
	if id == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.legs[string(*id)]
}

// onBye handles the far end hanging up. The BYE must match the dialog's
// tags, not just its Call-ID: a forged or stale BYE gets 481 and the call
// goes on.
func (c *Carrier) onBye(req *sip.Request, tx sip.ServerTransaction) {
	l := c.legOf(req)
	if l == nil || !l.inDialog(req) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	l.onFarBye()
}

// onInfo takes DTMF sent as SIP INFO (application/dtmf-relay or
// application/dtmf); other INFO bodies are acknowledged and ignored. Like
// BYE, the INFO must carry the confirmed dialog's tags: the Call-ID alone
// travels in logs and CDRs, and a stranger who learnt it must not be able
// to inject keys (an IVR choice, a PIN) into the call.
func (c *Carrier) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	l := c.legOf(req)
	if l == nil || !l.inDialog(req) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(strings.TrimSpace(h.Value()))
	}
	if key, ok := parseInfoDTMF(ct, req.Body()); ok {
		l.onDTMF(key)
	}
}

// onInvite answers re-INVITEs of our calls (session refresh, hold) with
// our unchanged offer; we place calls and never take them, so a new
// INVITE is refused.
func (c *Carrier) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	l := c.legOf(req)
	if l == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Inbound calls not accepted", nil))
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", l.offer.marshal())
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(sip.HeaderClone(&l.trunk().dialog.ContactHDR))
	_ = tx.Respond(res)
}

// parseInfoDTMF reads one key from a SIP INFO body.
func parseInfoDTMF(contentType string, body []byte) (string, bool) {
	if len(body) > 1024 {
		return "", false
	}
	ct, _, _ := strings.Cut(strings.ToLower(contentType), ";")
	var v string
	switch strings.TrimSpace(ct) {
	case "application/dtmf-relay":
		for _, line := range strings.Split(string(body), "\n") {
			k, val, ok := strings.Cut(strings.TrimSpace(line), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				v = strings.TrimSpace(val)
				break
			}
		}
	case "application/dtmf":
		v = strings.TrimSpace(string(body))
	default:
		return "", false
	}
	if len(v) != 1 {
		// Some senders put the event number ("10" for *).
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < len(dtmfEvents) {
			return string(dtmfEvents[n]), true
		}
		return "", false
	}
	k := strings.ToUpper(v)
	if !strings.Contains(dtmfEvents, k) {
		return "", false
	}
	return k, true
}

// HasRoute reports whether a call of account to callee would go to a
// trunk (a route matches, or a default trunk is set); the routing carrier
// sends the other calls elsewhere.
func (c *Carrier) HasRoute(account, callee string) bool {
	return pickTrunk(c.cfg.Routes, c.cfg.DefaultTrunk, account, callee) != ""
}
