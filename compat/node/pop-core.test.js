'use strict';
// @alicloud/pop-core 1.8.0 RPCClient: RPC signature v1, GET (query) and POST (form body).

const { test } = require('node:test');
const RPCClient = require('@alicloud/pop-core');
const { runCases, withProxy, checkError, CALL, cfg } = require('./cases');

function popCoreCall(method, action = 'QueryCallDetailByCallId', omitCallId = false) {
  return async (hostPort, ak, secret) => {
    const client = new RPCClient({
      accessKeyId: ak,
      accessKeySecret: secret,
      endpoint: `http://${hostPort}`,
      apiVersion: '2017-05-25',
    });
    const params = { ...CALL, QueryDate: Date.now() };
    if (omitCallId) delete params.CallId;
    const opts = method === 'POST' ? { method: 'POST', timeout: 15000 } : { timeout: 15000 };
    try {
      const body = await client.request(action, params, opts);
      return { ok: true, code: body.Code, requestId: body.RequestId, message: body.Message, data: body.Data };
    } catch (err) {
      if (!err.code || !err.data) throw err; // transport or parse failure
      return {
        ok: false,
        code: err.code,
        requestId: err.data.RequestId,
        message: err.data.Message,
        status: err.entry && err.entry.response ? err.entry.response.statusCode : undefined,
      };
    }
  };
}

runCases('pop-core GET', popCoreCall('GET'), { permissionDenyThrows: true });
runCases('pop-core POST', popCoreCall('POST'), { permissionDenyThrows: true });

// Gateway errors independent of the key: unknown action (404) and missing CallId (400).
for (const method of ['GET', 'POST']) {
  test(`pop-core ${method} protocol errors`, async (t) => {
    await t.test('unknownAction', () => withProxy(cfg.main, 'pass', async (p) => {
      const o = await popCoreCall(method, 'NoSuchAction')(p.hostPort, cfg.fullAK, cfg.fullSecret);
      checkError(o, p, 'InvalidAction.NotFound', 404);
    }));
    await t.test('missingCallId', () => withProxy(cfg.main, 'pass', async (p) => {
      const o = await popCoreCall(method, 'QueryCallDetailByCallId', true)(p.hostPort, cfg.fullAK, cfg.fullSecret);
      checkError(o, p, 'MissingCallId', 400);
    }));
  });
}
