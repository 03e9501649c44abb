// Command alerting places one SingleCallByTts the way monitoring tools do
// (PrometheusAlert's phone alerts): alibaba-cloud-sdk-go, the region's
// default endpoint, HTTPS. It prints the CallId.
package main

import (
	"fmt"
	"os"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/dyvmsapi"
)

func main() {
	client, err := dyvmsapi.NewClientWithAccessKey("cn-hangzhou", "LTAIcompatFull000000001", "compatFullSecret00000000000000001")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	request := dyvmsapi.CreateSingleCallByTtsRequest()
	request.Scheme = "https"
	request.CalledShowNumber = "057100000001"
	request.CalledNumber = "13900000101"
	request.TtsCode = "TTS_100001"
	request.TtsParam = `{"order":"dropin"}`
	request.OutId = "dropin"
	response, err := client.SingleCallByTts(request)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if response.Code != "OK" {
		fmt.Fprintln(os.Stderr, response.Code, response.Message)
		os.Exit(1)
	}
	fmt.Println(response.CallId)
}
