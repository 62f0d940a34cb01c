// The OTLP/HTTP receiver's answers (COMPAT.md section 1) and the Tempo API's basics
// (section 2): status codes, error bodies, compression, partial success, size limits,
// trace IDs, echo/ready/buildinfo/metrics, and tenants. After all the bad input the server
// must still be up with its earlier data intact.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';

import {
  Strand, RawGrpcClient, verifyTraces, formatProblems, recordsFromRequest, READ_MODES,
  otlpJsonToProtobuf, newTraceId, newSpanId, nowNanos, pb, responseBody, compress, fmt, httpRequest,
} from './lib/strand.mjs';

const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
const JSON_CT = 'application/json';
const PROTO_CT = 'application/x-protobuf';

const str = (v) => ({ stringValue: v });

/** A small valid request: `n` spans of one new trace. */
function smallRequest(label, { n = 2, traceId = newTraceId(), attributes = [] } = {}) {
  const t0 = BigInt(nowNanos(-1000));
  const spans = [];
  for (let i = 0; i < n; i++) {
    spans.push({
      traceId, spanId: newSpanId(), parentSpanId: i ? spans[0].spanId : undefined,
      name: `${label} ${i}`, kind: i ? 3 : 2,
      startTimeUnixNano: (t0 + BigInt(i * 1000)).toString(),
      endTimeUnixNano: (t0 + BigInt(i * 1000 + 500)).toString(),
      attributes: [{ key: 'case', value: str(label) }, ...attributes],
    });
  }
  return {
    traceId,
    req: {
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: str('http-test') }] },
        scopeSpans: [{ scope: { name: 'http.test' }, spans }],
      }],
    },
  };
}

const body = {
  json: (req) => Buffer.from(JSON.stringify(req)),
  proto: (req) => otlpJsonToProtobuf(req),
};
const ctOf = { json: JSON_CT, proto: PROTO_CT };

function describeResponse(r) {
  return `status ${r.status}, content-type ${fmt(r.headers['content-type'])}, body ${fmt(r.body.subarray(0, 300).toString('latin1'))}`;
}

/** Decodes an OTLP/HTTP response body (JSON or protobuf by `format`) into a plain object. */
function decodeExportResponse(r, format) {
  const buf = responseBody(r);
  if (format === 'json') return buf.length ? JSON.parse(buf.toString('utf8')) : {};
  const msg = pb.ExportTraceServiceResponse.decode(buf);
  return pb.ExportTraceServiceResponse.toObject(msg, { longs: String });
}

/** 200, reply in the request's encoding, no partial success. */
function assertAccepted(r, format, what) {
  assert.equal(r.status, 200, `${what}: ${describeResponse(r)}`);
  assert.ok(String(r.headers['content-type'] ?? '').toLowerCase().startsWith(ctOf[format]),
    `${what}: reply content-type ${fmt(r.headers['content-type'])}, want ${ctOf[format]}`);
  const obj = decodeExportResponse(r, format);
  const ps = obj.partialSuccess;
  assert.ok(ps === undefined || ps === null || (!Number(ps.rejectedSpans ?? 0) && !ps.errorMessage),
    `${what}: unexpected partial success ${JSON.stringify(obj)}`);
}

/** 400 (or `status`) with a google.rpc.Status body in the request's encoding. */
function assertRpcError(r, format, what, { status = 400, code = 3 } = {}) {
  assert.equal(r.status, status, `${what}: ${describeResponse(r)}`);
  const ct = String(r.headers['content-type'] ?? '').toLowerCase();
  assert.ok(ct.startsWith(ctOf[format]), `${what}: error content-type ${fmt(ct)}, want ${ctOf[format]}`);
  let st;
  try {
    const buf = responseBody(r);
    st = format === 'json'
      ? JSON.parse(buf.toString('utf8'))
      : pb.RpcStatus.toObject(pb.RpcStatus.decode(buf), { defaults: true });
  } catch (err) {
    assert.fail(`${what}: error body is not a google.rpc.Status (${err.message}): ${describeResponse(r)}`);
  }
  assert.equal(st.code, code, `${what}: google.rpc.Status code ${fmt(st.code)}, want ${code}: ${fmt(st)}`);
  assert.ok(typeof st.message === 'string' && st.message.length > 0, `${what}: empty error message: ${fmt(st)}`);
  if (format === 'json') {
    for (const k of Object.keys(st)) {
      assert.ok(['code', 'message', 'details'].includes(k), `${what}: unexpected key ${k} in ${fmt(st)}`);
    }
  }
}

