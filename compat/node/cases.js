'use strict';
// Shared cases for the Node clients. Each client adapter returns
// { ok, code, requestId, status, message, data } where status is the HTTP
// status as the client exposes it (undefined when it does not).

const assert = require('node:assert/strict');
const { test } = require('node:test');
const { startProxy } = require('./proxy');

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set; run the suite with 'go test ./...' in compat (TestNodeClients)`);
  return v;
}

const cfg = {
  main: env('DIALTONE_ENDPOINT'),
  short: env('DIALTONE_SHORT_ENDPOINT'),
  delayMs: Number(env('DIALTONE_PROXY_DELAY_MS')),
  fullAK: env('DIALTONE_FULL_AK'),
  fullSecret: env('DIALTONE_FULL_SECRET'),
  disabledAK: env('DIALTONE_DISABLED_AK'),
  disabledSecret: env('DIALTONE_DISABLED_SECRET'),
  mnsOnlyAK: env('DIALTONE_MNSONLY_AK'),
  mnsOnlySecret: env('DIALTONE_MNSONLY_SECRET'),
  unknownAK: env('DIALTONE_UNKNOWN_AK'),
  wrongSecret: env('DIALTONE_WRONG_SECRET'),
};

const CALL = { CallId: '116012354148^102813780000', ProdId: 11000000300006 };

function bodyCode(s) {
  try { return JSON.parse(s).Code; } catch { return undefined; }
}

async function withProxy(target, mode, fn) {
  const p = await startProxy(target, mode, cfg.delayMs);
  try {
    await fn(p);
  } catch (err) {
    err.message += `\ntraffic through the proxy (${p.hostPort} -> ${target}):\n${p.dump()}`;
    throw err;
  } finally {
    await p.close();
  }
}

function checkSuccess(o, p, code) {
  assert.equal(o.ok, true, `want success, got error ${o.code}: ${o.message}`);
  assert.equal(o.code, code);
  assert.ok(o.requestId, 'RequestId is empty');
  if (o.status !== undefined) assert.equal(o.status, 200, 'client status');
  assert.equal(p.last().status, 200, 'HTTP status on the wire');
  assert.match(String(p.last().respHeaders['content-type']), /^application\/json/i);
}

function checkError(o, p, code, status, opts) {
  assert.equal(o.ok, false, `want error ${code}, got success with Code ${o.code}`);
  assert.equal(o.code, code, `error code (message: ${o.message})`);
  if (o.status !== undefined) assert.equal(o.status, status, 'client status');
  assert.ok(o.requestId, 'error carries no RequestId');
  assert.equal(p.last().status, status, 'HTTP status on the wire');
  assert.match(String(p.last().respHeaders['content-type']), /^application\/json/i);
}

// runCases(name, call, opts): call(endpointHostPort, ak, secret) -> outcome.
// opts.permissionDenyThrows: the client turns a 200 with Code != OK into an error.
function runCases(name, call, opts = {}) {
  test(name, async (t) => {
    await t.test('valid', () => withProxy(cfg.main, 'pass', async (p) => {
      const o = await call(p.hostPort, cfg.fullAK, cfg.fullSecret);
      checkSuccess(o, p, 'OK');
      assert.equal(o.data, undefined, 'want no Data for an unknown call');
    }));
    await t.test('validDirect', async () => {
      const o = await call(cfg.main, cfg.fullAK, cfg.fullSecret);
      assert.equal(o.ok, true, `want success, got ${o.code}: ${o.message}`);
      assert.equal(o.code, 'OK');
      assert.ok(o.requestId);
    });
    const cases = [
      ['wrongSecret', cfg.main, 'pass', cfg.fullAK, cfg.wrongSecret, 'SignatureDoesNotMatch', 400],
      ['unknownKey', cfg.main, 'pass', cfg.unknownAK, cfg.fullSecret, 'InvalidAccessKeyId.NotFound', 404],
      ['disabledKey', cfg.main, 'pass', cfg.disabledAK, cfg.disabledSecret, 'InvalidAccessKeyId.Inactive', 400],
      ['replay', cfg.main, 'duplicate', cfg.fullAK, cfg.fullSecret, 'SignatureNonceUsed', 400],
      ['oldTimestamp', cfg.short, 'delay', cfg.fullAK, cfg.fullSecret, 'InvalidTimeStamp.Expired', 400],
    ];
    for (const [cname, target, mode, ak, secret, code, status] of cases) {
      await t.test(cname, () => withProxy(target, mode, async (p) => {
        const o = await call(p.hostPort, ak, secret);
        checkError(o, p, code, status);
        if (cname === 'wrongSecret') {
          assert.ok(o.message.includes('server string to sign is:'), `message: ${o.message}`);
        }
        if (cname === 'replay') {
          assert.equal(p.exchanges.length, 2);
          assert.equal(p.exchanges[0].status, 200, 'first copy status');
          assert.equal(bodyCode(p.exchanges[0].respBody), 'OK', 'first copy Code');
        }
      }));
    }
    await t.test('ramDeny', () => withProxy(cfg.main, 'pass', async (p) => {
      const o = await call(p.hostPort, cfg.mnsOnlyAK, cfg.mnsOnlySecret);
      if (opts.permissionDenyThrows) {
        // pop-core throws on any body Code outside OK/Success/200, whatever the status.
        assert.equal(o.ok, false, 'pop-core should throw');
        assert.equal(o.code, 'isp.RAM_PERMISSION_DENY');
        assert.ok(o.requestId, 'RequestId');
        if (o.status !== undefined) assert.equal(o.status, 200, 'client status');
        assert.equal(p.last().status, 200, 'HTTP status on the wire');
      } else {
        checkSuccess(o, p, 'isp.RAM_PERMISSION_DENY');
      }
    }));
  });
}

module.exports = { runCases, withProxy, checkError, CALL, cfg };
