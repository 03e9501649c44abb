package mns

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// The queue API: the MNS requests that receipt consumers send (wire-protocol
// §6), on the main listener under /queues/.

// Store is what the queue API needs from the store.
type Store interface {
	GetAccount(ctx context.Context, uid string) (*dialtone.Account, error)
	GetAccessKey(ctx context.Context, id string) (*dialtone.AccessKey, error)
	GetTempCredential(ctx context.Context, accessKeyID string) (*dialtone.TempCredential, error)
	GetSubscription(ctx context.Context, accountUID, messageType string) (*dialtone.Subscription, error)
	ReceiveMessages(ctx context.Context, queue string, n int, now time.Time, visibility time.Duration, handles []string) ([]dialtone.QueueMessage, error)
	PeekMessages(ctx context.Context, queue string, n int, now time.Time) ([]dialtone.QueueMessage, error)
	DeleteMessages(ctx context.Context, queue string, refs []dialtone.HandleRef, now time.Time) ([]error, error)
	ChangeVisibility(ctx context.Context, queue string, ref dialtone.HandleRef, newHandle string, now time.Time, visibility time.Duration) (*dialtone.QueueMessage, error)
	EnqueueMessage(ctx context.Context, m *dialtone.QueueMessage) error
	QueueStats(ctx context.Context, queue string, now time.Time) (dialtone.QueueStats, error)
}

// TokenAction is the POP action whose permission an account's own AccessKey
// needs to use the queue API directly: a key that may fetch a queue token
// can read the queue anyway, and a key restricted to other actions cannot.
const TokenAction = "QueryTokenForMnsQueue"

// Limits of the API (MNS's).
const (
	MaxBatch       = 16
	MaxWaitSeconds = 30
	maxBodyBytes   = 64 << 10
)

// Config configures a Server.
type Config struct {
	Store  Store
	Waker  Waker // default: a LocalWaker
	Clock  dialtone.Clock
	Logger *slog.Logger
	// Window is the allowed skew of the Date header; default 15 minutes.
	Window time.Duration
	// Recheck bounds how long a long poll sleeps without looking at the
	// queue, for messages that become visible again after their
	// visibility timeout (nothing wakes the poll for those). Default 1 s.
	Recheck time.Duration
}

// Server serves the queue API.
type Server struct {
	store   Store
	waker   Waker
	clock   dialtone.Clock
	log     *slog.Logger
	window  time.Duration
	recheck time.Duration
}

// xmlns is the namespace of every response's root element, as MNS sends
// it: without a trailing slash. The MNS Java SDK (com.aliyun.mns) reads
// errors with JAXB bound to exactly this namespace and fails on any other;
// the other clients ignore namespaces. Requests may carry either form.
const xmlns = "http://mns.aliyuncs.com/doc/v1"

