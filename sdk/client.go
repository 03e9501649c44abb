package sdk

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Signature selects how POP requests are signed.
type Signature int

const (
	// SignatureV3 is ACS3-HMAC-SHA256 in the Authorization header, with
	// the action in x-acs-action (the current official SDKs). The default.
	SignatureV3 Signature = iota
	// SignatureV1 is RPC HMAC-SHA1 with every parameter in the query (the
	// older SDKs).
	SignatureV1
)

// APIVersion is the version of Dyvmsapi and Dybaseapi this client speaks.
const APIVersion = "2017-05-25"

// Config configures a Client. Only the credentials are required.
type Config struct {
	AccessKeyID     string
	AccessKeySecret string
	// SecurityToken is set for temporary (STS) credentials.
	SecurityToken string
	// Endpoint is "host:port" or a URL. Without a scheme, loopback hosts
	// (127.0.0.1, ::1, localhost) use http and all others https. Default
	// "127.0.0.1:8080".
	Endpoint string
	// Region is sent as RegionId with SignatureV1 (optional; Dialtone
	// ignores it).
	Region string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
	// Signature defaults to SignatureV3.
	Signature Signature
	// MaxRetries is how many times a retryable failure is retried: 0 means
	// the default 3, a negative value disables retries.
	MaxRetries int
	// RetryBase and RetryMax shape the exponential backoff (full jitter):
	// default 200 ms and 5 s.
	RetryBase, RetryMax time.Duration
	// UserAgent is appended to the default User-Agent.
	UserAgent string
}

// Environment variables read by FromEnv.
const (
	EnvAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	EnvAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	EnvSecurityToken   = "ALIBABA_CLOUD_SECURITY_TOKEN"
	EnvEndpoint        = "DIALTONE_ENDPOINT"
)

// ErrNoCredentials is returned by New and FromEnv without an AccessKey.
var ErrNoCredentials = errors.New("no credentials: set " + EnvAccessKeyID + " and " + EnvAccessKeySecret + " (or Config.AccessKeyID and Config.AccessKeySecret)")

// Client calls the Dyvmsapi and Dybaseapi actions. It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	base    *url.URL // scheme://host[:port]
	host    string   // Host header, signed by V3
	hc      *http.Client
	retries int
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" {
		return nil, ErrNoCredentials
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "127.0.0.1:8080"
	}
	base, err := ParseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, base: base, host: base.Host, hc: cfg.HTTPClient}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second}
	}
	switch {
	case cfg.MaxRetries == 0:
		c.retries = 3
	case cfg.MaxRetries > 0:
		c.retries = cfg.MaxRetries
	}
	if c.cfg.RetryBase <= 0 {
		c.cfg.RetryBase = 200 * time.Millisecond
	}
	if c.cfg.RetryMax <= 0 {
		c.cfg.RetryMax = 5 * time.Second
	}
	return c, nil
}

// FromEnv returns a client with the credentials of ALIBABA_CLOUD_ACCESS_KEY_ID,
// ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN and the
// endpoint of DIALTONE_ENDPOINT (default 127.0.0.1:8080).
func FromEnv() (*Client, error) {
	return New(Config{
		AccessKeyID:     os.Getenv(EnvAccessKeyID),
		AccessKeySecret: os.Getenv(EnvAccessKeySecret),
		SecurityToken:   os.Getenv(EnvSecurityToken),
		Endpoint:        os.Getenv(EnvEndpoint),
	})
}

