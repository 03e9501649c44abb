// Command dyvmsapi-v3.0.0 performs one QueryCallDetailByCallId with the official
// github.com/alibabacloud-go/dyvmsapi-20170525/v3 v3.0.0 client (V3 signature),
// in a module of its own so that Go's minimal version selection keeps the
// client's own dependency versions (see compat/README.md). It prints the
// outcome as JSON.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	vms "github.com/alibabacloud-go/dyvmsapi-20170525/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

func main() {
	endpoint := flag.String("endpoint", "", "host:port")
	ak := flag.String("ak", "", "AccessKeyId")
	secret := flag.String("secret", "", "AccessKeySecret")
	callID := flag.String("call-id", "116012354148^102813780000", "CallId")
	prodID := flag.Int64("prod-id", 11000000300006, "ProdId")
	flag.Parse()
	queryDate := time.Now().UnixMilli()
	cfg := &openapi.Config{
		AccessKeyId:     tea.String(*ak),
		AccessKeySecret: tea.String(*secret),
		Endpoint:        tea.String(*endpoint),
		Protocol:        tea.String("http"),
	}
	c, err := vms.NewClient(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "NewClient:", err)
		os.Exit(2)
	}
	resp, err := c.QueryCallDetailByCallId(&vms.QueryCallDetailByCallIdRequest{
		CallId:    tea.String(*callID),
		ProdId:    tea.Int64(*prodID),
		QueryDate: tea.Int64(queryDate),
	})
	if err != nil {
		emit(fromError(err))
		return
	}
	if resp.Body == nil {
		fmt.Fprintln(os.Stderr, "response without body:", resp)
		os.Exit(2)
	}
	emit(result{
		Code:      tea.StringValue(resp.Body.Code),
		Message:   tea.StringValue(resp.Body.Message),
		RequestID: tea.StringValue(resp.Body.RequestId),
		Status:    int(tea.Int32Value(resp.StatusCode)),
		Data:      tea.StringValue(resp.Body.Data),
		HasData:   resp.Body.Data != nil,
	})
}

// result is printed as JSON on stdout for the compat tests to read.
type result struct {
	Err       string `json:"err,omitempty"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
	Status    int    `json:"status"`
	Data      string `json:"data"`
	HasData   bool   `json:"hasData"`
}

func fromError(err error) result {
	r := result{Err: err.Error()}
	var se *tea.SDKError
	if !errors.As(err, &se) {
		fmt.Fprintf(os.Stderr, "error is %T, not *tea.SDKError: %v\n", err, err)
		os.Exit(2)
	}
	r.Code = tea.StringValue(se.Code)
	r.Message = tea.StringValue(se.Message)
	r.Status = tea.IntValue(se.StatusCode)
	if d := tea.StringValue(se.Data); d != "" {
		var m map[string]interface{}
		if json.Unmarshal([]byte(d), &m) == nil {
			r.RequestID, _ = m["RequestId"].(string)
		}
	}
	return r
}

func emit(r result) {
	json.NewEncoder(os.Stdout).Encode(r)
}
