package compat

// One test function per official Go client version of Dyvmsapi 2017-05-25.

import (
	"errors"
	"testing"

	openapiv1 "github.com/alibabacloud-go/darabonba-openapi/client"
	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	vms1 "github.com/alibabacloud-go/dyvmsapi-20170525/client"
	vms2 "github.com/alibabacloud-go/dyvmsapi-20170525/v2/client"
	vms3 "github.com/alibabacloud-go/dyvmsapi-20170525/v3/client"
	vms4 "github.com/alibabacloud-go/dyvmsapi-20170525/v4/client"
	vms6 "github.com/alibabacloud-go/dyvmsapi-20170525/v6/client"
	rpc "github.com/alibabacloud-go/tea-rpc/client"
	"github.com/alibabacloud-go/tea/tea"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dyvmsapi"
)

// dyvmsapi-20170525 v1.2.1: tea-rpc, RPC signature v1, business parameters in
// a form body. The response struct is the body itself (no status, no headers).
func TestDyvmsapiV1_2_1(t *testing.T) {
	runGoClientCases(t, goClient{
		call: func(t *testing.T, endpoint, ak, secret string) outcome {
			c, err := vms1.NewClient(&rpc.Config{
				AccessKeyId:     tea.String(ak),
				AccessKeySecret: tea.String(secret),
				Endpoint:        tea.String(endpoint),
				Protocol:        tea.String("http"),
			})
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			resp, err := c.QueryCallDetailByCallId(&vms1.QueryCallDetailByCallIdRequest{
				CallId:    tea.String(testCallID),
				ProdId:    tea.Int64(testProdID),
				QueryDate: tea.Int64(testQueryDate()),
			})
			if err != nil {
				return fromTeaError(t, err)
			}
			return outcome{
				Code:      tea.StringValue(resp.Code),
				Message:   tea.StringValue(resp.Message),
				RequestID: tea.StringValue(resp.RequestId),
				Data:      tea.StringValue(resp.Data),
				HasData:   resp.Data != nil,
			}
		},
	})
}

// dyvmsapi-20170525/v2 v2.0.2: darabonba-openapi v0 DoRPCRequest, RPC
// signature v1, business parameters in a form body. Headers and body, no status.
func TestDyvmsapiV2_0_2(t *testing.T) {
	runGoClientCases(t, goClient{
		statusOnError: true,
		call: func(t *testing.T, endpoint, ak, secret string) outcome {
			c, err := vms2.NewClient(&openapiv1.Config{
				AccessKeyId:     tea.String(ak),
				AccessKeySecret: tea.String(secret),
				Endpoint:        tea.String(endpoint),
				Protocol:        tea.String("http"),
			})
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			resp, err := c.QueryCallDetailByCallId(&vms2.QueryCallDetailByCallIdRequest{
				CallId:    tea.String(testCallID),
				ProdId:    tea.Int64(testProdID),
				QueryDate: tea.Int64(testQueryDate()),
			})
			if err != nil {
				return fromTeaError(t, err)
			}
			if resp.Body == nil {
				t.Fatalf("response has no body: %v", resp)
			}
			return outcome{
				Code:      tea.StringValue(resp.Body.Code),
				Message:   tea.StringValue(resp.Body.Message),
				RequestID: tea.StringValue(resp.Body.RequestId),
				Data:      tea.StringValue(resp.Body.Data),
				HasData:   resp.Body.Data != nil,
			}
		},
	})
}

func v2Config(endpoint, ak, secret, algorithm string) *openapi.Config {
	cfg := &openapi.Config{
		AccessKeyId:     tea.String(ak),
		AccessKeySecret: tea.String(secret),
		Endpoint:        tea.String(endpoint),
		Protocol:        tea.String("http"),
	}
	if algorithm != "" {
		cfg.SignatureAlgorithm = tea.String(algorithm)
	}
	return cfg
}

// dyvmsapi-20170525/v3 v3.0.0: CallApi, V3 signature (ACS3-HMAC-SHA256),
// business parameters in the query.
func TestDyvmsapiV3_0_0(t *testing.T) {
	runGoClientCases(t, goClient{
		statusOnSuccess: true,
		statusOnError:   true,
		call: func(t *testing.T, endpoint, ak, secret string) outcome {
			c, err := vms3.NewClient(v2Config(endpoint, ak, secret, ""))
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			resp, err := c.QueryCallDetailByCallId(&vms3.QueryCallDetailByCallIdRequest{
				CallId:    tea.String(testCallID),
				ProdId:    tea.Int64(testProdID),
				QueryDate: tea.Int64(testQueryDate()),
			})
			if err != nil {
				return fromTeaError(t, err)
			}
			if resp.Body == nil {
				t.Fatalf("response has no body: %v", resp)
			}
			return outcome{
				Code:      tea.StringValue(resp.Body.Code),
				Message:   tea.StringValue(resp.Body.Message),
				RequestID: tea.StringValue(resp.Body.RequestId),
				Status:    int(tea.Int32Value(resp.StatusCode)),
				Data:      tea.StringValue(resp.Body.Data),
				HasData:   resp.Body.Data != nil,
			}
		},
	})
}

