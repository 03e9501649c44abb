package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Purpose says what a request is for; it labels logs and metrics.
type Purpose string

const (
	PurposePush       Purpose = "push"       // receipt HTTP batch push
	PurposeTestPush   Purpose = "test-push"  // the console's test receipt
	PurposeCallback   Purpose = "callback"   // SmartCall callback
	PurposeRecognizer Purpose = "recognizer" // HTTP speech recogniser
	PurposeStream     Purpose = "stream"     // media stream WebSocket
	PurposeOther      Purpose = "other"
)

// Meta describes one request: whose it is and why. It travels with the
// request into the caps, logs and metrics.
type Meta struct {
	// Account is the account the request is sent for; "" is the node's
	// own requests, which share one budget.
	Account string
	Purpose Purpose
	// Trust says who set the URL (see Trust).
	Trust Trust
	// Wait is how long the request may wait for a slot when its account
	// or its destination is at its cap. Zero fails at once with an error
	// matching ErrBusy: the right choice for work that is retried later
	// (pushes), so a worker never sits behind a dead receiver. A call
	// waiting for its callback or recogniser can wait up to its own
	// timeout. The request's context bounds the wait too.
	Wait time.Duration
}

// Config configures a Client. Zero fields take the defaults.
type Config struct {
	// Policy is the egress policy; nil allows nothing beyond the fixed
	// rules (no allow-list).
	Policy *Policy
	// Resolver resolves host names; nil is net.DefaultResolver.
	Resolver Resolver
	// ConnectTimeout bounds the TCP connection and the TLS handshake;
	// default 5 s.
	ConnectTimeout time.Duration
	// Timeout bounds one request from its slot to the last byte of the
	// answer, redirects included; default 30 s. A shorter context
	// deadline wins.
	Timeout time.Duration
	// MaxResponseBytes caps an answer's body (after decompression) and a
	// stream's messages: reading more is an error matching
	// ErrResponseTooLarge. Default 1 MiB.
	MaxResponseBytes int64
	// PerAccount caps the requests of one account in flight at once;
	// default 32.
	PerAccount int
	// PerDestination caps the requests of one account to one destination
	// (scheme, host and port) in flight at once; default 8. It is per
	// account too: two accounts whose receivers share a host never wait
	// for each other's slots. Keep it below PerAccount, so that one dead
	// receiver leaves the account slots for its others.
	PerDestination int
	// MaxRedirects is how many redirects a request follows, each checked
	// by the policy like the first URL, never from https to http; default
	// 0: a 3xx answer is returned as it is.
	MaxRedirects int
	// IdleConnTimeout closes kept-alive connections unused this long;
	// default 90 s.
	IdleConnTimeout time.Duration
	// TLSConfig is cloned for HTTPS; nil uses the system's roots.
	TLSConfig *tls.Config
	// UserAgent is sent when a request has none; default "Dialtone/1".
	UserAgent string
	// Logger receives one debug line per request and a warning per
	// refusal; the account, purpose and host are named, never a URL's
	// path or query nor a secret.
	Logger *slog.Logger
	// Metrics, when set, receives the requests' series (NewMetrics).
	Metrics *Metrics
	// Now is the clock of signatures; default time.Now. Receivers
	// compare t with their wall clock, so it must be wall time.
	Now func() time.Time

	// dial replaces the last step of a connection in tests, which check
	// that nothing but loopback is ever dialled.
	dial func(ctx context.Context, nd *net.Dialer, network, address string) (net.Conn, error)
}

// Client sends requests for accounts under the egress policy. Make one per
// node and share it: its caps and connection pools hold across every
// purpose. It is safe for concurrent use.
type Client struct {
	cfg       Config
	policy    *Policy
	resolver  Resolver
	http      [2]*http.Client // by Trust
	ws        [2]*http.Client // by Trust: no redirects, no timeout
	transport [2]*http.Transport
	accounts  *limiter
	dests     *limiter
	log       *slog.Logger
}

