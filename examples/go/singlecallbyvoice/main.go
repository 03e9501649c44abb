// Command singlecallbyvoice is the Go sample of Alibaba's SDK reference
// for SingleCallByVoice (§4.1, dyvmsapi-20170525 v1.2.1 with tea-rpc),
// against a local Dialtone: only the client's endpoint and the numbers
// differ. It prints the response.
//
//	singlecallbyvoice [CALLED_NUMBER]
package main

import (
	dyvmsapiclient "github.com/alibabacloud-go/dyvmsapi-20170525/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/dialtone-voice/dialtone/examples/go/internal/local"
)

func main() {
	client := local.Client()
	request := &dyvmsapiclient.SingleCallByVoiceRequest{
		// 被叫显号: a number of the account (the demo's).
		CalledShowNumber: tea.String(local.ShowNumber),
		// 被叫号码: any number answers on Dialtone's simulated network.
		CalledNumber: tea.String(local.Arg(1, "13800000011")),
		// 语音文件的语音ID: the demo's voice file.
		VoiceCode: tea.String("e271f3f2-e155-4366-a9f4-0fe55765b3ec.wav"),
	}
	response, err := client.SingleCallByVoice(request)
	if err != nil {
		local.Fail(err)
	}
	local.Print(response)
}
