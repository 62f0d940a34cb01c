// Replays the data-driven corpus of malformed input in bad-input/*.jsonl against the
// running binary: each case is sent as raw bytes on a new connection to the named
// listener and must get the expected answer (a status line, or the connection closed).
// Afterwards the server is up and the spans it acknowledged before are intact.
//
// A case is one JSON object per line: {name, port: otlp-http | api | otlp-grpc, send,
// expect: "HTTP/1.1 NNN" | "close"}. An answer must say why in its body, and the
// connection must be closed after it (the server closes after refusing a malformed
// request; cases answered by a handler send `Connection: close`). In `send`, ${repeat:TEXT:N} stands for TEXT repeated
// N times, ${gzip-bomb} for a gzip stream of 64 MiB of zeros (about 64 KB) and
// ${gzip-bomb-length} for its length.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

import {
  Strand, verifyTraces, formatProblems, recordsFromRequest, otlpJsonToProtobuf, newTraceId,
  newSpanId, nowNanos,
} from './lib/strand.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpusDir = path.join(here, 'bad-input');
const maxRequestBytes = 4 << 20;

function loadCases() {
  const cases = [];
  for (const file of fs.readdirSync(corpusDir).filter((f) => f.endsWith('.jsonl')).sort()) {
    const lines = fs.readFileSync(path.join(corpusDir, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      cases.push({ ...JSON.parse(line), where: `${file}:${i + 1}` });
    });
  }
  return cases;
}

const gzipBomb = zlib.gzipSync(Buffer.alloc(64 << 20), { level: 9 });

function expand(send) {
  const parts = [];
  let rest = send;
  const re = /\$\{(repeat:([\s\S]*?):(\d+)|gzip-bomb-length|gzip-bomb)\}/;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    parts.push(Buffer.from(rest.slice(0, m.index), 'latin1'));
    if (m[1] === 'gzip-bomb') parts.push(gzipBomb);
    else if (m[1] === 'gzip-bomb-length') parts.push(Buffer.from(String(gzipBomb.length)));
    else parts.push(Buffer.from(m[2].repeat(Number(m[3])), 'latin1'));
    rest = rest.slice(m.index + m[0].length);
  }
  parts.push(Buffer.from(rest, 'latin1'));
  return Buffer.concat(parts);
}

/** Sends `bytes` on a new connection; resolves to {answer, closed} within `timeoutMs`. */
function exchange(port, bytes, timeoutMs = 15_000) {
  return new Promise((resolve) => {
    const chunks = [];
    const socket = net.connect(port, '127.0.0.1');
    let settled = false;
    const finish = (closed) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ answer: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => socket.write(bytes, () => {}));
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

describe('the bad-input corpus against the running binary', () => {
  let strand;
  const stored = [];

  before(async () => {
    strand = await Strand.start({ name: 'bad-input', maxRequestBytes });
    // Acknowledged before the attack: must survive it.
    const traceId = newTraceId();
    const req = {
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'before-attack' } }] },
        scopeSpans: [{
          spans: [{
            traceId, spanId: newSpanId(), name: 'kept', kind: 2,
            startTimeUnixNano: String(nowNanos(-1000)), endTimeUnixNano: String(nowNanos()),
          }],
        }],
      }],
    };
    const r = await fetch(strand.tracesUrl, {
      method: 'POST', headers: { 'content-type': 'application/x-protobuf' },
      body: otlpJsonToProtobuf(req),
    });
    assert.equal(r.status, 200);
    stored.push(...recordsFromRequest(req));
  });
  after(async () => { await strand?.stop({ removeDataDir: true }); });

  for (const c of loadCases()) {
    test(`${c.name} (${c.where}) → ${c.expect}`, async () => {
      const port = { 'otlp-http': strand.ports.http, api: strand.ports.api,
        'otlp-grpc': strand.ports.grpc }[c.port];
      assert.ok(port, `unknown port ${c.port}`);
      const { answer, closed } = await exchange(port, expand(c.send));
      if (c.expect === 'close') {
        assert.ok(closed, `the connection should be closed; got ${JSON.stringify(answer.slice(0, 200))}`);
        return;
      }
      const statusLine = answer.slice(0, answer.indexOf('\r\n'));
      assert.equal(statusLine.slice(0, c.expect.length), c.expect,
        `answer: ${JSON.stringify(answer.slice(0, 300))}`);
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      assert.ok(body.length > 0, 'an answer says why');
      assert.ok(closed, 'the connection is closed after the answer');
    });
  }

  test('after the corpus the server is up and the acknowledged spans are intact', async () => {
    assert.ok(strand.isRunning());
    assert.equal((await strand.api('/ready')).status, 200);
    const { problems } = await verifyTraces(strand, stored, { modes: [{ api: 'v2', format: 'proto' }] });
    assert.ok(problems.length === 0, `\n${formatProblems(problems)}`);
  });
});
