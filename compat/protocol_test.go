package compat

// Gateway errors that do not depend on the key: an unknown action and a
// missing required parameter, sent through the generic entry points of the
// official clients (the typed SDK methods validate CallId before sending).

import (
	"errors"
	"fmt"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	rpc "github.com/alibabacloud-go/tea-rpc/client"
	util "github.com/alibabacloud-go/tea-utils/service"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dyvmsapi"
)

// genericCall sends action with params (CallId, ProdId, QueryDate as given).
type genericCall func(t *testing.T, endpoint, action string, params map[string]string) outcome

func callParams(withCallID bool) map[string]string {
	p := map[string]string{
		"ProdId":    fmt.Sprint(testProdID),
		"QueryDate": fmt.Sprint(testQueryDate()),
	}
	if withCallID {
		p["CallId"] = testCallID
	}
	return p
}

func TestProtocolErrors(t *testing.T) {
	clients := []struct {
		name string
		spec goClient
		call genericCall
	}{
		{"teaRPC-formBody", goClient{}, teaRPCCall},
		{"darabonbaV3", goClient{statusOnError: true}, darabonbaCall("")},
		{"darabonbaSignatureV2", goClient{statusOnError: true}, darabonbaCall("v2")},
		{"alibabaCloudSDKGo", goClient{statusOnError: true}, alibabaCommonCall},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			t.Run("unknownAction", func(t *testing.T) {
				p := newProxy(t, mainServer(t), modePass)
				o := c.call(t, p.hostPort(), "NoSuchAction", callParams(true))
				checkError(t, c.spec, p, o, "InvalidAction.NotFound", 404)
			})
			t.Run("missingCallId", func(t *testing.T) {
				p := newProxy(t, mainServer(t), modePass)
				o := c.call(t, p.hostPort(), "QueryCallDetailByCallId", callParams(false))
				checkError(t, c.spec, p, o, "MissingCallId", 400)
			})
		})
	}
}

// tea-rpc v1.1.3 DoRequest, as dyvmsapi v1.2.1 uses it: parameters in a form body.
func teaRPCCall(t *testing.T, endpoint, action string, params map[string]string) outcome {
	c, err := rpc.NewClient(&rpc.Config{
		AccessKeyId:     tea.String(fullAK),
		AccessKeySecret: tea.String(fullSecret),
		Endpoint:        tea.String(endpoint),
		Protocol:        tea.String("http"),
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	body := map[string]interface{}{}
	for k, v := range params {
		body[k] = v
	}
	res, err := c.DoRequest(tea.String(action), tea.String("HTTPS"), tea.String("POST"), tea.String("2017-05-25"),
		tea.String("AK"), nil, body, &util.RuntimeOptions{})
	if err != nil {
		return fromTeaError(t, err)
	}
	return outcomeFromMap(res, 0)
}

// darabonba-openapi/v2 CallApi, V3 by default or RPC v1 with "v2".
func darabonbaCall(algorithm string) genericCall {
	return func(t *testing.T, endpoint, action string, params map[string]string) outcome {
		c, err := openapi.NewClient(v2Config(endpoint, fullAK, fullSecret, algorithm))
		if err != nil {
			t.Fatalf("NewClient: %v", err)
		}
		query := map[string]*string{}
		for k, v := range params {
			query[k] = tea.String(v)
		}
		res, err := c.CallApi(&openapi.Params{
			Action:      tea.String(action),
			Version:     tea.String("2017-05-25"),
			Protocol:    tea.String("HTTPS"),
			Pathname:    tea.String("/"),
			Method:      tea.String("POST"),
			AuthType:    tea.String("AK"),
			Style:       tea.String("RPC"),
			ReqBodyType: tea.String("formData"),
			BodyType:    tea.String("json"),
		}, &openapi.OpenApiRequest{Query: query}, &dara.RuntimeOptions{})
		if err != nil {
			return fromTeaError(t, err)
		}
		body, _ := res["body"].(map[string]interface{})
		status := 0
		switch s := res["statusCode"].(type) {
		case int:
			status = s
		case float64:
			status = int(s)
		}
		return outcomeFromMap(body, status)
	}
}

func outcomeFromMap(m map[string]interface{}, status int) outcome {
	o := outcome{Status: status}
	o.Code, _ = m["Code"].(string)
	o.Message, _ = m["Message"].(string)
	o.RequestID, _ = m["RequestId"].(string)
	o.Data, o.HasData = m["Data"].(string)
	return o
}

// alibaba-cloud-sdk-go: CommonRequest for the unknown action, the typed
// request (which does not validate) for the missing CallId.
func alibabaCommonCall(t *testing.T, endpoint, action string, params map[string]string) outcome {
	c, err := dyvmsapi.NewClientWithAccessKey("cn-hangzhou", fullAK, fullSecret)
	if err != nil {
		t.Fatalf("NewClientWithAccessKey: %v", err)
	}
	defer c.Shutdown()
	c.Domain = endpoint
	var resp interface {
		GetHttpStatus() int
		GetHttpContentBytes() []byte
	}
	if action == "QueryCallDetailByCallId" {
		req := dyvmsapi.CreateQueryCallDetailByCallIdRequest()
		req.CallId = params["CallId"]
		req.ProdId = requests.Integer(params["ProdId"])
		req.QueryDate = requests.Integer(params["QueryDate"])
		resp, err = c.QueryCallDetailByCallId(req)
	} else {
		req := requests.NewCommonRequest()
		req.Method = "POST"
		req.Product = "Dyvmsapi"
		req.Version = "2017-05-25"
		req.ApiName = action
		req.Domain = endpoint
		for k, v := range params {
			req.QueryParams[k] = v
		}
		resp, err = c.ProcessCommonRequest(req)
	}
	if err != nil {
		var se *sdkerrors.ServerError
		if !errors.As(err, &se) {
			t.Fatalf("error is %T, not *errors.ServerError: %v", err, err)
		}
		return outcome{Err: err, Code: se.ErrorCode(), Message: se.Message(), RequestID: se.RequestId(),
			Status: se.HttpStatus(), Recommend: se.Recommend()}
	}
	var m map[string]interface{}
	_ = jsonUnmarshal(resp.GetHttpContentBytes(), &m)
	return outcomeFromMap(m, resp.GetHttpStatus())
}
