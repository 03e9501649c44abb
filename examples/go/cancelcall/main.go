// Command cancelcall is the Go sample of Alibaba's SDK reference for
// CancelCall (§4.4), against a local Dialtone: it cancels the
// ClickToDial call given. It prints the response.
//
//	cancelcall CALL_ID
package main

import (
	"errors"

	dyvmsapiclient "github.com/alibabacloud-go/dyvmsapi-20170525/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/dialtone-voice/dialtone/examples/go/internal/local"
)

func main() {
	callID := local.Arg(1, "")
	if callID == "" {
		local.Fail(errors.New("usage: cancelcall CALL_ID (of a ClickToDial call)"))
	}
	client := local.Client()
	request := &dyvmsapiclient.CancelCallRequest{
		// 呼叫的唯一回执ID
		CallId: tea.String(callID),
	}
	response, err := client.CancelCall(request)
	if err != nil {
		local.Fail(err)
	}
	local.Print(response)
}
