// Command v6detail queries one call with dyvmsapi-20170525 v6.0.0 as an
// application configured for Alibaba Cloud does: Endpoint
// "dyvmsapi.aliyuncs.com", no Protocol (the client's default, HTTPS). It
// prints the call detail's Data once the call has a final state, waiting
// up to 30 s; the arguments are the CallId and the ProdId.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	vms6 "github.com/alibabacloud-go/dyvmsapi-20170525/v6/client"
	"github.com/alibabacloud-go/tea/tea"
)

// live are the states of a call in progress.
var live = map[string]bool{"200101": true, "200102": true, "200103": true, "200201": true}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: v6detail CALL_ID PROD_ID")
		os.Exit(2)
	}
	prod, err := strconv.ParseInt(os.Args[2], 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "PROD_ID:", err)
		os.Exit(2)
	}
	client, err := vms6.NewClient(&openapiutil.Config{
		AccessKeyId:     tea.String("LTAIcompatFull000000001"),
		AccessKeySecret: tea.String("compatFullSecret00000000000000001"),
		Endpoint:        tea.String("dyvmsapi.aliyuncs.com"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.QueryCallDetailByCallId(&vms6.QueryCallDetailByCallIdRequest{
			CallId:    tea.String(os.Args[1]),
			ProdId:    tea.Int64(prod),
			QueryDate: tea.Int64(time.Now().UnixMilli()),
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		body := resp.GetBody()
		if tea.StringValue(body.GetCode()) != "OK" {
			fmt.Fprintln(os.Stderr, tea.StringValue(body.GetCode()), tea.StringValue(body.GetMessage()))
			os.Exit(1)
		}
		var d map[string]any
		data := tea.StringValue(body.GetData())
		if data != "" && json.Unmarshal([]byte(data), &d) == nil {
			if s, _ := d["state"].(string); s != "" && !live[s] {
				fmt.Println(data)
				return
			}
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "no final state within 30 s; last Data:", data)
			os.Exit(1)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
