package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime parses an API time ("yyyy-MM-dd HH:mm:ss", UTC+8); "" gives
// the zero time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.ParseInLocation(TimeLayout, s, ChinaTime)
}

// CallDetail is the decoded Data of QueryCallDetailByCallId. Times are
// zero when the service left them empty (e.g. a call never answered).
type CallDetail struct {
	Caller           string
	Callee           string
	CallerShowNumber string
	CalleeShowNumber string
	StartDate        time.Time // answer time
	EndDate          time.Time
	Duration         time.Duration // talk time (whole seconds)
	GmtCreate        time.Time     // when the request was received
	State            string        // carrier status code, e.g. "200000"
	StateDesc        string
	ARingTime        time.Time // two-leg calls only
	AEndTime         time.Time
	BRingTime        time.Time
	BEndTime         time.Time
	// Raw is the Data document as the service sent it.
	Raw map[string]any
}

// Final reports whether the call has ended: State is a result code, not
// one of the intermediate codes 200101, 200102, 200103 and 200201.
func (d *CallDetail) Final() bool { return IsFinalState(d.State) }

// IsFinalState reports whether a status code ends a call.
func IsFinalState(s string) bool {
	switch s {
	case "", "200101", "200102", "200103", "200201":
		return false
	}
	return true
}

// Answered reports whether the callee answered.
func (d *CallDetail) Answered() bool { return !d.StartDate.IsZero() }

// CallDetailQuery names one call.
type CallDetailQuery struct {
	CallID string // required
	ProdID int64  // required: ProdVoiceNotify, ProdVerificationCode, ...
	// QueryDate is an instant at or before the call's creation within 24 h
	// (or on its China-time day); zero means "now minus 1 hour". Sent in ms.
	QueryDate time.Time
}

// QueryCallDetailByCallId returns the detail of one call, or (nil, nil)
// when the service has no record of it (yet) for that ProdId and date.
func (c *Client) QueryCallDetailByCallId(ctx context.Context, q CallDetailQuery) (*CallDetail, error) {
	qd := q.QueryDate
	if qd.IsZero() {
		qd = time.Now().Add(-time.Hour)
	}
	p := params{"CallId": q.CallID, "ProdId": strconv.FormatInt(q.ProdID, 10), "QueryDate": strconv.FormatInt(qd.UnixMilli(), 10)}
	var r struct {
		Data string `json:"Data"`
	}
	if _, err := c.call(ctx, "QueryCallDetailByCallId", p, retryRead, &r); err != nil {
		return nil, err
	}
	if r.Data == "" {
		return nil, nil
	}
	return ParseCallDetail(r.Data)
}

// ParseCallDetail decodes the Data document of QueryCallDetailByCallId.
func ParseCallDetail(data string) (*CallDetail, error) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(data), &raw); err != nil {
		return nil, fmt.Errorf("dialtone QueryCallDetailByCallId: Data is not JSON: %w", err)
	}
	d := &CallDetail{Raw: raw}
	str := func(k string) string {
		switch v := raw[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	tm := func(k string) time.Time {
		t, _ := ParseTime(str(k)) // a malformed time stays zero; Raw has it
		return t
	}
	d.Caller, d.Callee = str("caller"), str("callee")
	d.CallerShowNumber, d.CalleeShowNumber = str("callerShowNumber"), str("calleeShowNumber")
	d.StartDate, d.EndDate, d.GmtCreate = tm("startDate"), tm("endDate"), tm("gmtCreate")
	d.State, d.StateDesc = str("state"), str("stateDesc")
	d.ARingTime, d.AEndTime, d.BRingTime, d.BEndTime = tm("aRingTime"), tm("aEndTime"), tm("bRingTime"), tm("bEndTime")
	if s := strings.TrimSpace(str("duration")); s != "" {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			d.Duration = time.Duration(f * float64(time.Second))
		}
	}
	return d, nil
}

// Token is a temporary credential for one receipt queue.
type Token struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
	CreateTime      time.Time
	ExpireTime      time.Time
}

// QueryTokenForMnsQueue returns a credential for the queue of messageType
// (VoiceReport, VoiceCallReport or VoiceRecordReport). queueName is
// optional: the server knows the account's queue.
func (c *Client) QueryTokenForMnsQueue(ctx context.Context, messageType, queueName string) (*Token, error) {
	p := params{"MessageType": messageType}
	p.str("QueueName", queueName)
	var r struct {
		DTO struct {
			AccessKeyID     string `json:"AccessKeyId"`
			AccessKeySecret string `json:"AccessKeySecret"`
			SecurityToken   string `json:"SecurityToken"`
			CreateTime      string `json:"CreateTime"`
			ExpireTime      string `json:"ExpireTime"`
		} `json:"MessageTokenDTO"`
	}
	if _, err := c.call(ctx, "QueryTokenForMnsQueue", p, retryRead, &r); err != nil {
		return nil, err
	}
	t := &Token{AccessKeyID: r.DTO.AccessKeyID, AccessKeySecret: r.DTO.AccessKeySecret, SecurityToken: r.DTO.SecurityToken}
	var err error
	if t.CreateTime, err = ParseTime(r.DTO.CreateTime); err != nil {
		return nil, fmt.Errorf("dialtone QueryTokenForMnsQueue: CreateTime %q: %w", r.DTO.CreateTime, err)
	}
	if t.ExpireTime, err = ParseTime(r.DTO.ExpireTime); err != nil {
		return nil, fmt.Errorf("dialtone QueryTokenForMnsQueue: ExpireTime %q: %w", r.DTO.ExpireTime, err)
	}
	if t.AccessKeyID == "" || t.AccessKeySecret == "" {
		return nil, fmt.Errorf("dialtone QueryTokenForMnsQueue: the reply has no MessageTokenDTO credentials")
	}
	return t, nil
}

// WaitForCall polls QueryCallDetailByCallId every interval (default 500 ms)
// until the call has a final state, and returns its detail. It gives up
// when ctx ends; bound it with a deadline.
func (c *Client) WaitForCall(ctx context.Context, q CallDetailQuery, interval time.Duration) (*CallDetail, error) {
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	if q.QueryDate.IsZero() {
		q.QueryDate = time.Now().Add(-time.Hour)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		d, err := c.QueryCallDetailByCallId(ctx, q)
		if err != nil {
			return nil, err
		}
		if d != nil && d.Final() {
			return d, nil
		}
		select {
		case <-ctx.Done():
			return d, fmt.Errorf("dialtone: waiting for call %s: %w", q.CallID, ctx.Err())
		case <-t.C:
		}
	}
}
