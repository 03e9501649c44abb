package sdk

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Consumer pulls receipts from an account's MNS-compatible queue and hands
// them to Handler.
//
// The queue is named Alicom-Queue-<account UID>-<MessageType>. The POP API
// does not tell a client its account UID, so set QueueName, or AccountUID
// and let the Consumer build the name; Run fails at once when both are
// empty.
type Consumer struct {
	Client      *Client
	MessageType string // VoiceReport, VoiceCallReport or VoiceRecordReport
	QueueName   string // default "Alicom-Queue-<AccountUID>-<MessageType>"
	AccountUID  string
	// MNSEndpoint is the queue service ("host:port" or URL); default the
	// Client's endpoint (Dialtone serves both on one listener).
	MNSEndpoint string
	Batch       int           // messages per receive, 1–16; default 16
	Wait        time.Duration // long poll, ≤ 30 s; default 30 s
	Concurrency int           // handlers running at once; default 1
	// Handler processes one receipt. nil means success: the message is
	// deleted. An error leaves it in the queue: it comes back after the
	// queue's visibility timeout (30 s by default), or after RetryDelay.
	// Deliveries may repeat; de-duplicate by Receipt.ID.
	Handler func(ctx context.Context, r Receipt) error
	// RetryDelay, when positive, makes a message the handler refused
	// visible again after this delay (ChangeMessageVisibility, whole
	// seconds) instead of the queue's visibility timeout.
	RetryDelay time.Duration
	// RefreshBefore is how long before ExpireTime the queue token is
	// renewed; default 2 minutes (as the official demos).
	RefreshBefore time.Duration
	// OnError, if set, is told of every error the Consumer recovers from
	// (it backs off and goes on).
	OnError func(error)
	// HTTPClient for the queue requests; default one without a timeout
	// beyond Wait + 30 s.
	HTTPClient *http.Client
}

// Run consumes until ctx ends and then returns nil, after the handlers in
// flight have finished and the messages they accepted are deleted. It
// returns an error early only for failures that retrying cannot fix: a
// bad configuration, or the token refused (e.g. no queue subscription
// for MessageType, or the credentials rejected).
func (c *Consumer) Run(ctx context.Context) error {
	if c.Client == nil || c.Handler == nil {
		return errors.New("dialtone consumer: Client and Handler are required")
	}
	switch c.MessageType {
	case VoiceReportType, VoiceCallReportType, VoiceRecordReportType:
	default:
		return fmt.Errorf("dialtone consumer: MessageType %q: want VoiceReport, VoiceCallReport or VoiceRecordReport", c.MessageType)
	}
	queue := c.QueueName
	if queue == "" {
		if c.AccountUID == "" {
			return errors.New("dialtone consumer: set QueueName or AccountUID (the queue is Alicom-Queue-<account UID>-<MessageType>)")
		}
		queue = "Alicom-Queue-" + c.AccountUID + "-" + c.MessageType
	}
	batch := c.Batch
	if batch <= 0 || batch > 16 {
		batch = 16
	}
	wait := c.Wait
	if wait <= 0 || wait > 30*time.Second {
		wait = 30 * time.Second
	}
	conc := max(c.Concurrency, 1)
	refresh := c.RefreshBefore
	if refresh <= 0 {
		refresh = 2 * time.Minute
	}
	base := c.Client.base.String()
	if c.MNSEndpoint != "" {
		u, err := ParseEndpoint(c.MNSEndpoint)
		if err != nil {
			return fmt.Errorf("dialtone consumer: MNSEndpoint: %w", err)
		}
		base = u.String()
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: c.Client.hc.Transport, Timeout: wait + 30*time.Second}
	}
	var tok *Token
	m := &mnsClient{base: base, hc: hc, token: func() *Token { return tok }}
	report := func(err error) {
		if c.OnError != nil && err != nil {
			c.OnError(err)
		}
	}
	failures, authFailures := 0, 0
	pause := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	backoff := func() time.Duration {
		d := 100 * time.Millisecond << min(failures, 7) // up to 12.8 s
		return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	}
	for ctx.Err() == nil {
		if tok == nil || time.Until(tok.ExpireTime) < refresh {
			t, err := c.Client.QueryTokenForMnsQueue(ctx, c.MessageType, c.QueueName)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				if errors.Is(err, ErrAuth) || errors.Is(err, ErrInvalidParameters) {
					return fmt.Errorf("dialtone consumer: queue token: %w", err)
				}
				report(err)
				failures++
				pause(backoff())
				continue
			}
			tok = t
		}
		msgs, err := m.receive(ctx, queue, batch, wait)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			report(err)
			if errors.Is(err, ErrAuth) {
				// Expired or revoked: get a new token, but not forever.
				authFailures++
				if authFailures > 3 {
					return fmt.Errorf("dialtone consumer: the queue refuses fresh tokens: %w", err)
				}
				tok = nil
				continue
			}
			var e *Error
			if errors.As(err, &e) && e.Code == "QueueNotExist" {
				return fmt.Errorf("dialtone consumer: queue %s: %w", queue, err)
			}
			failures++
			pause(backoff())
			continue
		}
		failures, authFailures = 0, 0
		if len(msgs) == 0 {
			if wait < time.Second {
				pause(200 * time.Millisecond) // no long poll to wait in: don't spin
			}
			continue
		}
		c.handle(ctx, m, queue, msgs, conc, report)
	}
	return nil
}

// handle runs the handler on a batch with bounded concurrency, deletes the
// accepted messages and reschedules the refused ones.
func (c *Consumer) handle(ctx context.Context, m *mnsClient, queue string, msgs []mnsMessage, conc int, report func(error)) {
	ok := make([]bool, len(msgs))
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i, msg := range msgs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := decodeMessage(msg, c.MessageType)
			err := func() (err error) {
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("handler panic: %v", p)
					}
				}()
				return c.Handler(ctx, r)
			}()
			if err != nil {
				report(fmt.Errorf("dialtone consumer: handler refused receipt %s: %w", r.ID, err))
				return
			}
			ok[i] = true
		}()
	}
	wg.Wait()
	// Deleting must not be skipped because ctx just ended: the handler
	// accepted these.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var done []string
	for i, msg := range msgs {
		if ok[i] {
			done = append(done, msg.ReceiptHandle)
		} else if c.RetryDelay > 0 {
			if err := m.changeVisibility(dctx, queue, msg.ReceiptHandle, c.RetryDelay); err != nil {
				report(err)
			}
		}
	}
	if err := m.remove(dctx, queue, done); err != nil {
		report(err) // they come back after the visibility timeout
	}
}
