package compat

// The official Go receipt sample (seed document §5.4: services/dybaseapi
// QueryTokenForMnsQueue, then services/dybaseapi/mns BatchReceiveMessage and
// BatchDeleteMessage) against a running server, reading the receipts of
// calls placed with SingleCallByTts on the simulated network. The sample is
// changed only in endpoint, credentials, queue name and in reading
// ExpireTime as the string the SDK declares (the sample's integer
// arithmetic does not compile).

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/endpoints"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dybaseapi"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dybaseapi/mns"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dyvmsapi"
)

const compatUID = "1000000000000001"

// Receipt calls: a subscriber of the default network (answers after 1 s
// of simulated ringing) and the compat account's number and template
// (testdata/provision.yaml).
const (
	receiptCallee   = "13900000101"
	receiptShow     = "057100000001"
	receiptTemplate = "TTS_100001"
)

// placeCalls places n SingleCallByTts calls with alibaba-cloud-sdk-go and
// returns their CallIds.
func placeCalls(t testing.TB, s *dialtone, n int) []string {
	t.Helper()
	client, err := dyvmsapi.NewClientWithAccessKey("cn-hangzhou", fullAK, fullSecret)
	if err != nil {
		t.Fatal(err)
	}
	client.Domain = s.addr
	var ids []string
	for i := range n {
		req := dyvmsapi.CreateSingleCallByTtsRequest()
		req.CalledNumber = receiptCallee
		req.CalledShowNumber = receiptShow
		req.TtsCode = receiptTemplate
		req.TtsParam = `{"order":"R` + strconv.Itoa(i) + `"}`
		req.OutId = "receipt-" + strconv.Itoa(i)
		resp, err := client.SingleCallByTts(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Code != "OK" || resp.CallId == "" {
			t.Fatalf("SingleCallByTts: %s %s", resp.Code, resp.Message)
		}
		ids = append(ids, resp.CallId)
	}
	return ids
}

// adminPut sends an admin API PUT with a JSON body.
func adminPut(t testing.TB, s *dialtone, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, "http://"+s.addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: HTTP %d", path, resp.StatusCode)
	}
}

func TestGoReceiptSample(t *testing.T) {
	s := mainServer(t)
	queueName := "Alicom-Queue-" + compatUID + "-VoiceReport"
	messageType := "VoiceReport"
	// A short visibility timeout, so "deleted messages do not come back" is
	// checked past the point where undeleted ones would.
	adminPut(t, s, "/admin/v1/accounts/"+compatUID+"/subscriptions/VoiceReport", `{"queue": true, "visibility_timeout_seconds": 2}`)
	ids := placeCalls(t, s, 3)

	// --- the sample, endpoint and credentials changed ---
	endpoints.AddEndpointMapping("cn-hangzhou", "Dybaseapi", s.addr)
	client, err := dybaseapi.NewClientWithAccessKey("cn-hangzhou", mnsOnlyAK, mnsOnlySecret)
	if err != nil {
		t.Fatal(err)
	}
	var token *dybaseapi.MessageTokenDTO
	got := map[string]string{} // call_id -> status_code
	deadline := time.Now().Add(30 * time.Second)
	// Other tests' calls report to the same queue: read until every call
	// of this test has, deleting whatever comes.
	for !allIn(ids, got) && time.Now().Before(deadline) {
		if token == nil || expiresIn(t, token.ExpireTime) < 2*time.Minute {
			request := dybaseapi.CreateQueryTokenForMnsQueueRequest()
			request.MessageType = messageType
			request.QueueName = queueName
			response, err := client.QueryTokenForMnsQueue(request)
			if err != nil {
				t.Fatal(err)
			}
			if response.Code != "OK" {
				t.Fatalf("QueryTokenForMnsQueue: %s %s", response.Code, response.Message)
			}
			token = &response.MessageTokenDTO
		}
		mnsClient, err := mns.NewClientWithStsToken("cn-hangzhou", token.AccessKeyId, token.AccessKeySecret, token.SecurityToken)
		if err != nil {
			t.Fatal(err)
		}
		mnsRequest := mns.CreateBatchReceiveMessageRequest()
		mnsRequest.Domain, mnsRequest.Port = mnsHost(s)
		mnsRequest.QueueName = queueName
		mnsRequest.NumOfMessages = "10"
		mnsRequest.WaitSeconds = "5"
		mnsResponse, err := mnsClient.BatchReceiveMessage(mnsRequest)
		if err != nil {
			// The official demo panics here on an empty queue, as it
			// does against Alibaba; a consumer loop goes on.
			if isMessageNotExist(err) {
				continue
			}
			t.Fatal(err)
		}
		receiptHandles := make([]string, len(mnsResponse.Message))
		for i, message := range mnsResponse.Message {
			messageBody, decodeErr := base64.StdEncoding.DecodeString(message.MessageBody)
			if decodeErr != nil {
				t.Fatal(decodeErr)
			}
			var r map[string]any
			if err := json.Unmarshal(messageBody, &r); err != nil {
				t.Fatalf("body %q: %v", messageBody, err)
			}
			callID, _ := r["call_id"].(string)
			code, _ := r["status_code"].(string)
			got[callID] = code
			if code == "" || r["receipt_id"] == nil || message.DequeueCount != 1 || message.Priority != 8 {
				t.Errorf("message %+v body %s", message, messageBody)
			}
			receiptHandles[i] = message.ReceiptHandle
		}
		if len(receiptHandles) > 0 {
			mnsDeleteRequest := mns.CreateBatchDeleteMessageRequest()
			mnsDeleteRequest.Domain, mnsDeleteRequest.Port = mnsHost(s)
			mnsDeleteRequest.QueueName = queueName
			mnsDeleteRequest.SetReceiptHandles(receiptHandles)
			if _, err = mnsClient.BatchDeleteMessage(mnsDeleteRequest); err != nil {
				t.Fatal(err)
			}
		}
	}
	// --- end of the sample ---

	if !allIn(ids, got) {
		var gotIDs []string
		for id := range got {
			gotIDs = append(gotIDs, id)
		}
		sort.Strings(gotIDs)
		t.Fatalf("received VoiceReports of calls %v, want all of %v", gotIDs, ids)
	}
	// Past the visibility timeout the queue stays empty: the deletes took.
	time.Sleep(2500 * time.Millisecond)
	mnsClient, _ := mns.NewClientWithStsToken("cn-hangzhou", token.AccessKeyId, token.AccessKeySecret, token.SecurityToken)
	req := mns.CreateBatchReceiveMessageRequest()
	req.Domain, req.Port = mnsHost(s)
	req.QueueName = queueName
	req.NumOfMessages = "10"
	req.WaitSeconds = "1"
	resp, err := mnsClient.BatchReceiveMessage(req)
	if !isMessageNotExist(err) {
		t.Errorf("after delete: %+v, %v; want 404 MessageNotExist", resp, err)
	}
}