describe('OTLP/HTTP receiver and Tempo API basics', () => {
  let strand;
  let grpcClient;
  const stored = []; // expected records of everything accepted, re-read at the end

  before(async () => {
    strand = await Strand.start({ name: 'http', maxRequestBytes: MAX_REQUEST_BYTES });
    grpcClient = new RawGrpcClient(strand.grpcAddress);
  });
  after(async () => {
    grpcClient?.close();
    await strand?.close();
  });

  async function sendOk(req, format, opts = {}) {
    const r = await strand.postTraces(body[format](req), { contentType: ctOf[format], ...opts });
    assertAccepted(r, format, `POST ${format}${opts.encoding ? ` ${opts.encoding}` : ''}`);
    stored.push(...recordsFromRequest(req));
    return r;
  }

  async function assertStored(req) {
    const { problems } = await verifyTraces(strand, recordsFromRequest(req), {
      modes: [{ api: 'v2', format: 'proto' }, { api: 'v1', format: 'json' }],
    });
    assert.ok(problems.length === 0, `\n${formatProblems(problems)}`);
  }

  // ---- success -------------------------------------------------------------------------

  for (const format of ['json', 'proto']) {
    test(`valid ${format} request → 200 with an empty response in the request's encoding`, async () => {
      const { req } = smallRequest(`baseline ${format}`);
      await sendOk(req, format);
      await assertStored(req);
    });
  }

  test('content types with parameters or other letter case are accepted', async () => {
    for (const [ct, format] of [
      ['application/json; charset=utf-8', 'json'],
      ['Application/JSON', 'json'],
      ['application/x-protobuf; charset=binary', 'proto'],
    ]) {
      const { req } = smallRequest(`content type ${ct}`);
      const r = await strand.postTraces(body[format](req), { contentType: ct });
      assertAccepted(r, format, `POST with Content-Type ${ct}`);
      stored.push(...recordsFromRequest(req));
      await assertStored(req);
    }
  });

  test('empty requests → 200', async () => {
    assertAccepted(await strand.postTraces(Buffer.alloc(0), { contentType: PROTO_CT }), 'proto', 'empty protobuf body');
    assertAccepted(await strand.postTraces('{}', { contentType: JSON_CT }), 'json', 'JSON {}');
    assertAccepted(await strand.postTraces('{"resourceSpans":[]}', { contentType: JSON_CT }), 'json', 'JSON with no resourceSpans');
    const hollow = { resourceSpans: [{ resource: {}, scopeSpans: [] }, { scopeSpans: [{ scope: { name: 'x' }, spans: [] }] }] };
    assertAccepted(await strand.postTraces(JSON.stringify(hollow), { contentType: JSON_CT }), 'json', 'JSON with empty scopeSpans');
    assertAccepted(await strand.postTraces(body.proto(hollow), { contentType: PROTO_CT }), 'proto', 'protobuf with empty scopeSpans');
    const g = await grpcClient.export(Buffer.alloc(0));
    assert.ok(g.ok, `gRPC empty request: ${g.codeName} ${g.details}`);
  });

  for (const encoding of ['gzip', 'zstd', 'deflate']) {
    for (const format of ['json', 'proto']) {
      test(`Content-Encoding ${encoding}, ${format} body → 200 and stored`, async () => {
        const { req } = smallRequest(`${encoding} ${format}`, { n: 20 });
        await sendOk(req, format, { encoding });
        await assertStored(req);
      });
    }
  }

  // ---- refusals ------------------------------------------------------------------------

  test('405 for methods other than POST', async () => {
    const { req } = smallRequest('method');
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const hasBody = method !== 'GET' && method !== 'DELETE';
      const r = await strand.postTraces(hasBody ? body.json(req) : Buffer.alloc(0), {
        method, contentType: JSON_CT,
      });
      assert.equal(r.status, 405, `${method} /v1/traces: ${describeResponse(r)}`);
    }
    const r = await httpRequest(strand.tracesUrl);
    assert.equal(r.status, 405, `GET /v1/traces without a body or content type: ${describeResponse(r)}`);
  });

  test('415 for other content types', async () => {
    const { req } = smallRequest('content type');
    for (const ct of ['text/plain', 'application/xml', 'application/octet-stream', 'application/grpc',
      'multipart/form-data; boundary=x', undefined]) {
      const r = await strand.postTraces(body.json(req), { contentType: ct });
      assert.equal(r.status, 415, `POST with Content-Type ${ct ?? '(none)'}: ${describeResponse(r)}`);
    }
    const r = await strand.readTrace(req.resourceSpans[0].scopeSpans[0].spans[0].traceId);
    assert.equal(r.status, 404, 'nothing of the refused requests was stored');
  });

  const validJson = JSON.stringify(smallRequest('valid').req);
  const badJson = {
    'invalid JSON': '{"resourceSpans": [',
    'not JSON at all': 'hello, world',
    'a JSON array': '[]',
    'a JSON string': '"resourceSpans"',
    'resourceSpans not an array': '{"resourceSpans": "x"}',
    'scopeSpans an object': '{"resourceSpans":[{"scopeSpans":{"spans":[]}}]}',
    'span name a number': validJson.replace(/"name":"valid 0"/, '"name":5'),
    'startTimeUnixNano a boolean': validJson.replace(/"startTimeUnixNano":"\d+"/, '"startTimeUnixNano":true'),
    'startTimeUnixNano not a number': validJson.replace(/"startTimeUnixNano":"\d+"/, '"startTimeUnixNano":"soon"'),
    'attributes an object': validJson.replace(/"attributes":\[[^\]]*\]/, '"attributes":{"a":"b"}'),
    'intValue not an integer': validJson.replace(/"value":\{"stringValue":"valid"\}/, '"value":{"intValue":"12x"}'),
    'kind a string that is no enum name': validJson.replace(/"kind":2/, '"kind":"SERVERISH"'),
    'trailing garbage after the object': `${validJson} x`,
  };
  for (const [what, text] of Object.entries(badJson)) {
    test(`400 for bad JSON: ${what}`, async () => {
      assert.notEqual(String(text), validJson, 'the test mutation applied');
      const r = await strand.postTraces(text, { contentType: JSON_CT });
      assertRpcError(r, 'json', what);
    });
  }

  test('invalid UTF-8 in strings is refused (400) or replaced, never stored raw', async (t) => {
    for (const format of ['json', 'proto']) {
      const { req, traceId } = smallRequest(`utf8 ${format}`, { n: 1 });
      const bytes = Buffer.from(body[format](req));
      const i = bytes.indexOf(Buffer.from(`utf8 ${format} 0`));
      bytes[i] = 0xff; // "\xfftf8 ... 0": not UTF-8
      bytes[i + 1] = 0xfe;
      const r = await strand.postTraces(bytes, { contentType: ctOf[format] });
      t.diagnostic(`${format} body with invalid UTF-8 → ${r.status}`);
      if (r.status === 400) {
        assertRpcError(r, format, `${format} body with invalid UTF-8`);
        continue;
      }
      assert.equal(r.status, 200, describeResponse(r));
      for (const mode of READ_MODES) {
        // readTrace throws if the JSON reply is not valid UTF-8 JSON or not decodable.
        const t = await strand.readTrace(traceId, mode);
        assert.equal(t.status, 200, t.request);
        if (mode.format === 'json') {
          assert.ok(Buffer.from(t.body.toString('utf8'), 'utf8').equals(t.body), `${t.request}: reply is not valid UTF-8`);
        }
        const name = t.spans[0]?.name ?? '';
        assert.ok(name.endsWith(`f8 ${format} 0`) && !name.startsWith('utf8'), `${t.request}: name ${fmt(name)}`);
      }
    }
  });

  test('400 or a rejected span for a trace ID that is not hex', async (t) => {
    const { req, traceId } = smallRequest('not hex', { n: 1 });
    const text = JSON.stringify(req).replace(traceId, 'zz'.repeat(16));
    const r = await strand.postTraces(text, { contentType: JSON_CT });
    t.diagnostic(`non-hex traceId → ${describeResponse(r)}`);
    if (r.status === 400) {
      assertRpcError(r, 'json', 'non-hex traceId');
    } else {
      assert.equal(r.status, 200, describeResponse(r));
      const obj = decodeExportResponse(r, 'json');
      assert.equal(obj.partialSuccess?.rejectedSpans, '1', `non-hex traceId: ${fmt(obj)}`);
    }
  });

  const validProto = body.proto(smallRequest('valid proto', { n: 3 }).req);
  const badProto = {
    'garbage bytes': Buffer.from('this is not a protobuf message at all, just text \xff\xff\xff', 'latin1'),
    'length beyond the end': Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]),
    'wire type 7': Buffer.from([0x7f, 0x00]),
    'field number 0': Buffer.from([0x02, 0x00]),
    'truncated in the middle': validProto.subarray(0, Math.floor(validProto.length / 2)),
    'truncated by one byte': validProto.subarray(0, validProto.length - 1),
    'unterminated varint': Buffer.concat([validProto, Buffer.from([0x78, 0xff, 0xff])]),
  };
  for (const [what, bytes] of Object.entries(badProto)) {
    test(`400 for bad protobuf: ${what}`, async () => {
      assert.throws(() => {
        const m = pb.ExportTraceServiceRequest.decode(bytes);
        // protobufjs does not check for field number 0; flag it by hand.
        if (what.includes('field number 0')) throw new Error(what);
        return m;
      }, 'the test body is really invalid');
      const r = await strand.postTraces(bytes, { contentType: PROTO_CT });
      assertRpcError(r, 'proto', what);
      const g = await grpcClient.export(bytes);
      assert.equal(g.codeName, 'INVALID_ARGUMENT', `gRPC Export of ${what}: ${g.codeName} ${g.details}`);
    });
  }

  test('400 for an unsupported or broken Content-Encoding', async () => {
    const { req } = smallRequest('encoding');
    for (const format of ['json', 'proto']) {
      const raw = body[format](req);
      const cases = [
        ['br', raw],
        ['compress', raw],
        ['lz4', raw],
        ['gzip', raw], // says gzip, is not
        ['zstd', raw],
        ['deflate', raw],
        ['gzip', zlib.gzipSync(raw).subarray(0, 20)], // truncated gzip
      ];
      for (const [encoding, bytes] of cases) {
        const r = await strand.postTraces(bytes, {
          contentType: ctOf[format], headers: { 'content-encoding': encoding },
        });
        assertRpcError(r, format, `${format} body with Content-Encoding ${encoding} (${bytes.length} bytes)`);
      }
    }
    assert.equal((await strand.readTrace(req.resourceSpans[0].scopeSpans[0].spans[0].traceId)).status, 404);
  });

  test('413 for bodies over --max-request-bytes', async (t) => {
    const bigValue = 'y'.repeat(MAX_REQUEST_BYTES + 1024 * 1024);
    const { req, traceId } = smallRequest('too big', { n: 1, attributes: [{ key: 'big', value: str(bigValue) }] });
    for (const format of ['json', 'proto']) {
      const bytes = body[format](req);
      assert.ok(bytes.length > MAX_REQUEST_BYTES);
      const r = await strand.postTraces(bytes, { contentType: ctOf[format] });
      assert.equal(r.status, 413, `${format} body of ${bytes.length} bytes: ${describeResponse(r)}`);
      const c = await strand.postTraces(bytes, { contentType: ctOf[format], headers: { 'transfer-encoding': 'chunked' } });
      assert.equal(c.status, 413, `chunked ${format} body of ${bytes.length} bytes: ${describeResponse(c)}`);
    }
    // Small on the wire, too big once decompressed.
    const bomb = compress(body.proto(req), 'gzip');
    assert.ok(bomb.length < MAX_REQUEST_BYTES / 100);
    const r = await strand.postTraces(bomb, { contentType: PROTO_CT, headers: { 'content-encoding': 'gzip' } });
    t.diagnostic(`gzip bomb → ${r.status}`);
    assert.ok([400, 413].includes(r.status), `gzip body of ${bomb.length} bytes inflating past the limit: ${describeResponse(r)}`);
    const g = await grpcClient.export(body.proto(req));
    assert.equal(g.codeName, 'RESOURCE_EXHAUSTED', `gRPC message over the limit: ${g.codeName} ${g.details}`);
    assert.equal((await strand.readTrace(traceId)).status, 404, 'nothing of the refused requests was stored');
    // A body just under the limit still goes in.
    const fits = smallRequest('just fits', { n: 1, attributes: [{ key: 'big', value: str('z'.repeat(MAX_REQUEST_BYTES - 4096)) }] });
    await sendOk(fits.req, 'proto');
    await assertStored(fits.req);
  });

  test('a keep-alive connection stays usable after refusals (as SDK exporters reuse it)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const steps = [
        ['valid', () => body.proto(smallRequest('keepalive 1').req), PROTO_CT, {}, 200],
        ['415', () => body.json(smallRequest('keepalive x').req), 'text/plain', {}, 415],
        ['405', () => Buffer.from('{}'), JSON_CT, { method: 'PUT' }, 405],
        ['400', () => Buffer.from('{"resourceSpans": ['), JSON_CT, {}, 400],
        ['400 bad encoding', () => Buffer.from('{}'), JSON_CT, { headers: { 'content-encoding': 'br' } }, 400],
        ['valid', () => body.json(smallRequest('keepalive 2').req), JSON_CT, {}, 200],
        ['413', () => body.proto(smallRequest('keepalive big', { n: 1, attributes: [{ key: 'b', value: str('q'.repeat(MAX_REQUEST_BYTES)) }] }).req), PROTO_CT, {}, 413],
        ['valid', () => body.proto(smallRequest('keepalive 3').req), PROTO_CT, {}, 200],
        ['valid', () => body.json(smallRequest('keepalive 4').req), JSON_CT, {}, 200],
      ];
      for (const [what, mk, ct, opts, want] of steps) {
        const r = await strand.postTraces(mk(), { contentType: ct, agent, ...opts });
        assert.equal(r.status, want, `${what} on a kept-alive connection: ${describeResponse(r)}`);
        if (want === 200) assert.ok(!r.truncated);
      }
    } finally {
      agent.destroy();
    }
  });

  // ---- partial success -----------------------------------------------------------------

  const badIds = {
    'trace ID of 0 bytes': { traceId: '' },
    'trace ID of 15 bytes': { traceId: 'ab'.repeat(15) },
    'trace ID of 17 bytes': { traceId: 'ab'.repeat(17) },
    'all-zero trace ID': { traceId: '00'.repeat(16) },
    'span ID of 0 bytes': { spanId: '' },
    'span ID of 7 bytes': { spanId: 'cd'.repeat(7) },
    'span ID of 9 bytes': { spanId: 'cd'.repeat(9) },
    'all-zero span ID': { spanId: '00'.repeat(8) },
  };
  for (const [what, patch] of Object.entries(badIds)) {
    for (const transport of ['json', 'proto', 'grpc']) {
      test(`partial success for a ${what} (${transport}); the valid span is stored`, async () => {
        const { req, traceId } = smallRequest(`${what} ${transport}`, { n: 2 });
        const spans = req.resourceSpans[0].scopeSpans[0].spans;
        const bad = { ...spans[1], ...patch, name: 'the invalid one' };
        if (patch.traceId === '') delete bad.traceId; // absent = empty in OTLP
        if (patch.spanId === '') delete bad.spanId;
        spans[1] = bad;
        let rejected;
        let message;
        if (transport === 'grpc') {
          const g = await grpcClient.export(body.proto(req));
          assert.ok(g.ok, `gRPC Export: ${g.codeName} ${g.details}`);
          rejected = g.response.partialSuccess?.rejectedSpans;
          message = g.response.partialSuccess?.errorMessage;
        } else {
          const r = await strand.postTraces(body[transport](req), { contentType: ctOf[transport] });
          assert.equal(r.status, 200, describeResponse(r));
          assert.ok(String(r.headers['content-type'] ?? '').startsWith(ctOf[transport]),
            `reply content-type ${fmt(r.headers['content-type'])}`);
          const obj = decodeExportResponse(r, transport);
          if (transport === 'json') {
            // int64 in canonical JSON is a string: {"partialSuccess":{"rejectedSpans":"1",...}}
            assert.equal(obj.partialSuccess?.rejectedSpans, '1', `JSON reply ${fmt(obj)}`);
          }
          rejected = obj.partialSuccess?.rejectedSpans;
          message = obj.partialSuccess?.errorMessage;
        }
        assert.equal(String(rejected), '1', `rejected_spans ${fmt(rejected)}`);
        assert.ok(typeof message === 'string' && message.length > 0, `error_message ${fmt(message)}`);
        // Exactly the valid span is there (the bad one shares its trace ID when only its
        // span ID is bad).
        const good = { resourceSpans: [{ ...req.resourceSpans[0], scopeSpans: [{ ...req.resourceSpans[0].scopeSpans[0], spans: [spans[0]] }] }] };
        stored.push(...recordsFromRequest(good));
        await assertStored(good);
        assert.equal(traceId, spans[0].traceId);
      });
    }
  }

  test('partial success counts every invalid span of a request', async () => {
    const { req } = smallRequest('many bad', { n: 3 });
    const spans = req.resourceSpans[0].scopeSpans[0].spans;
    for (const patch of Object.values(badIds)) spans.push({ ...spans[2], ...patch, name: 'bad' });
    for (const format of ['json', 'proto']) {
      const r = await strand.postTraces(body[format](req), { contentType: ctOf[format] });
      assert.equal(r.status, 200, describeResponse(r));
      const obj = decodeExportResponse(r, format);
      assert.equal(String(obj.partialSuccess?.rejectedSpans), String(Object.keys(badIds).length), fmt(obj));
    }
    const good = structuredClone(req);
    good.resourceSpans[0].scopeSpans[0].spans = spans.slice(0, 3);
    stored.push(...recordsFromRequest(good));
    await assertStored(good);
  });

  // ---- big data ------------------------------------------------------------------------

  test('a 1 MiB attribute value is stored and read back', async () => {
    for (const format of ['json', 'proto']) {
      const big = Array.from({ length: 1024 * 1024 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
      const { req } = smallRequest(`huge ${format}`, { n: 1, attributes: [{ key: 'huge', value: str(big) }] });
      await sendOk(req, format);
      const { problems } = await verifyTraces(strand, recordsFromRequest(req), { modes: READ_MODES });
      assert.ok(problems.length === 0, `\n${formatProblems(problems)}`);
    }
  });

  test('a trace of 5000 spans sent in 5 requests comes back whole', async () => {
    const traceId = newTraceId();
    const all = [];
    for (let i = 0; i < 5; i++) {
      const { req } = smallRequest(`bulk ${i}`, { n: 1000, traceId });
      await sendOk(req, i % 2 ? 'json' : 'proto', { encoding: i === 4 ? 'gzip' : undefined });
      all.push(...recordsFromRequest(req));
    }
    const { problems } = await verifyTraces(strand, all, {
      modes: [{ api: 'v2', format: 'proto' }, { api: 'v1', format: 'json' }],
    });
    assert.ok(problems.length === 0, `\n${formatProblems(problems)}`);
  });

  // ---- Tempo API -----------------------------------------------------------------------

  test('GET /api/echo → 200 "echo"; GET /ready → 200', async () => {
    const e = await strand.api('/api/echo');
    assert.equal(e.status, 200);
    assert.equal(e.text().trim(), 'echo');
    assert.equal((await strand.api('/ready')).status, 200);
  });

  test('GET /api/status/buildinfo', async () => {
    const r = await strand.api('/api/status/buildinfo');
    assert.equal(r.status, 200, describeResponse(r));
    assert.ok(String(r.headers['content-type']).startsWith('application/json'), fmt(r.headers['content-type']));
    const info = r.json();
    for (const k of ['version', 'revision', 'branch', 'buildDate', 'buildUser', 'goVersion']) {
      assert.equal(typeof info[k], 'string', `buildinfo.${k} in ${fmt(info)}`);
    }
    assert.match(info.version, /^v?\d+\.\d+\.\d+/, 'a Tempo-compatible semantic version (Grafana parses it)');
  });

  test('unknown trace → 404 on v1 and v2, JSON and protobuf', async () => {
    const id = newTraceId();
    for (const mode of READ_MODES) {
      const r = await strand.readTrace(id, mode);
      assert.equal(r.status, 404, `${r.request}: ${describeResponse(r)}`);
    }
  });

  test('malformed trace IDs → 400', async () => {
    for (const id of ['zz', 'not-a-trace-id', 'g'.repeat(32), '0'.repeat(33), `${newTraceId()}ab`,
      '12345678-1234-1234-1234-123456789012', '%20', '0x1234']) {
      for (const api of ['v1', 'v2']) {
        const r = await strand.readTrace(id, { api });
        assert.equal(r.status, 400, `${r.request}: ${describeResponse(r)}`);
      }
    }
  });

  test('trace IDs shorter than 32 hex digits are left-padded with zeros', async () => {
    const short = newTraceId().slice(16); // a 64-bit ID, as Zipkin or Jaeger would have
    const { req } = smallRequest('short id', { traceId: `${'0'.repeat(16)}${short}` });
    await sendOk(req, 'json');
    const expected = recordsFromRequest(req);
    for (const id of [short, short.toUpperCase(), short.replace(/^0+/, ''), `000${short}`]) {
      for (const mode of READ_MODES) {
        const r = await strand.readTrace(id, mode);
        assert.equal(r.status, 200, `${r.request}: ${describeResponse(r)}`);
        assert.equal(r.spans.length, expected.length, `${r.request}: span count`);
      }
    }
    // An odd number of digits.
    const odd = `${1 + Math.floor(Math.random() * 15)}${newTraceId().slice(0, 4)}`.slice(0, 5).replace(/^0/, '7');
    const o = smallRequest('odd id', { traceId: odd.padStart(32, '0') });
    await sendOk(o.req, 'proto');
    for (const mode of READ_MODES) {
      const r = await strand.readTrace(odd, mode);
      assert.equal(r.status, 200, `${r.request}: ${describeResponse(r)}`);
      assert.equal(r.spans.length, 2, `${r.request}: span count`);
    }
  });

  test('/metrics is Prometheus text and counts received spans', async () => {
    const scrape = async () => {
      const r = await strand.api('/metrics');
      assert.equal(r.status, 200);
      assert.ok(String(r.headers['content-type']).startsWith('text/plain'), fmt(r.headers['content-type']));
      const sums = new Map();
      for (const line of r.text().split('\n')) {
        if (line === '' || line.startsWith('#')) continue;
        const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+-?\d+)?$/);
        assert.ok(m, `not a Prometheus sample line: ${fmt(line)}`);
        const v = Number(m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : m[3]);
        assert.ok(!Number.isNaN(v) || m[3] === 'NaN', `bad value in ${fmt(line)}`);
        sums.set(m[1], (sums.get(m[1]) ?? 0) + v);
      }
      return sums;
    };
    const isSpanCounter = (name) => /span/i.test(name) && /(receiv|accept|ingest)/i.test(name) &&
      !/(byte|refus|reject|fail|drop|error|bucket|_sum$|_count$)/i.test(name);
    const before = await scrape();
    const names = [...before.keys()].filter(isSpanCounter);
    assert.ok(names.length > 0, `no spans-received counter among ${fmt([...before.keys()], 2000)}`);
    const n1 = 7;
    const n2 = 5;
    await sendOk(smallRequest('metrics http', { n: n1 }).req, 'proto');
    const a = smallRequest('metrics grpc', { n: n2 });
    const g = await grpcClient.export(body.proto(a.req));
    assert.ok(g.ok);
    stored.push(...recordsFromRequest(a.req));
    const afterSums = await scrape();
    const increases = names.map((n) => [n, (afterSums.get(n) ?? 0) - (before.get(n) ?? 0)]);
    assert.ok(increases.some(([, d]) => d === n1 + n2),
      `a spans-received counter should grow by ${n1 + n2}; got ${fmt(increases, 2000)}`);
  });

  // ---- still standing ------------------------------------------------------------------

  test('after all the bad input the server is up and every accepted span is intact', async () => {
    assert.equal((await strand.api('/ready')).status, 200);
    assert.ok(strand.isRunning());
    const { problems } = await verifyTraces(strand, stored, { modes: [{ api: 'v2', format: 'proto' }] });
    assert.ok(problems.length === 0, `\n${formatProblems(problems)}`);
  });
});

