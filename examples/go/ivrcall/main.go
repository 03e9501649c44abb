// Command ivrcall is the Go sample of Alibaba's SDK reference for IvrCall
// (§4.2), against a local Dialtone: only the client's endpoint and the
// numbers differ; the start prompt and its parameters (mixed quotes
// included) are the reference's. It prints the response.
//
//	ivrcall [CALLED_NUMBER]
package main

import (
	dyvmsapiclient "github.com/alibabacloud-go/dyvmsapi-20170525/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/dialtone-voice/dialtone/examples/go/internal/local"
)

func main() {
	client := local.Client()
	request := &dyvmsapiclient.IvrCallRequest{
		// 被叫显号
		CalledShowNumber: tea.String(local.ShowNumber),
		// 被叫号码
		CalledNumber: tea.String(local.Arg(1, "13800000013")),
		// 呼叫开始时播放的提示音: the demo has this template.
		StartCode: tea.String("TTS_713900000"),
		// 模板变量替换JSON串
		StartTtsParams: tea.String("{\"product':'aliyun','code':'123'}"),
	}
	response, err := client.IvrCall(request)
	if err != nil {
		local.Fail(err)
	}
	local.Print(response)
}
