// Command singlecallbytts places a SingleCallByTts call the way the
// reference's samples place theirs (dyvmsapi-20170525 v1.2.1 with
// tea-rpc), with the demo's verification-code template. It prints the
// response.
//
//	singlecallbytts [CALLED_NUMBER [CODE]]
package main

import (
	dyvmsapiclient "github.com/alibabacloud-go/dyvmsapi-20170525/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/dialtone-voice/dialtone/examples/go/internal/local"
)

func main() {
	client := local.Client()
	request := &dyvmsapiclient.SingleCallByTtsRequest{
		CalledShowNumber: tea.String(local.ShowNumber),
		CalledNumber:     tea.String(local.Arg(1, "13800000012")),
		// 您的验证码是${code}，5分钟内有效。
		TtsCode:  tea.String("TTS_100001"),
		TtsParam: tea.String(`{"code":"` + local.Arg(2, "1234") + `"}`),
	}
	response, err := client.SingleCallByTts(request)
	if err != nil {
		local.Fail(err)
	}
	local.Print(response)
}