// New returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = 1 << 20
	}
	if cfg.PerAccount <= 0 {
		cfg.PerAccount = 32
	}
	if cfg.PerDestination <= 0 {
		cfg.PerDestination = 8
	}
	if cfg.MaxRedirects < 0 {
		return nil, errors.New("outbound: MaxRedirects must not be negative")
	}
	if cfg.IdleConnTimeout <= 0 {
		cfg.IdleConnTimeout = 90 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Dialtone/1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{
		cfg: cfg, policy: cfg.Policy, resolver: cfg.Resolver,
		accounts: newLimiter(cfg.PerAccount), dests: newLimiter(cfg.PerDestination),
		log: cfg.Logger.With("component", "outbound"),
	}
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	for _, t := range []Trust{Untrusted, Trusted} {
		d := newDialer(c.policy, t, c.resolver, &cfg)
		protocols := new(http.Protocols)
		protocols.SetHTTP1(true) // HTTP/1.1 only: the WebSocket handshake needs it, receivers all speak it
		var tlsConf *tls.Config
		if cfg.TLSConfig != nil {
			tlsConf = cfg.TLSConfig.Clone()
		}
		tr := &http.Transport{
			Proxy:               nil, // never: the policy must see the address connected to
			DialContext:         d.DialContext,
			TLSClientConfig:     tlsConf,
			TLSHandshakeTimeout: cfg.ConnectTimeout,
			MaxIdleConnsPerHost: cfg.PerDestination,
			// Headers are capped too (net/http's default is 10 MB).
			MaxResponseHeaderBytes: 64 << 10,
			IdleConnTimeout:        cfg.IdleConnTimeout,
			Protocols:              protocols,
		}
		c.transport[t] = tr
		c.http[t] = &http.Client{Transport: tr, CheckRedirect: c.checkRedirect(t)}
		c.ws[t] = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	return c, nil
}

// Policy returns the client's egress policy.
func (c *Client) Policy() *Policy { return c.policy }

// CloseIdleConnections closes the kept-alive connections.
func (c *Client) CloseIdleConnections() {
	for _, tr := range c.transport {
		tr.CloseIdleConnections()
	}
}

// Check checks an http or https URL when it is entered, as
// Policy.CheckURL does, and then resolves its host name and checks the
// addresses: a name none of whose addresses the policy allows is refused
// (*RefusedError). A name that does not resolve is an error matching
// ErrNotResolved, which a front door may take as a warning: the check is
// made again at every connection anyway.
func (c *Client) Check(ctx context.Context, raw string, t Trust) error {
	u, err := c.policy.CheckURL(raw, t)
	if err != nil {
		return err
	}
	return c.checkResolved(ctx, u, t)
}

// CheckURL is Check (CheckStream for ws and wss URLs) for the resource
// service (it implements dialtone.URLChecker): trusted says the operator
// set the URL. Only the
// policy's refusals are errors (*RefusedError): a name that does not
// resolve, or a resolver that does not answer, lets the URL be stored, as
// every request checks its addresses again when it connects.
func (c *Client) CheckURL(ctx context.Context, raw string, trusted bool) error {
	t := Untrusted
	if trusted {
		t = Trusted
	}
	check := c.Check
	if u, perr := url.Parse(raw); perr == nil && (u.Scheme == "ws" || u.Scheme == "wss") {
		check = c.CheckStream // a media stream's URL
	}
	err := check(ctx, raw, t)
	if errors.Is(err, ErrRefused) {
		return err
	}
	if err != nil {
		c.log.DebugContext(ctx, "outbound: URL accepted without resolving its host", "trust", t, "err", err)
	}
	return nil
}

// CheckStream is Check for the ws and wss URLs of media streams.
func (c *Client) CheckStream(ctx context.Context, raw string, t Trust) error {
	u, err := c.policy.CheckStreamURL(raw, t)
	if err != nil {
		return err
	}
	return c.checkResolved(ctx, u, t)
}

func (c *Client) checkResolved(ctx context.Context, u *url.URL, t Trust) error {
	h, _ := parseHost(u.Hostname()) // CheckURL accepted it
	if h.isIP() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	defer cancel()
	addrs, err := (&dialer{resolver: c.resolver}).lookup(ctx, "ip", h.name)
	if err != nil {
		return err
	}
	if allowed, refused := c.policy.filter(addrs, h.name, t); len(allowed) == 0 {
		refused.URL, refused.Host = u.Redacted(), u.Hostname()
		return refused
	}
	return nil
}

// checkRedirect refuses redirects beyond MaxRedirects, from https to
// http, and to URLs the policy refuses (the dialler would refuse their
// addresses too; this refuses them before any connection and names the
// rule).
func (c *Client) checkRedirect(t Trust) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > c.cfg.MaxRedirects {
			return http.ErrUseLastResponse
		}
		if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return &RefusedError{URL: req.URL.Redacted(), Host: req.URL.Hostname(), Rule: RuleScheme, Trust: t,
				Detail: "a redirect from https to http is not followed"}
		}
		if err := c.policy.checkParsed(req.URL, t, httpSchemes); err != nil {
			return err
		}
		return nil
	}
}

