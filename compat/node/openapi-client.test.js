'use strict';
// @alicloud/openapi-client 0.4.15 callApi: V3 signature by default, and
// RPC signature v1 (every parameter in the query) with signatureAlgorithm 'v2'.

const OpenApi = require('@alicloud/openapi-client');
const { runCases, CALL } = require('./cases');

function openApiCall(signatureAlgorithm) {
  return async (hostPort, ak, secret) => {
    const config = new OpenApi.Config({
      accessKeyId: ak,
      accessKeySecret: secret,
      endpoint: hostPort,
      protocol: 'http',
      readTimeout: 15000,
      connectTimeout: 15000,
    });
    if (signatureAlgorithm) config.signatureAlgorithm = signatureAlgorithm;
    const client = new OpenApi.default(config);
    const params = new OpenApi.Params({
      action: 'QueryCallDetailByCallId',
      version: '2017-05-25',
      protocol: 'HTTP',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    const request = new OpenApi.OpenApiRequest({
      query: { CallId: CALL.CallId, ProdId: String(CALL.ProdId), QueryDate: String(Date.now()) },
    });
    try {
      const resp = await client.callApi(params, request, {});
      const body = resp.body || {};
      return {
        ok: true, code: body.Code, requestId: body.RequestId, message: body.Message,
        data: body.Data, status: resp.statusCode,
      };
    } catch (err) {
      if (!err.data) throw err; // transport or parse failure
      return {
        ok: false,
        code: err.code,
        requestId: err.data.RequestId,
        message: err.message,
        status: err.data.statusCode,
      };
    }
  };
}

runCases('openapi-client V3', openApiCall(undefined));
runCases('openapi-client v2 (RPC)', openApiCall('v2'));
