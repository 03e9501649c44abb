'use strict';
// Run by TestDropIn (../dropin_test.go) inside a network namespace where
// dyvmsapi.aliyuncs.com resolves to Dialtone and Dialtone's CA is trusted
// only through NODE_EXTRA_CA_CERTS. Neither client is given an endpoint,
// protocol or domain other than Alibaba's own:
//   - @alicloud/openapi-client with endpoint 'dyvmsapi.aliyuncs.com' and
//     no protocol, calling as the generated dyvmsapi SDK does (HTTPS);
//   - @alicloud/pop-core with endpoint 'https://dyvmsapi.aliyuncs.com'.
// Both query the call given as argv[2] (ProdId argv[3]) and print one JSON
// line each: {client, code, state}.

const OpenApi = require('@alicloud/openapi-client');
const RPCClient = require('@alicloud/pop-core');

const AK = 'LTAIcompatFull000000001';
const SECRET = 'compatFullSecret00000000000000001';

async function openApi(callId, prodId) {
  const client = new OpenApi.default(new OpenApi.Config({
    accessKeyId: AK,
    accessKeySecret: SECRET,
    endpoint: 'dyvmsapi.aliyuncs.com',
  }));
  const params = new OpenApi.Params({
    action: 'QueryCallDetailByCallId',
    version: '2017-05-25',
    protocol: 'HTTPS',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  const request = new OpenApi.OpenApiRequest({
    query: { CallId: callId, ProdId: prodId, QueryDate: String(Date.now()) },
  });
  const resp = await client.callApi(params, request, {});
  return resp.body;
}

async function popCore(callId, prodId) {
  const client = new RPCClient({
    accessKeyId: AK,
    accessKeySecret: SECRET,
    endpoint: 'https://dyvmsapi.aliyuncs.com',
    apiVersion: '2017-05-25',
  });
  return client.request('QueryCallDetailByCallId',
    { CallId: callId, ProdId: prodId, QueryDate: String(Date.now()) }, { method: 'POST' });
}

async function main() {
  const [callId, prodId] = process.argv.slice(2);
  for (const [name, fn] of [['openapi-client', openApi], ['pop-core', popCore]]) {
    const body = await fn(callId, prodId);
    const data = body.Data ? JSON.parse(body.Data) : {};
    console.log(JSON.stringify({ client: name, code: body.Code, state: data.state || '' }));
  }
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