// New returns a queue API server.
func New(cfg Config) *Server {
	s := &Server{store: cfg.Store, waker: cfg.Waker, clock: cfg.Clock, log: cfg.Logger, window: cfg.Window, recheck: cfg.Recheck}
	if s.waker == nil {
		s.waker = &LocalWaker{}
	}
	if s.clock == nil {
		s.clock = dialtone.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.window <= 0 {
		s.window = 15 * time.Minute
	}
	if s.recheck <= 0 {
		s.recheck = time.Second
	}
	return s
}

// Waker returns the server's waker, which whoever adds messages wakes.
func (s *Server) Waker() Waker { return s.waker }

// apiError is an MNS error reply.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// Errors whose wording is MNS's own (wire-protocol §6.7).
var (
	errMessageNotExist   = &apiError{http.StatusNotFound, "MessageNotExist", "Message not exist."}
	errQueueNotExist     = &apiError{http.StatusNotFound, "QueueNotExist", "The queue name you provided is not exist."}
	errReceiptHandle     = &apiError{http.StatusBadRequest, "ReceiptHandleError", "The receipt handle you provide is not valid."}
	errSignature         = &apiError{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	errInvalidAccessKey  = &apiError{http.StatusForbidden, "InvalidAccessKeyId", "The AccessKey Id you provided is not exist."}
	errAccountClosed     = &apiError{http.StatusForbidden, "AccessDenied", "The account that owns this queue is closed or abnormal."}
	errAccessDenied      = &apiError{http.StatusForbidden, "AccessDenied", "The OwnerId that your Access Key Id associated to is forbidden for this operation."}
	errTimeExpired       = &apiError{http.StatusRequestTimeout, "TimeExpired", "The http request you sent is expired."}
	errMissingAuth       = &apiError{http.StatusBadRequest, "MissingAuthorizationHeader", "Authorization header is required."}
	errMissingDate       = &apiError{http.StatusBadRequest, "MissingDateHeader", "Date header is required."}
	errInvalidAuth       = &apiError{http.StatusBadRequest, "InvalidAuthorizationHeader", "The Authorization header format is invalid."}
	errInvalidDate       = &apiError{http.StatusBadRequest, "InvalidDateHeader", "The Date header format is invalid."}
	errMissingHandle     = &apiError{http.StatusBadRequest, "MissingReceiptHandle", "ReceiptHandle is required."}
	errMissingVisibility = &apiError{http.StatusBadRequest, "MissingVisibilityTimeout", "VisibilityTimeout is required."}
	errMalformedXML      = &apiError{http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed."}
	errInternal          = &apiError{http.StatusInternalServerError, "InternalError", "Interal error."}
	// Not in the documented table: Alibaba's STS errors as MNS reports them.
	errTokenMismatch = &apiError{http.StatusForbidden, "InvalidSecurityToken", "The security token you provided is not valid for this AccessKey Id."}
	errTokenExpired  = &apiError{http.StatusForbidden, "SecurityTokenExpired", "The security token you provided has expired."}
)

// request is one authenticated request on one queue.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	id      string
	queue   string
	account string
	msgType string
	now     time.Time
}

// ServeHTTP handles /queues/<name>[/messages].
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req := &request{w: w, r: r, id: newRequestID(), now: s.clock.Now()}
	h := w.Header()
	h.Set("x-mns-request-id", req.id)
	h.Set("x-mns-version", "2015-06-06")
	op, err := s.serve(req)
	status, code := http.StatusOK, "OK"
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			s.log.ErrorContext(r.Context(), "mns request failed", "request_id", req.id, "op", op, "err", err)
			ae = errInternal
		}
		s.writeError(req, ae)
		status, code = ae.status, ae.code
	}
	// Never the Authorization header or the token: both are credentials.
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "mns request",
		slog.String("request_id", req.id), slog.String("op", op), slog.String("queue", req.queue),
		slog.String("account", req.account), slog.Int("status", status), slog.String("code", code),
		slog.Duration("elapsed", time.Since(start)))
}

func (s *Server) serve(req *request) (string, error) {
	r := req.r
	rest, ok := strings.CutPrefix(r.URL.Path, "/queues/")
	if !ok {
		return "unknown", errQueueNotExist
	}
	name, sub, _ := strings.Cut(rest, "/")
	req.queue = name
	if err := s.authenticate(req); err != nil {
		return "auth", err
	}
	sb, err := s.store.GetSubscription(r.Context(), req.account, req.msgType)
	if errors.Is(err, dialtone.ErrNotFound) || (err == nil && !sb.Queue) {
		return "lookup", errQueueNotExist
	}
	if err != nil {
		return "lookup", err
	}
	q := lowerQuery(r.URL.Query())
	switch {
	case sub == "" && r.Method == http.MethodGet:
		return "GetQueueAttributes", s.attributes(req, sb)
	case sub == "messages" && r.Method == http.MethodGet && strings.EqualFold(q.Get("peekonly"), "true"):
		return "PeekMessage", s.peek(req, q)
	case sub == "messages" && r.Method == http.MethodGet:
		return "ReceiveMessage", s.receive(req, q, sb)
	case sub == "messages" && r.Method == http.MethodDelete && q.Has("receipthandle"):
		return "DeleteMessage", s.deleteOne(req, q.Get("receipthandle"))
	case sub == "messages" && r.Method == http.MethodDelete:
		return "BatchDeleteMessage", s.deleteBatch(req)
	case sub == "messages" && r.Method == http.MethodPut:
		return "ChangeMessageVisibility", s.changeVisibility(req, q)
	case sub == "messages" && r.Method == http.MethodPost:
		return "SendMessage", s.send(req, sb)
	}
	return "unsupported", errf(http.StatusBadRequest, "InvalidArgument", "The operation %s %s is not supported.", r.Method, r.URL.Path)
}

