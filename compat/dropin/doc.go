// Package dropin holds the programs that TestDropIn (../dropin_test.go)
// runs inside a network namespace where Alibaba's hostnames resolve to
// Dialtone and its CA is trusted through an environment variable only.
// None of them sets an endpoint, a protocol or a domain other than the
// ones an application written against Alibaba Cloud has:
//
//   - alerting: alibaba-cloud-sdk-go dyvmsapi, region cn-hangzhou,
//     request.Scheme = "https", SingleCallByTts (as alerting tools do);
//   - receiptsample: the seed document's Go receipt sample (§5.4);
//   - v6detail: dyvmsapi-20170525 v6.0.0 with Endpoint
//     "dyvmsapi.aliyuncs.com" and its default protocol.
//
// The keys are those of ../testdata/provision.yaml.
package dropin