// ErrResponseTooLarge is matched (errors.Is) by the error of reading an
// answer longer than Config.MaxResponseBytes.
var ErrResponseTooLarge = errors.New("outbound: the answer is larger than the cap")

// Do sends req for the account and purpose of m. The URL is checked by the
// policy first; the connection's address is checked again after DNS. It
// may wait for a slot (m.Wait), then runs under Config.Timeout. The
// answer's body reads at most Config.MaxResponseBytes (more is an error
// matching ErrResponseTooLarge) and must be closed: the request holds its
// slots until then. Errors: *RefusedError (ErrRefused), *BusyError
// (ErrBusy), ctx's error, or the transport's *url.Error.
func (c *Client) Do(ctx context.Context, m Meta, req *http.Request) (*http.Response, error) {
	m = m.normal()
	start := time.Now()
	if req == nil || req.URL == nil {
		return nil, errors.New("outbound: a request without a URL")
	}
	host := req.URL.Hostname()
	fail := func(err error) (*http.Response, error) {
		if req.Body != nil {
			req.Body.Close() // as http.Client.Do does on any error
		}
		c.finish(ctx, m, host, start, 0, err)
		return nil, err
	}
	if err := c.policy.checkParsed(req.URL, m.Trust, httpSchemes); err != nil {
		return fail(err)
	}
	release, err := c.acquire(ctx, m, destination(req.URL))
	if err != nil {
		return fail(err)
	}
	c.cfg.Metrics.started(m.Purpose)
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	req = req.WithContext(rctx)
	if req.Header.Get("User-Agent") == "" {
		req.Header = req.Header.Clone()
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	done := func(status int, err error) {
		cancel()
		release()
		c.cfg.Metrics.ended(m.Purpose)
		c.finish(ctx, m, host, start, status, err)
	}
	resp, err := c.http[m.Trust].Do(req)
	if err != nil {
		done(0, err)
		return nil, err
	}
	if resp.ContentLength > c.cfg.MaxResponseBytes {
		resp.Body.Close()
		err := fmt.Errorf("%w: %s answered %d bytes (Content-Length), the cap is %d", ErrResponseTooLarge, host, resp.ContentLength, c.cfg.MaxResponseBytes)
		done(resp.StatusCode, err)
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: c.cfg.MaxResponseBytes, max: c.cfg.MaxResponseBytes,
		done: func(err error) { done(resp.StatusCode, err) }}
	return resp, nil
}

// Request is a request for Send: a body sent whole, signed when Signer
// has a secret.
type Request struct {
	Method string // default POST
	URL    string
	Header http.Header
	Body   []byte
	// Signer signs Body into SignatureHeader at Config.Now; nil or
	// without a secret signs nothing.
	Signer *Signer
}

// Response is an answer read whole by Send.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Send makes the request with Do and reads the answer whole (at most
// Config.MaxResponseBytes). A non-2xx status is not an error: the caller
// judges the answer.
func (c *Client) Send(ctx context.Context, m Meta, r Request) (*Response, error) {
	u, err := c.policy.CheckURL(r.URL, m.Trust)
	if err != nil {
		c.finish(ctx, m.normal(), "", time.Now(), 0, err)
		return nil, err
	}
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader = http.NoBody
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("outbound: %s: %w", u.Redacted(), err)
	}
	for k, vs := range r.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if r.Signer != nil {
		if sig := r.Signer.Sign(c.cfg.Now(), r.Body); sig != "" {
			req.Header.Set(SignatureHeader, sig)
		}
	}
	resp, err := c.Do(ctx, m, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if err != nil {
		return out, fmt.Errorf("outbound: reading the answer of %s: %w", u.Hostname(), err)
	}
	return out, nil
}

func (m Meta) normal() Meta {
	if m.Purpose == "" {
		m.Purpose = PurposeOther
	}
	if m.Trust != Trusted {
		m.Trust = Untrusted
	}
	return m
}

// destination is the key of a destination: scheme, host and port, as
// the connection pool keys connections (ws and wss count as http and
// https).
func destination(u *url.URL) string {
	scheme := u.Scheme
	switch scheme {
	case "ws":
		scheme = "http"
	case "wss":
		scheme = "https"
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	// One destination however its host is spelled (127.1, 0x7f.1, …).
	host := strings.ToLower(u.Hostname())
	if h, herr := parseHost(host); herr == "" {
		host = h.name
		if h.isIP() {
			host = h.addr.String()
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// acquire takes a slot of the destination, then of the account: a request
// waiting on a full destination holds no account slot, so a dead receiver
// takes at most PerDestination of its account's slots.
func (c *Client) acquire(ctx context.Context, m Meta, dest string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	relDest, err := c.dests.acquire(ctx, m.Account+"\x00"+dest, m.Wait)
	if err != nil {
		return nil, c.busy(err, "destination", m, dest, c.cfg.PerDestination)
	}
	relAcct, err := c.accounts.acquire(ctx, m.Account, m.Wait)
	if err != nil {
		relDest()
		return nil, c.busy(err, "account", m, dest, c.cfg.PerAccount)
	}
	var once sync.Once
	return func() { once.Do(func() { relAcct(); relDest() }) }, nil
}

func (c *Client) busy(err error, capName string, m Meta, dest string, limit int) error {
	if errors.Is(err, errBusy) {
		return &BusyError{Cap: capName, Account: m.Account, Destination: dest, Limit: limit}
	}
	return err
}

// inFlight is the requests of account in flight (tests).
func (c *Client) inFlight(account string) int { return c.accounts.inFlight(account) }

// finish logs and counts one request.
func (c *Client) finish(ctx context.Context, m Meta, host string, start time.Time, status int, err error) {
	d := time.Since(start)
	outcome := outcomeOf(status, err)
	c.cfg.Metrics.observe(m.Purpose, outcome, d, err)
	var rerr *RefusedError
	if errors.As(err, &rerr) {
		c.log.WarnContext(ctx, "outbound request refused by the egress policy", "account", m.Account, "purpose", m.Purpose,
			"trust", m.Trust, "host", host, "rule", rerr.Rule, "address", addrString(rerr))
		return
	}
	if c.log.Enabled(ctx, slog.LevelDebug) {
		attrs := []any{"account", m.Account, "purpose", m.Purpose, "host", host, "outcome", outcome, "duration", d}
		if status != 0 {
			attrs = append(attrs, "status", status)
		}
		if err != nil {
			attrs = append(attrs, "err", err)
		}
		c.log.DebugContext(ctx, "outbound request", attrs...)
	}
}

func addrString(e *RefusedError) string {
	if e.Addr.IsValid() {
		return e.Addr.String()
	}
	return ""
}

// outcomeOf names a request's outcome for metrics: the status class of
// an answer, or the kind of failure.
func outcomeOf(status int, err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrRefused):
		return "refused"
	case errors.Is(err, ErrBusy):
		return "busy"
	case errors.Is(err, ErrResponseTooLarge):
		return "too_large"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, ErrNotResolved):
		return "not_resolved"
	case err != nil:
		return "error"
	case status >= 200 && status <= 599:
		return fmt.Sprintf("%dxx", status/100)
	}
	return "other"
}

// cappedBody reads at most max bytes of an answer; more is
// ErrResponseTooLarge. Close releases the request's slots.
type cappedBody struct {
	rc        io.ReadCloser
	left, max int64
	done      func(error)

	tooLarge error // sticky; only Read touches it

	mu   sync.Mutex
	err  error // the first failure, for the outcome
	once sync.Once
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.tooLarge != nil {
		return 0, b.tooLarge
	}
	if b.left <= 0 {
		// At the cap: one more byte means the answer is too large.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			b.tooLarge = fmt.Errorf("%w (%d bytes)", ErrResponseTooLarge, b.max)
			b.fail(b.tooLarge)
			return 0, b.tooLarge
		}
		if err != nil && !errors.Is(err, io.EOF) {
			b.fail(err)
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		b.fail(err)
	}
	return n, err
}

func (b *cappedBody) fail(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
}

func (b *cappedBody) Close() error {
	err := b.rc.Close()
	b.once.Do(func() {
		b.mu.Lock()
		failure := b.err
		b.mu.Unlock()
		b.done(failure)
	})
	return err
}