// lowerQuery lower-cases the query keys: clients disagree on their case
// (ReceiptHandle, receiptHandle, VisibilityTimeout, ...).
func lowerQuery(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[strings.ToLower(k)] = append(out[strings.ToLower(k)], vs...)
	}
	return out
}

// authenticate checks the MNS signature with a temporary credential (with
// its security token) or the account's own AccessKey, and that it may touch
// req.queue. Every failure before the scope check says nothing about the
// queue, so no one learns which queues exist.
func (s *Server) authenticate(req *request) error {
	r := req.r
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return errMissingAuth
	}
	akID, sig, ok := ParseAuthorization(authz)
	if !ok {
		return errInvalidAuth
	}
	dateText := r.Header.Get("Date")
	if dateText == "" {
		return errMissingDate
	}
	date, err := http.ParseTime(dateText)
	if err != nil {
		return errInvalidDate
	}
	if d := req.now.Sub(date); d > s.window || d < -s.window {
		return errTimeExpired
	}
	ctx := r.Context()
	token := r.Header.Get("security-token")
	var (
		secret  string
		account string
		permits func(queue string) bool
		cred    *dialtone.TempCredential
	)
	if token != "" || strings.HasPrefix(akID, "STS.") {
		cred, err = s.store.GetTempCredential(ctx, akID)
		if errors.Is(err, dialtone.ErrNotFound) {
			return errInvalidAccessKey
		}
		if err != nil {
			return fmt.Errorf("temp credential lookup: %w", err)
		}
		secret, account = cred.Secret, cred.AccountUID
		permits = func(q string) bool { return cred.Permits("queue:" + q) }
	} else {
		key, err := s.store.GetAccessKey(ctx, akID)
		if errors.Is(err, dialtone.ErrNotFound) {
			return errInvalidAccessKey
		}
		if err != nil {
			return fmt.Errorf("access key lookup: %w", err)
		}
		if !key.Enabled {
			return errf(http.StatusForbidden, "InvalidAccessKeyId", "The AccessKey Id you provided is disabled.")
		}
		secret, account = key.Secret, key.AccountUID
		permits = func(string) bool { return key.Allows(TokenAction) }
	}
	if !verify(r, secret, sig) {
		return errSignature
	}
	if cred != nil {
		// Checked after the signature, so that only the holder of the
		// secret learns whether the token matched or expired.
		if token == "" || !hmac.Equal([]byte(token), []byte(cred.SecurityToken)) {
			return errTokenMismatch
		}
		if cred.Expired(req.now) {
			return errTokenExpired
		}
	}
	req.account = ""
	uid, msgType, ok := dialtone.ParseQueueName(req.queue)
	if !ok || uid != account || !permits(req.queue) {
		return errAccessDenied
	}
	// A deleted or abnormal account's keys and tokens no longer open its
	// queues. A suspended one may still drain them: the receipts are of
	// calls it already made and will be billed for.
	a, err := s.store.GetAccount(ctx, uid)
	if errors.Is(err, dialtone.ErrNotFound) {
		return errAccessDenied
	}
	if err != nil {
		return fmt.Errorf("account lookup: %w", err)
	}
	if a.Status == dialtone.AccountDeleted || a.Status == dialtone.AccountAbnormal {
		return errAccountClosed
	}
	req.account, req.msgType = uid, msgType
	return nil
}

// verify compares the signature with the one computed over the resource as
// the client sent it and, failing that, over a rebuilt sorted, decoded
// query (alibaba-cloud-sdk-go signs its parameters unencoded).
func verify(r *http.Request, secret, sig string) bool {
	resources := []string{r.RequestURI}
	if u := r.URL.RequestURI(); u != r.RequestURI {
		resources = append(resources, u)
	}
	if r.URL.RawQuery != "" {
		q := r.URL.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			for _, v := range q[k] {
				if v == "" {
					parts = append(parts, k)
				} else {
					parts = append(parts, k+"="+v)
				}
			}
		}
		resources = append(resources, r.URL.Path+"?"+strings.Join(parts, "&"))
	}
	ok := false
	for _, res := range resources {
		want := Sign(secret, StringToSign(r.Method, r.Header, res))
		// Every candidate is compared, in constant time, whatever matched.
		if hmac.Equal([]byte(want), []byte(sig)) {
			ok = true
		}
	}
	return ok
}

func intParam(q url.Values, name string, def, lo, hi int, element string) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errf(http.StatusBadRequest, "InvalidArgument", "The value of %s should between %d and %d.", element, lo, hi)
	}
	return n, nil
}

