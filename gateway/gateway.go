// Package gateway is the POP front door: it authenticates every request
// (RPC v1, V3, temporary credentials), enforces timestamps, nonces, RAM-style
// key restrictions, account state and per-account rate limits, dispatches to
// the registered action and renders the envelope the official clients parse.
package gateway

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/cluster"
	"github.com/dialtone-voice/dialtone/pop"
)

// Version is the API version of both products.
const Version = "2017-05-25"

// Products served on the one listener.
const (
	ProductVMS  = "Dyvmsapi"
	ProductBase = "Dybaseapi"
)

// MaxBodyBytes bounds a POP request body; real requests are a few KiB.
const MaxBodyBytes = 1 << 20

// Invocation is what an action handler receives: an authenticated,
// authorised request of an account in good standing.
type Invocation struct {
	RequestID   string
	Product     string
	Action      string
	Account     *dialtone.Account
	AccessKeyID string
	// Temp is set when the request was signed with a temporary credential.
	Temp   *dialtone.TempCredential
	Params Params
}

// Handler runs one action. It returns the response fields (without
// RequestId, Code and Message, which the gateway adds) or an error: a
// *dialtone.Error becomes a business response (HTTP 200), a *pop.Error a
// gateway error, anything else isp.SYSTEM_ERROR with the cause logged.
type Handler func(ctx context.Context, inv *Invocation) (map[string]any, error)

// Action describes one registered action.
type Action struct {
	Product string
	Name    string
	// Feature the account must have activated; "" for none.
	Feature dialtone.Feature
	Handler Handler
}

// DefaultRateLimits are Alibaba's per-account QPS quotas (vms-api.md §7).
var DefaultRateLimits = map[string]float64{
	"SingleCallByTts":         1000,
	"SingleCallByVoice":       1200,
	"IvrCall":                 100,
	"QueryCallDetailByCallId": 100,
}

// DefaultRate applies to actions not listed in DefaultRateLimits.
const DefaultRate = 100

// Config configures a Gateway.
type Config struct {
	Store  dialtone.Store
	Logger *slog.Logger
	Clock  dialtone.Clock
	// Window is the allowed clock skew of Timestamp / x-acs-date; nonces are
	// remembered for twice as long. Default 15 minutes.
	Window  time.Duration
	Metrics *Metrics
	// Limits admits the per-account, per-action request rates; nil: in
	// this process's memory (cluster.LocalLimits). On the nodes of a
	// cluster (cluster.SharedLimits) each node admits its share of each
	// rate, so that the cluster admits the configured rate.
	Limits dialtone.Limits
}

// Gateway serves POP requests.
type Gateway struct {
	store   dialtone.Store
	log     *slog.Logger
	clock   dialtone.Clock
	window  time.Duration
	metrics *Metrics
	actions map[string]*Action
	limits  dialtone.Limits
}

// New returns a gateway with no actions registered.
func New(cfg Config) *Gateway {
	g := &Gateway{
		store:   cfg.Store,
		log:     cfg.Logger,
		clock:   cfg.Clock,
		window:  cfg.Window,
		metrics: cfg.Metrics,
		actions: map[string]*Action{},
		limits:  cfg.Limits,
	}
	if g.limits == nil {
		g.limits = cluster.NewLocalLimits("")
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.clock == nil {
		g.clock = dialtone.SystemClock{}
	}
	if g.window <= 0 {
		g.window = 15 * time.Minute
	}
	return g
}

// Register adds an action. Action names are unique across products, which is
// how one listener tells Dyvmsapi from Dybaseapi.
func (g *Gateway) Register(a Action) {
	if a.Product == "" {
		a.Product = ProductVMS
	}
	g.actions[a.Name] = &a
}

// Actions returns the registered action names.
func (g *Gateway) Actions() []string {
	out := make([]string, 0, len(g.actions))
	for n := range g.actions {
		out = append(out, n)
	}
	return out
}

// NewRequestID returns an ID in Alibaba's upper-case UUID form.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexUpper = "0123456789ABCDEF"
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexUpper[c>>4], hexUpper[c&15]
		j += 2
	}
	return string(out[:])
}

type outcome struct {
	status  int
	code    string
	product string
	action  string
	ak      string
	account string
	style   string
}

