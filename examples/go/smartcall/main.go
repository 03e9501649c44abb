// Command smartcall is the Go sample of Alibaba's SDK reference for
// SmartCall (§4.5), against a local Dialtone: only the client's endpoint
// and the numbers differ. The account needs a SmartCall callback URL (see
// the smartcallback sample). It prints the response.
//
//	smartcall [CALLED_NUMBER]
package main

import (
	dyvmsapiclient "github.com/alibabacloud-go/dyvmsapi-20170525/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/dialtone-voice/dialtone/examples/go/internal/local"
)

func main() {
	client := local.Client()
	request := &dyvmsapiclient.SmartCallRequest{
		CalledShowNumber: tea.String(local.ShowNumber),
		CalledNumber:     tea.String(local.Arg(1, "13800000016")),
		// 语音文件ID: the demo's SmartCall voice file.
		VoiceCode:       tea.String("3355eedd-3706-4f75-bff9-e645e88e1730.wav"),
		PauseTime:       tea.Int(800),
		MuteTime:        tea.Int(10000),
		ActionCodeBreak: tea.Bool(false),
	}
	response, err := client.SmartCall(request)
	if err != nil {
		local.Fail(err)
	}
	local.Print(response)
}