func (s *Server) receive(req *request, q url.Values, sb *dialtone.Subscription) error {
	batch := q.Has("numofmessages")
	n, err := intParam(q, "numofmessages", 1, 1, MaxBatch, "numOfMessages")
	if err != nil {
		return err
	}
	wait, err := intParam(q, "waitseconds", 0, 0, MaxWaitSeconds, "waitseconds")
	if err != nil {
		return err
	}
	ctx := req.r.Context()
	deadline := time.Now().Add(time.Duration(wait) * time.Second)
	for {
		// Subscribe before looking, so a message routed in between wakes us.
		woken := s.waker.Wait(req.queue)
		msgs, err := s.receiveNow(ctx, req.queue, n, sb.Visibility())
		if err != nil {
			return err
		}
		if len(msgs) > 0 {
			return s.writeMessages(req, msgs, batch, true)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return errMessageNotExist
		}
		t := time.NewTimer(min(left, s.recheck))
		select {
		case <-woken:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return errMessageNotExist
		}
		t.Stop()
	}
}

func (s *Server) receiveNow(ctx context.Context, queue string, n int, vis time.Duration) ([]dialtone.QueueMessage, error) {
	// The random parts are minted before the transaction (which group
	// commit may run twice); the store keeps them, and the handle the
	// client sees is completed with the message ID only known after it.
	nonces := make([]string, n)
	for i := range nonces {
		nonces[i] = newNonce()
	}
	msgs, err := s.store.ReceiveMessages(ctx, queue, n, s.clock.Now(), vis, nonces)
	if err != nil {
		return nil, err
	}
	for i := range msgs {
		msgs[i].Handle = handleFor(msgs[i].ID, msgs[i].Handle)
	}
	return msgs, nil
}

// handleFor completes the handle of a message from the nonce the store
// recorded: the store keeps only the nonce, the client sees ID-nonce.
func handleFor(messageID, nonce string) string { return messageID + "-" + nonce }

// refFor turns a client's handle into what the store compares.
func refFor(h string) (dialtone.HandleRef, bool) {
	ref, ok := ParseHandle(h)
	if !ok {
		return ref, false
	}
	ref.Handle = h[33:]
	return ref, true
}

func (s *Server) peek(req *request, q url.Values) error {
	batch := q.Has("numofmessages")
	n, err := intParam(q, "numofmessages", 1, 1, MaxBatch, "numOfMessages")
	if err != nil {
		return err
	}
	msgs, err := s.store.PeekMessages(req.r.Context(), req.queue, n, s.clock.Now())
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		return errMessageNotExist
	}
	return s.writeMessages(req, msgs, batch, false)
}

func (s *Server) deleteOne(req *request, handle string) error {
	if handle == "" {
		return errMissingHandle
	}
	ref, ok := refFor(handle)
	if !ok {
		return errReceiptHandle
	}
	errs, err := s.store.DeleteMessages(req.r.Context(), req.queue, []dialtone.HandleRef{ref}, s.clock.Now())
	if err != nil {
		return err
	}
	if e := handleError(errs[0]); e != nil {
		return e
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

func handleError(err error) *apiError {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, dialtone.ErrStaleHandle):
		return errReceiptHandle
	case errors.Is(err, dialtone.ErrNotFound):
		return errMessageNotExist
	}
	return errInternal
}

type receiptHandles struct {
	Handles []string `xml:"ReceiptHandle"`
}

func readXML(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(body) > maxBodyBytes {
		return errMalformedXML
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return errMalformedXML
	}
	return nil
}