// ServeHTTP handles one POP request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := NewRequestID()
	w.Header().Set("x-acs-request-id", reqID)
	out := g.serve(w, r, reqID)
	elapsed := time.Since(start)
	if g.metrics != nil {
		g.metrics.observe(out.product, out.action, out.code, elapsed)
	}
	level := slog.LevelInfo
	if out.status >= 500 {
		level = slog.LevelError
	}
	if !g.log.Enabled(r.Context(), level) {
		return // without building the record's attributes
	}
	// One line per request; never parameters or signatures, which may carry
	// personal data or be replayable.
	g.log.LogAttrs(r.Context(), level, "pop request",
		slog.String("request_id", reqID),
		slog.String("product", out.product),
		slog.String("action", out.action),
		slog.String("style", out.style),
		slog.String("access_key_id", out.ak),
		slog.String("account", out.account),
		slog.Int("status", out.status),
		slog.String("code", out.code),
		slog.Duration("elapsed", elapsed),
		slog.String("remote", r.RemoteAddr),
	)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, reqID string) outcome {
	out := outcome{product: ProductVMS, action: "unknown"}
	// Until the request is decoded, an error answers in the format the
	// query asks for; parsed only then, since it rarely happens.
	asXML, decoded := false, false
	fail := func(e *pop.Error) outcome {
		if !decoded {
			asXML = strings.EqualFold(r.URL.Query().Get("Format"), "XML")
		}
		pop.WriteError(w, e, reqID, r.Host, recommend(e.Code), asXML)
		out.status, out.code = e.Status, e.Code
		return out
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return fail(&pop.Error{Status: http.StatusMethodNotAllowed, Code: "UnsupportedHTTPMethod", Message: "Only GET and POST are supported."})
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return fail(&pop.Error{Status: http.StatusBadRequest, Code: "InvalidParameter", Message: "The request body is too large or could not be read."})
	}
	req, perr := pop.Decode(r, body)
	if perr != nil {
		return fail(perr)
	}
	asXML, decoded = req.XML, true
	out.style = req.Style.String()
	act, known := g.actions[req.Action]
	if known {
		out.product, out.action = act.Product, act.Name
	}
	if req.Version != Version {
		return fail(pop.ErrInvalidVersion())
	}
	if !known {
		return fail(pop.ErrActionNotFound())
	}
	now := g.clock.Now()
	if d := now.Sub(req.Timestamp); d > g.window || d < -g.window {
		return fail(pop.ErrTimestampExpired())
	}
	out.ak = req.AccessKeyID
	inv := &Invocation{RequestID: reqID, Product: act.Product, Action: act.Name, AccessKeyID: req.AccessKeyID, Params: Params(req.Params)}
	var accountUID string
	var keyAllows func(string) bool
	ctx := r.Context()
	if req.SecurityToken != "" || strings.HasPrefix(req.AccessKeyID, TempKeyPrefix) {
		cred, err := g.store.GetTempCredential(ctx, req.AccessKeyID)
		if errors.Is(err, dialtone.ErrNotFound) {
			return fail(pop.ErrAccessKeyNotFound())
		}
		if err != nil {
			g.log.ErrorContext(ctx, "temp credential lookup", "request_id", reqID, "err", err)
			return fail(pop.ErrInternal())
		}
		if e := req.Verify(cred.Secret); e != nil {
			return fail(e)
		}
		if req.SecurityToken == "" {
			return fail(pop.ErrSecurityTokenMissing())
		}
		if !pop.Equal(req.SecurityToken, cred.SecurityToken) {
			return fail(pop.ErrSecurityTokenMismatch())
		}
		if cred.Expired(now) {
			return fail(pop.ErrSecurityTokenExpired())
		}
		inv.Temp = cred
		accountUID = cred.AccountUID
		keyAllows = func(action string) bool { return cred.Permits("action:" + action) }
	} else {
		key, err := g.store.GetAccessKey(ctx, req.AccessKeyID)
		if errors.Is(err, dialtone.ErrNotFound) {
			return fail(pop.ErrAccessKeyNotFound())
		}
		if err != nil {
			g.log.ErrorContext(ctx, "access key lookup", "request_id", reqID, "err", err)
			return fail(pop.ErrInternal())
		}
		if !key.Enabled {
			return fail(pop.ErrAccessKeyInactive())
		}
		if e := req.Verify(key.Secret); e != nil {
			return fail(e)
		}
		accountUID = key.AccountUID
		keyAllows = key.Allows
	}
	out.account = accountUID
	// The nonce is recorded only after the signature verified, so nobody can
	// burn another client's nonces with unsigned requests.
	fresh, err := g.store.UseNonce(ctx, req.AccessKeyID, req.Nonce, now, now.Add(2*g.window))
	if err != nil {
		g.log.ErrorContext(ctx, "nonce", "request_id", reqID, "err", err)
		return fail(pop.ErrInternal())
	}
	if !fresh {
		return fail(pop.ErrNonceUsed())
	}
	business := func(e *dialtone.Error) outcome {
		if e.Code == dialtone.CodeSystemError && e.Cause != nil {
			g.log.ErrorContext(ctx, "action failed", "request_id", reqID, "action", act.Name, "err", e.Cause)
		}
		pop.WriteResult(w, act.Name, map[string]any{"RequestId": reqID, "Code": e.Code, "Message": e.Message}, asXML)
		out.status, out.code = http.StatusOK, e.Code
		return out
	}
	if !keyAllows(act.Name) {
		return business(dialtone.Errorf(dialtone.CodeRAMPermissionDeny, "The AccessKey %s is not allowed to call %s.", req.AccessKeyID, act.Name))
	}
	acct, err := g.store.GetAccount(ctx, accountUID)
	if errors.Is(err, dialtone.ErrNotFound) {
		return business(dialtone.Errorf(dialtone.CodeAccountNotExists, "The account of this AccessKey does not exist."))
	}
	if err != nil {
		g.log.ErrorContext(ctx, "account lookup", "request_id", reqID, "err", err)
		return fail(pop.ErrInternal())
	}
	inv.Account = acct
	if e := CheckAccount(acct, act.Feature); e != nil {
		return business(e)
	}
	if !g.allow(acct, act.Name) {
		return fail(pop.ErrThrottlingUser())
	}
	fields, err := act.Handler(ctx, inv)
	if err != nil {
		var pe *pop.Error
		if errors.As(err, &pe) {
			return fail(pe)
		}
		return business(dialtone.AsError(err))
	}
	resp := make(map[string]any, len(fields)+3)
	for k, v := range fields {
		resp[k] = v
	}
	resp["RequestId"] = reqID
	if _, ok := resp["Code"]; !ok {
		resp["Code"] = dialtone.CodeOK
	}
	if _, ok := resp["Message"]; !ok {
		resp["Message"] = "OK"
	}
	pop.WriteResult(w, act.Name, resp, asXML)
	out.status, out.code = http.StatusOK, dialtone.CodeOK
	return out
}

