// Command receiptsample is the Go receipt sample of Alibaba's Voice
// Service SDK reference (seed document §5.4, "Go Demo"), verbatim except:
// the credentials, queue name and message type are filled in (the
// compat account of ../../testdata/provision.yaml); the document's stray
// line `client_err := dybaseapi.NewClientWithAccessKey(` (a page-break
// duplicate) is dropped; `package main` is added; and ExpireTime, which
// the SDK declares as a string ("2006-01-02 15:04:05", UTC+8), is
// converted before the document's arithmetic, which does not compile
// against the string. Endpoints, domain and protocol are the sample's:
// dybaseapi.aliyuncs.com and 1943695596114318.mns.cn-hangzhou.aliyuncs.com.
// Like the original it loops forever, prints every message body and
// panics when a long poll finds the queue empty.
package main

import (
	"encoding/base64"
	"fmt"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/endpoints"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dybaseapi"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dybaseapi/mns"
	"time"
)

const (
	mnsDomain = "1943695596114318.mns.cn-hangzhou.aliyuncs.com"
)

func main() {
	endpoints.AddEndpointMapping("cn-hangzhou", "Dybaseapi", "dybaseapi.aliyuncs.com")

	// 创建client实例
	client, err := dybaseapi.NewClientWithAccessKey(
		"cn-hangzhou",                       // 您的可用区ID
		"LTAIcompatMnsOnly000001",           // 您的Access Key ID
		"compatMnsOnlySecret00000000000001") // 您的Access Key Secret
	if err != nil {
		// 异常处理
		panic(err)
	}

	queueName := "Alicom-Queue-1000000000000001-VoiceReport"
	messageType := "VoiceReport"

	var token *dybaseapi.MessageTokenDTO

	for {
		if token == nil || expireUnix(token.ExpireTime)-time.Now().Unix() > 2*60 {
			// 创建API请求并设置参数
			request := dybaseapi.CreateQueryTokenForMnsQueueRequest()
			request.MessageType = messageType
			request.QueueName = queueName
			// 发起请求并处理异常
			response, err := client.QueryTokenForMnsQueue(request)
			if err != nil {
				// 异常处理
				panic(err)
			}

			token = &response.MessageTokenDTO
		}

		mnsClient, err := mns.NewClientWithStsToken(
			"cn-hangzhou",
			token.AccessKeyId,
			token.AccessKeySecret,
			token.SecurityToken,
		)

		if err != nil {
			panic(err)
		}

		mnsRequest := mns.CreateBatchReceiveMessageRequest()
		mnsRequest.Domain = mnsDomain
		mnsRequest.QueueName = queueName
		mnsRequest.NumOfMessages = "10"
		mnsRequest.WaitSeconds = "5"

		mnsResponse, err := mnsClient.BatchReceiveMessage(mnsRequest)
		if err != nil {
			panic(err)
		}
		// fmt.Println(mnsResponse)

		receiptHandles := make([]string, len(mnsResponse.Message))
		for i, message := range mnsResponse.Message {
			messageBody, decodeErr := base64.StdEncoding.DecodeString(message.MessageBody)
			if decodeErr != nil {
				panic(decodeErr)
			}
			fmt.Println(string(messageBody))
			receiptHandles[i] = message.ReceiptHandle
		}
		if len(receiptHandles) > 0 {
			mnsDeleteRequest := mns.CreateBatchDeleteMessageRequest()
			mnsDeleteRequest.Domain = mnsDomain
			mnsDeleteRequest.QueueName = queueName
			mnsDeleteRequest.SetReceiptHandles(receiptHandles)
			//_, err = mnsClient.BatchDeleteMessage(mnsDeleteRequest) // 取消注释将删除队列中的消息
			if err != nil {
				panic(err)
			}
		}
	}
}

// expireUnix reads the token's ExpireTime (the one change the sample needs
// to compile: the SDK declares it a string in UTC+8).
func expireUnix(s string) int64 {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.FixedZone("CST", 8*3600))
	if err != nil {
		return 0
	}
	return t.Unix()
}
