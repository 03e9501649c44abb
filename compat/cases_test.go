package compat

// The cases every Go client version runs, and the assertions they share.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"
)

// Parameters of the QueryCallDetailByCallId calls: an unknown call.
const (
	testCallID = "116012354148^102813780000"
	testProdID = int64(11000000300006)
)

func testQueryDate() int64 { return time.Now().UnixMilli() }

// outcome is what a client returned, reduced to the fields the cases check.
type outcome struct {
	Err       error
	Code      string // body Code on success; error Code on failure
	Message   string
	RequestID string
	Status    int // HTTP status as the client reports it; 0 when it does not
	Recommend string
	Data      string // body Data on success
	HasData   bool
}

// goClient describes one client version and how to call it.
type goClient struct {
	// call performs QueryCallDetailByCallId with the given endpoint (host:port) and key.
	call func(t *testing.T, endpoint, ak, secret string) outcome
	// statusOnSuccess / statusOnError: the client reports the HTTP status.
	statusOnSuccess bool
	statusOnError   bool
	// recommendOnWrongSecret: alibaba-cloud-sdk-go rewrites Recommend when the
	// server's string to sign equals its own.
	recommendOnWrongSecret bool
}

// fromTeaError reads a *tea.SDKError (tea-rpc, darabonba v0.x/v2.0/v2.1 and dara
// all return this type).
func fromTeaError(t *testing.T, err error) outcome {
	t.Helper()
	o := outcome{Err: err}
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("error is %T, not *tea.SDKError: %v", err, err)
	}
	o.Code = tea.StringValue(se.Code)
	o.Message = tea.StringValue(se.Message)
	o.Status = tea.IntValue(se.StatusCode)
	if o.Status == 0 {
		// darabonba-openapi v0.1.x sets no StatusCode; its Message starts "code: <status>, ".
		fmt.Sscanf(o.Message, "code: %d,", &o.Status)
	}
	if d := tea.StringValue(se.Data); d != "" {
		var m map[string]any
		if json.Unmarshal([]byte(d), &m) == nil {
			if s, ok := m["RequestId"].(string); ok {
				o.RequestID = s
			}
		}
	}
	return o
}

type errCase struct {
	name   string
	server func(testing.TB) *dialtone
	mode   proxyMode
	ak     string
	secret string
	code   string
	status int
}

// runGoClientCases runs the standard subtests for one client version.
func runGoClientCases(t *testing.T, c goClient) {
	t.Run("valid", func(t *testing.T) {
		p := newProxy(t, mainServer(t), modePass)
		o := c.call(t, p.hostPort(), fullAK, fullSecret)
		checkSuccess(t, c, p, o, "OK")
		if o.HasData {
			t.Errorf("Data = %q; want no Data for an unknown call", o.Data)
		}
	})
	t.Run("validDirect", func(t *testing.T) {
		// No proxy: the Host header is Dialtone's own listen address.
		o := c.call(t, mainServer(t).addr, fullAK, fullSecret)
		if o.Err != nil {
			t.Fatalf("err = %v; want nil", o.Err)
		}
		if o.Code != "OK" || o.RequestID == "" {
			t.Fatalf("Code = %q, RequestId = %q; want OK and a RequestId", o.Code, o.RequestID)
		}
		if c.statusOnSuccess && o.Status != 200 {
			t.Errorf("client status = %d; want 200", o.Status)
		}
	})
	for _, ec := range []errCase{
		{"wrongSecret", mainServer, modePass, fullAK, wrongSecret, "SignatureDoesNotMatch", 400},
		{"unknownKey", mainServer, modePass, unknownAK, unknownSecret, "InvalidAccessKeyId.NotFound", 404},
		{"disabledKey", mainServer, modePass, disabledAK, disabledSec, "InvalidAccessKeyId.Inactive", 400},
		{"replay", mainServer, modeDuplicate, fullAK, fullSecret, "SignatureNonceUsed", 400},
		{"oldTimestamp", shortServer, modeDelay, fullAK, fullSecret, "InvalidTimeStamp.Expired", 400},
	} {
		t.Run(ec.name, func(t *testing.T) {
			p := newProxy(t, ec.server(t), ec.mode)
			o := c.call(t, p.hostPort(), ec.ak, ec.secret)
			checkError(t, c, p, o, ec.code, ec.status)
			switch ec.name {
			case "wrongSecret":
				if !strings.Contains(o.Message, "server string to sign is:") {
					t.Errorf("Message = %q; want it to contain %q", o.Message, "server string to sign is:")
				}
				if c.recommendOnWrongSecret && o.Recommend != "InvalidAccessKeySecret: Please check you AccessKeySecret" {
					t.Errorf("Recommend = %q; want the client to recognise its own string to sign (InvalidAccessKeySecret)", o.Recommend)
				}
			case "replay":
				ex := p.recorded()
				if len(ex) != 2 {
					t.Fatalf("proxy forwarded %d requests; want 2", len(ex))
				}
				if ex[0].Status != 200 || bodyCode(ex[0].RespBody) != "OK" {
					t.Errorf("first copy: HTTP %d body %s; want 200 with Code OK", ex[0].Status, ex[0].RespBody)
				}
			}
		})
	}
	t.Run("ramDeny", func(t *testing.T) {
		p := newProxy(t, mainServer(t), modePass)
		o := c.call(t, p.hostPort(), mnsOnlyAK, mnsOnlySecret)
		checkSuccess(t, c, p, o, "isp.RAM_PERMISSION_DENY")
	})
}

func bodyCode(b []byte) string {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	s, _ := m["Code"].(string)
	return s
}

// checkSuccess: err == nil, body Code as wanted, RequestId set, HTTP 200.
func checkSuccess(t *testing.T, c goClient, p *proxy, o outcome, code string) {
	t.Helper()
	if o.Err != nil {
		t.Fatalf("err = %v; want nil (HTTP 200 with Code %s)", o.Err, code)
	}
	if o.Code != code {
		t.Errorf("Code = %q; want %q", o.Code, code)
	}
	if o.RequestID == "" {
		t.Errorf("RequestId is empty")
	}
	if c.statusOnSuccess && o.Status != 200 {
		t.Errorf("client status = %d; want 200", o.Status)
	}
	ex := p.last(t)
	if ex.Status != 200 {
		t.Errorf("HTTP status on the wire = %d; want 200", ex.Status)
	}
	checkJSONContentType(t, ex)
}

// checkError: err != nil with the exact Code, the HTTP status, a RequestId.
func checkError(t *testing.T, c goClient, p *proxy, o outcome, code string, status int) {
	t.Helper()
	if o.Err == nil {
		t.Fatalf("err = nil (Code %q); want an error with Code %s", o.Code, code)
	}
	if o.Code != code {
		t.Errorf("error Code = %q; want %q (err: %v)", o.Code, code, o.Err)
	}
	if c.statusOnError && o.Status != status {
		t.Errorf("client status = %d; want %d", o.Status, status)
	}
	if o.RequestID == "" {
		t.Errorf("error carries no RequestId (err: %v)", o.Err)
	}
	ex := p.last(t)
	if ex.Status != status {
		t.Errorf("HTTP status on the wire = %d; want %d", ex.Status, status)
	}
	checkJSONContentType(t, ex)
}

func checkJSONContentType(t *testing.T, ex exchange) {
	t.Helper()
	ct := ex.RespHeader.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		t.Errorf("response Content-Type = %q; want application/json;charset=utf-8", ct)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