describe('multi-tenancy (--multitenancy)', () => {
  let strand;
  let grpcClient;
  before(async () => {
    strand = await Strand.start({ name: 'tenants', multitenancy: true });
    grpcClient = new RawGrpcClient(strand.grpcAddress);
  });
  after(async () => {
    grpcClient?.close();
    await strand?.close();
  });

  test('each tenant sees only its own spans', async () => {
    const traceId = newTraceId();
    const a = smallRequest('tenant a', { traceId, n: 2 });
    const b = smallRequest('tenant b', { traceId, n: 3 });
    const ra = await strand.postTraces(body.json(a.req), { contentType: JSON_CT, headers: { 'x-scope-orgid': 'team-a' } });
    assertAccepted(ra, 'json', 'POST as team-a');
    const gb = await grpcClient.export(body.proto(b.req), { metadata: { 'x-scope-orgid': 'team-b' } });
    assert.ok(gb.ok, `gRPC as team-b: ${gb.codeName} ${gb.details}`);

    for (const [tenant, req] of [['team-a', a.req], ['team-b', b.req]]) {
      const { problems } = await verifyTraces(strand, recordsFromRequest(req), {
        headers: { 'x-scope-orgid': tenant },
      });
      assert.ok(problems.length === 0, `tenant ${tenant}:\n${formatProblems(problems)}`);
    }
    const c = await strand.readTrace(traceId, { headers: { 'x-scope-orgid': 'team-c' } });
    assert.equal(c.status, 404, `another tenant: ${describeResponse(c)}`);
    const none = await strand.readTrace(traceId, {});
    assert.equal(none.status, 400, `no X-Scope-OrgID: ${describeResponse(none)}`);
    assert.match(none.body.toString('utf8'), /no org id/i);
  });

  test('writes without a tenant are refused', async (t) => {
    const { req, traceId } = smallRequest('no tenant');
    const r = await strand.postTraces(body.json(req), { contentType: JSON_CT });
    t.diagnostic(`POST without X-Scope-OrgID → ${describeResponse(r)}`);
    assert.ok([400, 401].includes(r.status), `POST without X-Scope-OrgID: ${describeResponse(r)}`);
    const g = await grpcClient.export(body.proto(req));
    assert.ok(['INVALID_ARGUMENT', 'UNAUTHENTICATED', 'PERMISSION_DENIED'].includes(g.codeName),
      `gRPC without x-scope-orgid: ${g.codeName} ${g.details}`);
    for (const tenant of ['any', 'team-a']) {
      const t = await strand.readTrace(traceId, { headers: { 'x-scope-orgid': tenant } });
      assert.equal(t.status, 404, `stored under ${tenant}?`);
    }
  });

  test('invalid tenant IDs are refused', async () => {
    const { req } = smallRequest('bad tenant');
    for (const tenant of ['..', '.', 'a/b', 'x'.repeat(151), 'a b']) {
      const r = await strand.postTraces(body.json(req), { contentType: JSON_CT, headers: { 'x-scope-orgid': tenant } });
      assert.ok(r.status >= 400 && r.status < 500, `POST as tenant ${fmt(tenant)}: ${describeResponse(r)}`);
      const q = await strand.readTrace(newTraceId(), { headers: { 'x-scope-orgid': tenant } });
      assert.ok(q.status === 400 || q.status === 401, `GET as tenant ${fmt(tenant)}: ${describeResponse(q)}`);
    }
  });
});