// mnsHost splits the server address for the MNS request. The reference's
// `Domain = "127.0.0.1:8080"` relied on net/url accepting the URL
// "http://127.0.0.1:8080:/..." that the SDK then builds; Go 1.26 rejects it
// ("invalid port"), so the port goes in the request's Port field, which
// the SDK supports for exactly this.
func mnsHost(s *dialtone) (domain, port string) {
	domain, port, _ = strings.Cut(s.addr, ":")
	return domain, port
}

func allIn(ids []string, got map[string]string) bool {
	for _, id := range ids {
		if _, ok := got[id]; !ok {
			return false
		}
	}
	return true
}

func expiresIn(t testing.TB, expire string) time.Duration {
	t.Helper()
	at, err := time.ParseInLocation("2006-01-02 15:04:05", expire, time.FixedZone("CST", 8*3600))
	if err != nil {
		t.Fatalf("ExpireTime %q: %v", expire, err)
	}
	return time.Until(at)
}

func isMessageNotExist(err error) bool {
	var se *sdkerrors.ServerError
	return errors.As(err, &se) && se.HttpStatus() == http.StatusNotFound && strings.Contains(se.Message(), "MessageNotExist")
}

// TestGoReceiptSampleTokenScope: a token for one queue cannot read another,
// through the official client.
func TestGoReceiptSampleTokenScope(t *testing.T) {
	s := mainServer(t)
	endpoints.AddEndpointMapping("cn-hangzhou", "Dybaseapi", s.addr)
	client, err := dybaseapi.NewClientWithAccessKey("cn-hangzhou", fullAK, fullSecret)
	if err != nil {
		t.Fatal(err)
	}
	request := dybaseapi.CreateQueryTokenForMnsQueueRequest()
	request.MessageType = "VoiceCallReport"
	response, err := client.QueryTokenForMnsQueue(request)
	if err != nil || response.Code != "OK" {
		t.Fatalf("token: %+v %v", response, err)
	}
	tok := response.MessageTokenDTO
	mnsClient, err := mns.NewClientWithStsToken("cn-hangzhou", tok.AccessKeyId, tok.AccessKeySecret, tok.SecurityToken)
	if err != nil {
		t.Fatal(err)
	}
	req := mns.CreateBatchReceiveMessageRequest()
	req.Domain, req.Port = mnsHost(s)
	req.QueueName = "Alicom-Queue-" + compatUID + "-VoiceReport"
	req.NumOfMessages = "1"
	_, err = mnsClient.BatchReceiveMessage(req)
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) || se.HttpStatus() != http.StatusForbidden || !strings.Contains(se.Message(), "AccessDenied") {
		t.Errorf("other queue: %v, want 403 AccessDenied", err)
	}
	// Unknown message type: a business error, HTTP 200.
	request = dybaseapi.CreateQueryTokenForMnsQueueRequest()
	request.MessageType = "SmsReport"
	response, err = client.QueryTokenForMnsQueue(request)
	if err != nil || response.Code != "isv.INVALID_PARAMETERS" {
		t.Errorf("SmsReport: %+v %v", response, err)
	}
}
