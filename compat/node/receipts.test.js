'use strict';
// Receipts through the official Node clients: @alicloud/dybaseapi
// QueryTokenForMnsQueue, then @alicloud/mns batchReceiveMessage and
// batchDeleteMessage with the temporary credential. The Go side
// (TestNodeClients) places SingleCallByTts calls first and passes their IDs;
// the test reads VoiceCallReport messages until each call has reported,
// then drains and deletes the rest (other tests' calls report there too).

const assert = require('node:assert/strict');
const { test } = require('node:test');
const Dybaseapi = require('@alicloud/dybaseapi');
const MNSClient = require('@alicloud/mns');

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set; run the suite with 'go test ./...' in compat (TestNodeClients)`);
  return v;
}

test('dybaseapi token + @alicloud/mns receive and delete VoiceCallReport', async () => {
  const endpoint = 'http://' + env('DIALTONE_ENDPOINT');
  const uid = env('DIALTONE_ACCOUNT_UID');
  const ids = env('DIALTONE_RECEIPT_CALL_IDS').split(',');
  const queueName = `Alicom-Queue-${uid}-VoiceCallReport`;

  const client = new Dybaseapi({ accessKeyId: env('DIALTONE_FULL_AK'), accessKeySecret: env('DIALTONE_FULL_SECRET'), endpoint });
  const res = await client.queryTokenForMnsQueue({ MessageType: 'VoiceCallReport', QueueName: queueName }, { method: 'POST' });
  assert.equal(res.Code, 'OK');
  const tok = res.MessageTokenDTO;
  assert.match(tok.AccessKeyId, /^STS\./);
  assert.match(tok.ExpireTime, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);

  const mns = new MNSClient(uid, {
    endpoint, accessKeyId: tok.AccessKeyId, accessKeySecret: tok.AccessKeySecret, securityToken: tok.SecurityToken,
  });
  const seen = new Set();
  const deadline = Date.now() + 30000;
  const pending = () => ids.some((id) => !seen.has(id));
  while (Date.now() < deadline) {
    let got;
    try {
      // Long polls while calls are still to report, then short ones to drain.
      got = await mns.batchReceiveMessage(queueName, 10, pending() ? 5 : 1);
    } catch (err) {
      if (err.name === 'MNSMessageNotExistError') {
        if (pending()) continue;
        break;
      }
      throw err;
    }
    const msgs = Array.isArray(got.body) ? got.body : [got.body];
    const handles = [];
    for (const m of msgs) {
      assert.equal(m.Priority, '8');
      const body = JSON.parse(Buffer.from(m.MessageBody, 'base64').toString('utf8'));
      assert.ok(body.status_code && body.status_time && body.receipt_id, JSON.stringify(body));
      seen.add(body.call_id);
      handles.push(m.ReceiptHandle);
    }
    const del = await mns.batchDeleteMessage(queueName, handles);
    assert.equal(del.code, 204);
  }
  for (const id of ids) assert.ok(seen.has(id), `no VoiceCallReport for call ${id}`);
  // Deleted: a short poll finds the queue empty.
  await assert.rejects(mns.batchReceiveMessage(queueName, 10, 1), (err) => err.name === 'MNSMessageNotExistError');
  // A single delete with a bogus handle is the documented ReceiptHandleError.
  await assert.rejects(mns.deleteMessage(queueName, 'bogus-handle'), (err) => err.name === 'MNSReceiptHandleErrorError');
});