func (s *Server) deleteBatch(req *request) error {
	var body receiptHandles
	if err := readXML(req.r, &body); err != nil {
		return err
	}
	if len(body.Handles) == 0 {
		return errMissingHandle
	}
	if len(body.Handles) > MaxBatch {
		return errf(http.StatusBadRequest, "InvalidArgument", "The count of ReceiptHandle should between 1 and %d.", MaxBatch)
	}
	failures := make([]*apiError, len(body.Handles))
	var refs []dialtone.HandleRef
	var at []int
	for i, h := range body.Handles {
		ref, ok := refFor(strings.TrimSpace(h))
		if !ok {
			failures[i] = errReceiptHandle
			continue
		}
		refs = append(refs, ref)
		at = append(at, i)
	}
	if len(refs) > 0 {
		errs, err := s.store.DeleteMessages(req.r.Context(), req.queue, refs, s.clock.Now())
		if err != nil {
			return err
		}
		for j, e := range errs {
			failures[at[j]] = handleError(e)
		}
	}
	var b bytes.Buffer
	failed := 0
	for i, f := range failures {
		if f == nil {
			continue
		}
		failed++
		b.WriteString("<Error><ErrorCode>")
		xmlText(&b, f.code)
		b.WriteString("</ErrorCode><ErrorMessage>")
		xmlText(&b, f.message)
		b.WriteString("</ErrorMessage><ReceiptHandle>")
		xmlText(&b, body.Handles[i])
		b.WriteString("</ReceiptHandle></Error>")
	}
	if failed == 0 {
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	// MNS documents 404 for a partial failure; clients that parse the body
	// (the Python SDK) read each handle's error from it.
	writeXML(req.w, http.StatusNotFound, `<Errors xmlns="`+xmlns+`">`+b.String()+`</Errors>`)
	return nil
}

func (s *Server) changeVisibility(req *request, q url.Values) error {
	handle := q.Get("receipthandle")
	if handle == "" {
		return errMissingHandle
	}
	if !q.Has("visibilitytimeout") {
		return errMissingVisibility
	}
	secs, err := intParam(q, "visibilitytimeout", 0, 0, int(dialtone.MaxVisibilityTimeout/time.Second), "VisibilityTimeout")
	if err != nil {
		return err
	}
	ref, ok := refFor(handle)
	if !ok {
		return errReceiptHandle
	}
	nonce := newNonce()
	m, err := s.store.ChangeVisibility(req.r.Context(), req.queue, ref, nonce, s.clock.Now(), time.Duration(secs)*time.Second)
	if e := handleError(err); errors.Is(err, dialtone.ErrNotFound) || errors.Is(err, dialtone.ErrStaleHandle) {
		return e
	}
	if err != nil {
		return err
	}
	if secs == 0 {
		s.waker.Wake(req.queue)
	}
	var b bytes.Buffer
	b.WriteString(`<ChangeVisibility xmlns="` + xmlns + `"><ReceiptHandle>`)
	xmlText(&b, handleFor(m.ID, m.Handle))
	b.WriteString(`</ReceiptHandle><NextVisibleTime>`)
	b.WriteString(strconv.FormatInt(m.NextVisibleAt.UnixMilli(), 10))
	b.WriteString(`</NextVisibleTime></ChangeVisibility>`)
	writeXML(req.w, http.StatusOK, b.String())
	return nil
}

type sendBody struct {
	MessageBody  string `xml:"MessageBody"`
	DelaySeconds int    `xml:"DelaySeconds"`
	Priority     int    `xml:"Priority"`
}

// send adds a message as given (SendMessage); receipts arrive through the
// dispatcher, this serves tests and tools.
func (s *Server) send(req *request, sb *dialtone.Subscription) error {
	var body sendBody
	if err := readXML(req.r, &body); err != nil {
		return err
	}
	if body.Priority == 0 {
		body.Priority = DefaultPriority
	}
	if body.Priority < 1 || body.Priority > 16 {
		return errf(http.StatusBadRequest, "InvalidArgument", "The value of Priority should between 1 and 16.")
	}
	if body.DelaySeconds < 0 || body.DelaySeconds > 604800 {
		return errf(http.StatusBadRequest, "InvalidArgument", "The value of DelaySeconds should between 0 and 604800 seconds.")
	}
	now := s.clock.Now()
	m := &dialtone.QueueMessage{
		ID: NewMessageID(), Queue: req.queue, AccountUID: req.account, Body: body.MessageBody,
		BodyMD5: BodyMD5(body.MessageBody), Priority: body.Priority, EnqueuedAt: now,
		NextVisibleAt: now.Add(time.Duration(body.DelaySeconds) * time.Second),
		ExpiresAt:     now.Add(sb.RetentionPeriod()),
	}
	if err := s.store.EnqueueMessage(req.r.Context(), m); err != nil {
		return err
	}
	s.waker.Wake(req.queue)
	var b bytes.Buffer
	b.WriteString(`<Message xmlns="` + xmlns + `"><MessageId>`)
	b.WriteString(m.ID)
	b.WriteString(`</MessageId><MessageBodyMD5>`)
	b.WriteString(m.BodyMD5)
	b.WriteString(`</MessageBodyMD5></Message>`)
	writeXML(req.w, http.StatusCreated, b.String())
	return nil
}

func (s *Server) attributes(req *request, sb *dialtone.Subscription) error {
	st, err := s.store.QueueStats(req.r.Context(), req.queue, s.clock.Now())
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(`<Queue xmlns="` + xmlns + `"><QueueName>`)
	xmlText(&b, req.queue)
	fmt.Fprintf(&b, `</QueueName><CreateTime>%d</CreateTime><LastModifyTime>%d</LastModifyTime>`,
		sb.CreatedAt.Unix(), sb.UpdatedAt.Unix())
	fmt.Fprintf(&b, `<DelaySeconds>0</DelaySeconds><MaximumMessageSize>%d</MaximumMessageSize>`, maxBodyBytes)
	fmt.Fprintf(&b, `<MessageRetentionPeriod>%d</MessageRetentionPeriod><VisibilityTimeout>%d</VisibilityTimeout>`,
		int64(sb.RetentionPeriod()/time.Second), int64(sb.Visibility()/time.Second))
	fmt.Fprintf(&b, `<PollingWaitSeconds>0</PollingWaitSeconds><ActiveMessages>%d</ActiveMessages><InactiveMessages>%d</InactiveMessages><DelayMessages>%d</DelayMessages>`,
		st.Active, st.Inactive, st.Delayed)
	b.WriteString(`<LoggingEnabled>False</LoggingEnabled></Queue>`)
	writeXML(req.w, http.StatusOK, b.String())
	return nil
}

// writeMessages renders received (withHandle) or peeked messages: a
// <Messages> list for the batch forms, a lone <Message> otherwise.
func (s *Server) writeMessages(req *request, msgs []dialtone.QueueMessage, batch, withHandle bool) error {
	var b bytes.Buffer
	if batch {
		b.WriteString(`<Messages xmlns="` + xmlns + `">`)
	}
	for i := range msgs {
		if i > 0 && !batch {
			break
		}
		m := &msgs[i]
		if batch {
			b.WriteString(`<Message>`)
		} else {
			b.WriteString(`<Message xmlns="` + xmlns + `">`)
		}
		b.WriteString(`<MessageId>`)
		xmlText(&b, m.ID)
		b.WriteString(`</MessageId>`)
		if withHandle {
			b.WriteString(`<ReceiptHandle>`)
			xmlText(&b, m.Handle)
			b.WriteString(`</ReceiptHandle>`)
		}
		b.WriteString(`<MessageBodyMD5>`)
		b.WriteString(m.BodyMD5)
		b.WriteString(`</MessageBodyMD5><MessageBody>`)
		xmlText(&b, m.Body)
		fmt.Fprintf(&b, `</MessageBody><EnqueueTime>%d</EnqueueTime>`, m.EnqueuedAt.UnixMilli())
		if withHandle {
			fmt.Fprintf(&b, `<NextVisibleTime>%d</NextVisibleTime>`, m.NextVisibleAt.UnixMilli())
		}
		first := int64(0)
		if !m.FirstDequeueAt.IsZero() {
			first = m.FirstDequeueAt.UnixMilli()
		}
		fmt.Fprintf(&b, `<FirstDequeueTime>%d</FirstDequeueTime><DequeueCount>%d</DequeueCount><Priority>%d</Priority></Message>`,
			first, m.DequeueCount, m.Priority)
	}
	if batch {
		b.WriteString(`</Messages>`)
	}
	writeXML(req.w, http.StatusOK, b.String())
	return nil
}

func (s *Server) writeError(req *request, e *apiError) {
	var b bytes.Buffer
	b.WriteString(`<Error xmlns="` + xmlns + `"><Code>`)
	xmlText(&b, e.code)
	b.WriteString(`</Code><Message>`)
	xmlText(&b, e.message)
	b.WriteString(`</Message><RequestId>`)
	b.WriteString(req.id)
	b.WriteString(`</RequestId><HostId>`)
	scheme := "http://"
	if req.r.TLS != nil {
		scheme = "https://"
	}
	xmlText(&b, scheme+req.r.Host)
	b.WriteString(`</HostId></Error>`)
	writeXML(req.w, e.status, b.String())
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+body)
}

func xmlText(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