// ParseEndpoint turns "host:port" or a URL into scheme://host[:port]; see
// Config.Endpoint for the default scheme.
func ParseEndpoint(ep string) (*url.URL, error) {
	ep = strings.TrimSpace(ep)
	if !strings.Contains(ep, "://") {
		host := ep
		if h, _, err := net.SplitHostPort(ep); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		scheme := "https"
		if host == "localhost" || (net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback()) {
			scheme = "http"
		}
		ep = scheme + "://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("endpoint %q: want host:port or http(s)://host:port", ep)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// Endpoint returns the base URL the client talks to (scheme://host:port).
func (c *Client) Endpoint() string { return c.base.String() }

// retryClass says when a failed action may be sent again.
type retryClass int

const (
	// retryRead: any throttling, 5xx or network error.
	retryRead retryClass = iota
	// retryUnsent: only failures proving the request was not accepted.
	retryUnsent
)

// call sends action with params and decodes the JSON reply into out (which
// may be nil); it returns the decoded body as a map as well.
func (c *Client) call(ctx context.Context, action string, params map[string]string, class retryClass, out any) (map[string]any, error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		body, retry, wait, err := c.once(ctx, action, params, class)
		if err == nil {
			if out != nil {
				if err := json.Unmarshal(body, out); err != nil {
					return nil, fmt.Errorf("dialtone %s: decoding the reply: %w", action, err)
				}
			}
			var m map[string]any
			_ = json.Unmarshal(body, &m)
			return m, nil
		}
		lastErr = err
		if !retry || attempt >= c.retries || ctx.Err() != nil {
			return nil, lastErr
		}
		d := c.backoff(attempt)
		if wait > d {
			d = wait
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, lastErr
		case <-t.C:
		}
	}
}

// backoff is full-jitter exponential: uniform in [0, min(max, base*2^n)].
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.RetryBase << min(attempt, 20)
	if d <= 0 || d > c.cfg.RetryMax {
		d = c.cfg.RetryMax
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// once sends one signed attempt. retry says whether the failure may be
// retried for this class; wait is a server-requested delay (Retry-After).
func (c *Client) once(ctx context.Context, action string, params map[string]string, class retryClass) (body []byte, retry bool, wait time.Duration, err error) {
	req, err := c.newRequest(ctx, action, params)
	if err != nil {
		return nil, false, 0, err
	}
	var gotConn, wrote bool
	trace := &httptrace.ClientTrace{
		GotConn:      func(httptrace.GotConnInfo) { gotConn = true },
		WroteHeaders: func() { wrote = true },
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, 0, fmt.Errorf("dialtone %s: %w", action, ctx.Err())
		}
		unsent := isDialError(err) || (gotConn && !wrote)
		return nil, class == retryRead || unsent, 0, fmt.Errorf("dialtone %s: %w", action, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		// The server answered, so the request was accepted.
		return nil, class == retryRead, 0, fmt.Errorf("dialtone %s: reading the reply: %w", action, err)
	}
	var env struct {
		RequestID string `json:"RequestId"`
		Code      string `json:"Code"`
		Message   string `json:"Message"`
		Recommend string `json:"Recommend"`
	}
	jsonErr := json.Unmarshal(body, &env)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 && jsonErr == nil && (env.Code == "" || env.Code == "OK") {
		return body, false, 0, nil
	}
	e := &Error{Code: env.Code, Message: env.Message, RequestID: env.RequestID, HTTPStatus: resp.StatusCode, Recommend: env.Recommend, Action: action}
	if jsonErr != nil {
		e.Message = strings.TrimSpace(string(body[:min(len(body), 300)]))
	}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-Acs-Request-Id")
	}
	switch {
	case isThrottling(e.Code):
		retry = true
	case resp.StatusCode == http.StatusServiceUnavailable:
		retry = true // the gateway turned the request away
	case resp.StatusCode >= 500:
		retry = class == retryRead
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 && n <= 60 {
			wait = time.Duration(n) * time.Second
		}
	}
	return nil, retry, wait, e
}

// isDialError reports whether err happened while connecting, before
// anything was sent.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED)
}

func newNonce() string {
	var b [16]byte
	_, _ = cryptoRead(b[:])
	return hex.EncodeToString(b[:])
}

var cryptoRead = crand.Read

// newRequest builds one signed request: a fresh nonce and timestamp each
// time it is called.
func (c *Client) newRequest(ctx context.Context, action string, params map[string]string) (*http.Request, error) {
	now := time.Now().UTC().Format("2006-01-02T15:04:05Z")
	nonce := newNonce()
	u := *c.base
	u.Path = "/"
	var req *http.Request
	var err error
	switch c.cfg.Signature {
	case SignatureV1:
		all := make(map[string]string, len(params)+10)
		for k, v := range params {
			all[k] = v
		}
		all["Action"] = action
		all["Version"] = APIVersion
		all["Format"] = "JSON"
		all["AccessKeyId"] = c.cfg.AccessKeyID
		all["SignatureMethod"] = "HMAC-SHA1"
		all["SignatureVersion"] = "1.0"
		all["SignatureNonce"] = nonce
		all["Timestamp"] = now
		if c.cfg.Region != "" {
			all["RegionId"] = c.cfg.Region
		}
		if c.cfg.SecurityToken != "" {
			all["SecurityToken"] = c.cfg.SecurityToken
		}
		sig := v1Sign(c.cfg.AccessKeySecret, v1StringToSign(http.MethodPost, all))
		u.RawQuery = canonicalQuery(all) + "&Signature=" + popEncode(sig)
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("x-acs-action", action)
		req.Header.Set("x-acs-version", APIVersion)
	default:
		u.RawQuery = canonicalQuery(params)
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
		if err != nil {
			return nil, err
		}
		h := map[string]string{
			"host":                  c.host,
			"x-acs-action":          action,
			"x-acs-version":         APIVersion,
			"x-acs-date":            now,
			"x-acs-signature-nonce": nonce,
			"x-acs-content-sha256":  emptySHA256,
		}
		if c.cfg.SecurityToken != "" {
			h["x-acs-accesskey-id"] = c.cfg.AccessKeyID
			h["x-acs-security-token"] = c.cfg.SecurityToken
		}
		for k, v := range h {
			if k != "host" {
				req.Header.Set(k, v)
			}
		}
		req.Header.Set("Authorization", v3Authorization(c.cfg.AccessKeyID, c.cfg.AccessKeySecret, http.MethodPost, "/", params, h))
	}
	req.Host = c.host
	req.Header.Set("Accept", "application/json")
	ua := "dialtone-go-sdk/1"
	if c.cfg.UserAgent != "" {
		ua += " " + c.cfg.UserAgent
	}
	req.Header.Set("User-Agent", ua)
	return req, nil
}

// Do calls any action with raw string parameters and returns the decoded
// reply; it is the escape hatch for actions without a method. Retries
// follow the rule of call-creating actions unless idempotent is true.
func (c *Client) Do(ctx context.Context, action string, params map[string]string, idempotent bool) (map[string]any, error) {
	class := retryUnsent
	if idempotent {
		class = retryRead
	}
	return c.call(ctx, action, params, class, nil)
}
