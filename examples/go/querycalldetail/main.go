// Command querycalldetail is the Go sample of Alibaba's SDK reference for
// QueryCallDetailByCallId (§4.6), against a local Dialtone. It prints the
// response; its Data is the call's detail as a JSON string.
//
//	querycalldetail CALL_ID [PROD_ID]
//
// PROD_ID: 11000000300006 voice notification (SingleCallByVoice and
// notification templates), 11010000138001 verification code,
// 11000000300005 IVR, 11000000300004 ClickToDial, 11030000180001 SmartCall.
package main

import (
	"errors"
	"strconv"
	"time"

	dyvmsapiclient "github.com/alibabacloud-go/dyvmsapi-20170525/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/dialtone-voice/dialtone/examples/go/internal/local"
)

func main() {
	callID := local.Arg(1, "")
	prodID, err := strconv.ParseInt(local.Arg(2, "11000000300006"), 10, 64)
	if callID == "" || err != nil {
		local.Fail(errors.New("usage: querycalldetail CALL_ID [PROD_ID]"))
	}
	client := local.Client()
	request := &dyvmsapiclient.QueryCallDetailByCallIdRequest{
		CallId: tea.String(callID),
		ProdId: tea.Int64(prodID),
		// 查询的时间 (Unix milliseconds; the reference's sample gives seconds,
		// which Dialtone takes too): the call was placed today.
		QueryDate: tea.Int64(time.Now().UnixMilli()),
	}
	response, err := client.QueryCallDetailByCallId(request)
	if err != nil {
		local.Fail(err)
	}
	local.Print(response)
}