// TempKeyPrefix starts every temporary AccessKeyId, as STS keys do.
const TempKeyPrefix = "STS."

// CheckAccount returns the business error for an account that may not use
// the service (or the feature), in the order Alibaba reports them.
func CheckAccount(a *dialtone.Account, feature dialtone.Feature) *dialtone.Error {
	switch a.Status {
	case dialtone.AccountDeleted:
		return dialtone.Errorf(dialtone.CodeAccountNotExists, "The account %s does not exist.", a.UID)
	case dialtone.AccountAbnormal:
		return dialtone.Errorf(dialtone.CodeAccountAbnormal, "The account %s is abnormal; contact the operator.", a.UID)
	case dialtone.AccountSuspended:
		return dialtone.Errorf(dialtone.CodeOutOfService, "The account %s is suspended (out of service).", a.UID)
	}
	if !a.VoiceService {
		return dialtone.Errorf(dialtone.CodeProductUnSubscript, "The account %s has not activated the voice service.", a.UID)
	}
	if feature != "" && !a.HasFeature(feature) {
		return dialtone.Errorf(dialtone.CodeProductUnsubscribe, "The account %s has not activated the %s feature.", a.UID, feature)
	}
	return nil
}

// allow admits one request of the account's action within its rate
// (requests per second, with a burst of one second's worth).
func (g *Gateway) allow(a *dialtone.Account, action string) bool {
	limit, ok := a.RateLimits[action]
	if !ok {
		limit, ok = DefaultRateLimits[action]
	}
	if !ok {
		limit = DefaultRate
	}
	return g.limits.Allow(a.UID+"/"+action, limit, max(int(limit), 1), g.clock.Now())
}

// recommend gives the caller a next step for a gateway error.
func recommend(code string) string {
	switch code {
	case "SignatureDoesNotMatch":
		return "Check your AccessKeySecret and that the request was not changed after signing (compare the server's string to sign with yours)."
	case "InvalidAccessKeyId.NotFound":
		return "Check the AccessKeyId; keys are listed in the Dialtone console or admin API."
	case "InvalidAccessKeyId.Inactive":
		return "Enable the AccessKey or use another one."
	case "InvalidTimeStamp.Expired":
		return "Synchronise the client's clock (NTP); requests are accepted within the signature window."
	case "SignatureNonceUsed":
		return "Use a fresh SignatureNonce for every request."
	case "Throttling.User":
		return "Reduce the request rate or ask the operator to raise this account's limit."
	case "InvalidAction.NotFound":
		return "Check the Action name and the endpoint."
	case "InvalidVersion":
		return "Use Version 2017-05-25."
	}
	return "See the Dialtone documentation for " + code + "."
}