func callV4(algorithm string) func(t *testing.T, endpoint, ak, secret string) outcome {
	return func(t *testing.T, endpoint, ak, secret string) outcome {
		c, err := vms4.NewClient(v2Config(endpoint, ak, secret, algorithm))
		if err != nil {
			t.Fatalf("NewClient: %v", err)
		}
		resp, err := c.QueryCallDetailByCallId(&vms4.QueryCallDetailByCallIdRequest{
			CallId:    tea.String(testCallID),
			ProdId:    tea.Int64(testProdID),
			QueryDate: tea.Int64(testQueryDate()),
		})
		if err != nil {
			return fromTeaError(t, err)
		}
		if resp.Body == nil {
			t.Fatalf("response has no body: %v", resp)
		}
		return outcome{
			Code:      tea.StringValue(resp.Body.Code),
			Message:   tea.StringValue(resp.Body.Message),
			RequestID: tea.StringValue(resp.Body.RequestId),
			Status:    int(tea.Int32Value(resp.StatusCode)),
			Data:      tea.StringValue(resp.Body.Data),
			HasData:   resp.Body.Data != nil,
		}
	}
}

// dyvmsapi-20170525/v4 v4.2.1 with the default V3 signature.
func TestDyvmsapiV4_2_1(t *testing.T) {
	runGoClientCases(t, goClient{statusOnSuccess: true, statusOnError: true, call: callV4("")})
}

// dyvmsapi-20170525/v4 v4.2.1 with SignatureAlgorithm "v2": RPC signature v1,
// every parameter in the query, empty body.
func TestDyvmsapiV4_2_1SignatureV2(t *testing.T) {
	runGoClientCases(t, goClient{statusOnSuccess: true, statusOnError: true, call: callV4("v2")})
}

// dyvmsapi-20170525/v6 v6.0.0 (dara): V3 signature, parameters in the query.
func TestDyvmsapiV6_0_0(t *testing.T) {
	runGoClientCases(t, goClient{
		statusOnSuccess: true,
		statusOnError:   true,
		call: func(t *testing.T, endpoint, ak, secret string) outcome {
			c, err := vms6.NewClient(&openapiutil.Config{
				AccessKeyId:     tea.String(ak),
				AccessKeySecret: tea.String(secret),
				Endpoint:        tea.String(endpoint),
				Protocol:        tea.String("http"),
			})
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			resp, err := c.QueryCallDetailByCallId(&vms6.QueryCallDetailByCallIdRequest{
				CallId:    tea.String(testCallID),
				ProdId:    tea.Int64(testProdID),
				QueryDate: tea.Int64(testQueryDate()),
			})
			if err != nil {
				return fromTeaError(t, err)
			}
			body := resp.GetBody()
			if body == nil {
				t.Fatalf("response has no body: %v", resp)
			}
			return outcome{
				Code:      tea.StringValue(body.GetCode()),
				Message:   tea.StringValue(body.GetMessage()),
				RequestID: tea.StringValue(body.GetRequestId()),
				Status:    int(tea.Int32Value(resp.GetStatusCode())),
				Data:      tea.StringValue(body.GetData()),
				HasData:   body.GetData() != nil,
			}
		},
	})
}

// alibaba-cloud-sdk-go v1.63.107 services/dyvmsapi: RPC signature v1, every
// parameter in the query, RegionId and an empty SignatureType sent.
func TestAlibabaCloudSDKGoDyvmsapi(t *testing.T) {
	runGoClientCases(t, goClient{
		statusOnSuccess:        true,
		statusOnError:          true,
		recommendOnWrongSecret: true,
		call: func(t *testing.T, endpoint, ak, secret string) outcome {
			c, err := dyvmsapi.NewClientWithAccessKey("cn-hangzhou", ak, secret)
			if err != nil {
				t.Fatalf("NewClientWithAccessKey: %v", err)
			}
			defer c.Shutdown()
			c.Domain = endpoint
			req := dyvmsapi.CreateQueryCallDetailByCallIdRequest()
			req.CallId = testCallID
			req.ProdId = requests.NewInteger64(testProdID)
			req.QueryDate = requests.NewInteger64(testQueryDate())
			resp, err := c.QueryCallDetailByCallId(req)
			if err != nil {
				var se *sdkerrors.ServerError
				if !errors.As(err, &se) {
					t.Fatalf("error is %T, not *errors.ServerError: %v", err, err)
				}
				return outcome{
					Err:       err,
					Code:      se.ErrorCode(),
					Message:   se.Message(),
					RequestID: se.RequestId(),
					Status:    se.HttpStatus(),
					Recommend: se.Recommend(),
				}
			}
			var m map[string]any
			hasData := false
			if jsonErr := jsonUnmarshal(resp.GetHttpContentBytes(), &m); jsonErr == nil {
				_, hasData = m["Data"]
			}
			return outcome{
				Code:      resp.Code,
				Message:   resp.Message,
				RequestID: resp.RequestId,
				Status:    resp.GetHttpStatus(),
				Data:      resp.Data,
				HasData:   hasData,
			}
		},
	})
}
