// Command clicktodial is the Go sample of Alibaba's SDK reference for
// ClickToDial (§4.3), against a local Dialtone: only the client's endpoint
// and the numbers differ. It prints the response.
//
//	clicktodial [CALLER_NUMBER [CALLED_NUMBER]]
package main

import (
	dyvmsapiclient "github.com/alibabacloud-go/dyvmsapi-20170525/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/dialtone-voice/dialtone/examples/go/internal/local"
)

func main() {
	client := local.Client()
	request := &dyvmsapiclient.ClickToDialRequest{
		CallerShowNumber: tea.String(local.ShowNumber),
		CallerNumber:     tea.String(local.Arg(1, "13800000014")),
		CalledShowNumber: tea.String(local.ShowNumber),
		CalledNumber:     tea.String(local.Arg(2, "13800000015")),
	}
	response, err := client.ClickToDial(request)
	if err != nil {
		local.Fail(err)
	}
	local.Print(response)
}
