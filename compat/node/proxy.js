'use strict';
// Loopback proxy for the Node compatibility tests: forwards each request to
// Dialtone unchanged (method, path and query, headers including Host, body)
// and records the traffic. Modes: 'pass', 'duplicate' (forward twice, answer
// with the second response), 'delay' (wait delayMs, then forward once).

const http = require('node:http');

function forward(target, req, body) {
  const [host, port] = target.split(':');
  const headers = { ...req.headers };
  delete headers.connection;
  return new Promise((resolve) => {
    const out = http.request(
      { host, port: Number(port), method: req.method, path: req.url, headers, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (err) => resolve({ error: err }));
      },
    );
    out.on('error', (err) => resolve({ error: err }));
    out.end(body);
  });
}

async function startProxy(target, mode = 'pass', delayMs = 0) {
  const exchanges = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      if (mode === 'delay') await new Promise((r) => setTimeout(r, delayMs));
      const times = mode === 'duplicate' ? 2 : 1;
      let resp;
      for (let i = 0; i < times; i++) {
        resp = await forward(target, req, body);
        exchanges.push({
          method: req.method, url: req.url, headers: req.headers, body: body.toString(),
          status: resp.status, respHeaders: resp.headers,
          respBody: resp.body ? resp.body.toString() : undefined, error: resp.error && String(resp.error),
        });
        if (resp.error) {
          res.writeHead(502);
          res.end(String(resp.error));
          return;
        }
      }
      const h = { ...resp.headers };
      delete h.connection;
      delete h['transfer-encoding'];
      h['content-length'] = String(resp.body.length);
      res.writeHead(resp.status, h);
      res.end(resp.body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const hostPort = `127.0.0.1:${server.address().port}`;
  return {
    hostPort,
    exchanges,
    last() { return exchanges[exchanges.length - 1]; },
    dump() {
      return exchanges.map((e, i) => `--- exchange ${i + 1} ---\n> ${e.method} ${e.url}\n` +
        Object.entries(e.headers).map(([k, v]) => `> ${k}: ${v}`).join('\n') +
        `\n> body: ${JSON.stringify(e.body)}\n< ${e.status} ${e.error || ''}\n` +
        Object.entries(e.respHeaders || {}).map(([k, v]) => `< ${k}: ${v}`).join('\n') +
        `\n< body: ${e.respBody}`).join('\n');
    },
    close() {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

module.exports = { startProxy };
