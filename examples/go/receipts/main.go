// Command receipts is the Go receipt sample of Alibaba's SDK reference
// (§5.4: alibaba-cloud-sdk-go's dybaseapi QueryTokenForMnsQueue, then its
// mns BatchReceiveMessage and BatchDeleteMessage), against a local
// Dialtone. Changed: the endpoint, the credentials, the queue and message
// type, ExpireTime read as the string the SDK declares (the sample's
// integer arithmetic does not compile), and the loop, which stops after
// COUNT receipts or TIMEOUT instead of running for ever. It prints each
// receipt's JSON and deletes it.
//
//	receipts [MESSAGE_TYPE [COUNT [TIMEOUT]]]     default VoiceReport 1 60s
package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/endpoints"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dybaseapi"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dybaseapi/mns"

	"github.com/dialtone-voice/dialtone/examples/go/internal/local"
)

func main() {
	messageType := local.Arg(1, "VoiceReport")
	count, err := strconv.Atoi(local.Arg(2, "1"))
	if err != nil || count < 1 {
		local.Fail(errors.New("usage: receipts [MESSAGE_TYPE [COUNT [TIMEOUT]]]"))
	}
	timeout, err := time.ParseDuration(local.Arg(3, "60s"))
	if err != nil {
		local.Fail(err)
	}
	// The reference maps Dybaseapi to dybaseapi.aliyuncs.com and names the
	// MNS domain 1943695596114318.mns.cn-hangzhou.aliyuncs.com; both are
	// Dialtone here (or, with the drop-in set-up, those very names).
	endpoints.AddEndpointMapping("cn-hangzhou", "Dybaseapi", local.Endpoint())
	// Go's URL parser refuses the "host:port:" URL the SDK builds from a
	// Domain with a port, so the port goes in the request's Port field.
	mnsDomain, mnsPort, _ := strings.Cut(local.Endpoint(), ":")

	id, secret := local.AccessKey()
	client, err := dybaseapi.NewClientWithAccessKey("cn-hangzhou", id, secret)
	if err != nil {
		local.Fail(err)
	}
	queueName := "Alicom-Queue-" + local.Account() + "-" + messageType

	var token *dybaseapi.MessageTokenDTO
	printed := 0
	for deadline := time.Now().Add(timeout); printed < count; {
		if time.Now().After(deadline) {
			local.Fail(fmt.Errorf("%d of %d receipts in %s", printed, count, timeout))
		}
		if token == nil || expiresIn(token.ExpireTime) < 2*time.Minute {
			request := dybaseapi.CreateQueryTokenForMnsQueueRequest()
			request.MessageType = messageType
			request.QueueName = queueName
			response, err := client.QueryTokenForMnsQueue(request)
			if err != nil {
				local.Fail(err)
			}
			token = &response.MessageTokenDTO
		}
		mnsClient, err := mns.NewClientWithStsToken("cn-hangzhou", token.AccessKeyId, token.AccessKeySecret, token.SecurityToken)
		if err != nil {
			local.Fail(err)
		}
		mnsRequest := mns.CreateBatchReceiveMessageRequest()
		mnsRequest.Domain, mnsRequest.Port = mnsDomain, mnsPort
		mnsRequest.QueueName = queueName
		mnsRequest.NumOfMessages = requests.NewInteger(min(count-printed, 16))
		mnsRequest.WaitSeconds = "5"
		mnsResponse, err := mnsClient.BatchReceiveMessage(mnsRequest)
		var se *sdkerrors.ServerError
		if errors.As(err, &se) && se.HttpStatus() == http.StatusNotFound && strings.Contains(se.Message(), "MessageNotExist") {
			continue // an empty queue: wait again
		}
		if err != nil {
			local.Fail(err)
		}
		receiptHandles := make([]string, len(mnsResponse.Message))
		for i, message := range mnsResponse.Message {
			messageBody, decodeErr := base64.StdEncoding.DecodeString(message.MessageBody)
			if decodeErr != nil {
				local.Fail(decodeErr)
			}
			fmt.Println(string(messageBody))
			receiptHandles[i] = message.ReceiptHandle
		}
		printed += len(receiptHandles)
		if len(receiptHandles) > 0 {
			mnsDeleteRequest := mns.CreateBatchDeleteMessageRequest()
			mnsDeleteRequest.Domain, mnsDeleteRequest.Port = mnsDomain, mnsPort
			mnsDeleteRequest.QueueName = queueName
			mnsDeleteRequest.SetReceiptHandles(receiptHandles)
			if _, err = mnsClient.BatchDeleteMessage(mnsDeleteRequest); err != nil {
				local.Fail(err)
			}
		}
	}
}

// expiresIn reads ExpireTime ("2006-01-02 15:04:05", China time).
func expiresIn(expire string) time.Duration {
	at, err := time.ParseInLocation("2006-01-02 15:04:05", expire, time.FixedZone("CST", 8*3600))
	if err != nil {
		return 0
	}
	return time.Until(at)
}
