// Hand-built OTLP requests for what no SDK produces — kvlist and bytes values, nested
// arrays, schema URLs, scope attributes, span and link flags, edge values — sent as OTLP/JSON,
// OTLP/protobuf over HTTP and over gRPC, then read back through every Tempo API form.
// Also: duplicate spans, uppercase hex IDs, 64-bit ints as numbers, unknown fields.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  Strand, RawGrpcClient, READ_MODES, verifyTraces, formatProblems, recordsFromRequest,
  otlpJsonToProtobuf, otlpJsonToMessage, newTraceId, newSpanId, nowNanos, pb, protobuf,
  responseBody,
} from './lib/strand.mjs';

const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const str = (v) => ({ stringValue: v });
const int = (v) => ({ intValue: String(v) });
const dbl = (v) => ({ doubleValue: v });
const bool = (v) => ({ boolValue: v });
const bytes = (v) => ({ bytesValue: b64(v) });
const arr = (...values) => ({ arrayValue: { values } });
const kvl = (obj) => ({ kvlistValue: { values: kvs(obj) } });
function kvs(obj) { return Object.entries(obj).map(([key, value]) => ({ key, value })); }

/** A request that uses every field of the OTLP trace model, for one new trace. */
function fullRequest(label) {
  const traceId = newTraceId();
  const [root, child, grandchild, sibling] = [newSpanId(), newSpanId(), newSpanId(), newSpanId()];
  const otherTrace = newTraceId();
  const otherSpan = newSpanId();
  const t0 = BigInt(nowNanos(-10_000));
  const t = (ms) => (t0 + BigInt(ms) * 1_000_000n + 123n).toString();

  const everyValue = kvs({
    'str': str('plain'),
    'str.empty': str(''),
    'str.unicode': str('ünïcödé ✓ 世界 🚀'),
    'bool.true': bool(true),
    'bool.false': bool(false),
    'int.zero': int(0),
    'int.negative': int(-42),
    'int64.max': int('9223372036854775807'),
    'int64.min': int('-9223372036854775808'),
    'double': dbl(-1.0e-5),
    'double.zero': dbl(0),
    'double.integral': dbl(5), // a double that happens to be integral stays a double
    'double.max': dbl(1.7976931348623157e308),
    'double.third': dbl(1 / 3),
    'bytes': bytes([0, 1, 2, 127, 128, 254, 255]),
    'bytes.text': bytes(Buffer.from('not really text \u0000')),
    'kvlist': kvl({
      'a': str('x'),
      'b': int(7),
      'nested': kvl({
        'deep': arr(bool(true), kvl({ 'deeper': dbl(2.5) }), arr(int(1))),
        'bytes': bytes([9, 9]),
      }),
    }),
    'array.nested': arr(arr(int(1), int(2)), arr(str('a')), arr(arr(bool(false)))),
    'array.mixed': arr(str('s'), int(1), dbl(1.5), bool(false), bytes([0, 1]), kvl({ 'k': str('v') })),
    'array.strings': arr(str('a'), str('b')),
    'array.bytes': arr(bytes([1]), bytes([2, 3])),
  });

  return {
    traceId,
    req: {
      resourceSpans: [
        {
          resource: {
            attributes: kvs({
              'service.name': str(`raw-${label}`),
              'host.labels': kvl({ 'rack': str('r1'), 'slot': int(3) }),
              'host.id.bytes': bytes([0xde, 0xad, 0xbe, 0xef]),
              'zones': arr(arr(str('eu-1'), str('eu-2')), arr(str('us-1'))),
            }),
            droppedAttributesCount: 3,
          },
          schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
          scopeSpans: [
            {
              scope: {
                name: 'raw-scope',
                version: '9.9.9',
                attributes: kvs({ 'scope.attr': str('s'), 'scope.kv': kvl({ 'n': int(1) }) }),
                droppedAttributesCount: 2,
              },
              schemaUrl: 'https://opentelemetry.io/schemas/1.22.0',
              spans: [
                {
                  traceId, spanId: root, traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
                  flags: 0x301, name: `root ${label}`, kind: 2, // SERVER
                  startTimeUnixNano: t(0), endTimeUnixNano: t(900),
                  attributes: everyValue, droppedAttributesCount: 4,
                  events: [
                    {
                      timeUnixNano: t(10), name: 'event with values',
                      attributes: kvs({ 'e.bytes': bytes([1, 2]), 'e.kv': kvl({ 'x': bool(true) }) }),
                      droppedAttributesCount: 1,
                    },
                    { timeUnixNano: t(20), name: 'bare event' },
                    { timeUnixNano: t(30), name: '' },
                  ],
                  droppedEventsCount: 5,
                  links: [
                    {
                      traceId: otherTrace, spanId: otherSpan, traceState: 'a=b',
                      attributes: kvs({ 'link.kv': kvl({ 'why': str('follows') }), 'link.n': int(2) }),
                      droppedAttributesCount: 2, flags: 0x101,
                    },
                    { traceId, spanId: sibling, flags: 0x300 },
                    { traceId: otherTrace, spanId: newSpanId() },
                  ],
                  droppedLinksCount: 6,
                  status: { code: 2, message: 'boom: it failed' },
                },
                {
                  traceId, spanId: child, parentSpanId: root, flags: 1, name: 'child client',
                  kind: 3, startTimeUnixNano: t(100), endTimeUnixNano: t(400),
                  status: { code: 1 },
                },
              ],
            },
            {
              scope: { name: 'second-scope' },
              spans: [
                {
                  traceId, spanId: grandchild, parentSpanId: child, name: 'grandchild producer',
                  kind: 4, startTimeUnixNano: t(150), endTimeUnixNano: t(160),
                },
              ],
            },
          ],
        },
        {
          resource: { attributes: kvs({ 'service.name': str(`raw-${label}-peer`) }) },
          scopeSpans: [
            {
              // no scope at all
              spans: [
                {
                  traceId, spanId: sibling, parentSpanId: root, name: 'sibling consumer', kind: 5,
                  startTimeUnixNano: t(200), endTimeUnixNano: t(200), flags: 0,
                  status: { code: 0, message: '' },
                },
                {
                  traceId, spanId: newSpanId(), parentSpanId: sibling, name: 'unspecified kind',
                  kind: 0, startTimeUnixNano: t(210), endTimeUnixNano: t(220),
                },
                {
                  traceId, spanId: newSpanId(), parentSpanId: sibling, name: 'internal kind',
                  kind: 1, startTimeUnixNano: t(230), endTimeUnixNano: t(240),
                },
              ],
            },
          ],
        },
      ],
    },
  };
}

/** One span per edge value, each named after its case. */
function edgeRequest() {
  const traceId = newTraceId();
  const cases = {
    'empty string': str(''),
    'empty bytes': { bytesValue: '' },
    'empty array': { arrayValue: {} },
    'empty kvlist': { kvlistValue: {} },
    'AnyValue without a value': {},
    'array holding an empty AnyValue': arr({}, str('x')),
    'int64 max': int('9223372036854775807'),
    'int64 min': int('-9223372036854775808'),
    'double negative zero': dbl(-0),
    'double smallest subnormal': dbl(5e-324),
    'double max': dbl(1.7976931348623157e308),
    'double 0.1': dbl(0.1),
    'double 1e21': dbl(1e21),
    'double -1.5e-300': dbl(-1.5e-300),
    'long key': str('value of a long key'),
    'string with every escape': str('"\\/\b\f\n\r\t \u0000 \u001f \u007f \u2028 \ud83d\ude80'),
    'string of 64 KiB': str('x'.repeat(64 * 1024)),
    'deep nesting': [...Array(10)].reduce((v) => arr(kvl({ 'd': v })), str('bottom')),
  };
  const t0 = BigInt(nowNanos(-5000));
  const spans = Object.entries(cases).map(([name, value], i) => ({
    traceId, spanId: newSpanId(), name, kind: 1,
    startTimeUnixNano: (t0 + BigInt(i)).toString(), endTimeUnixNano: (t0 + BigInt(i) + 1000n).toString(),
    attributes: [{ key: name === 'long key' ? 'k'.repeat(2000) : 'v', value }],
  }));
  return { traceId, req: { resourceSpans: [{ resource: { attributes: kvs({ 'service.name': str('raw-edge') }) }, scopeSpans: [{ spans }] }] } };
}

/** Doubles that JSON numbers cannot carry, in a request sent as protobuf. */
function nonFiniteRequest() {
  const traceId = newTraceId();
  const t0 = nowNanos(-4000);
  const spans = [['NaN', NaN], ['+Infinity', Infinity], ['-Infinity', -Infinity]].map(([name, v]) => ({
    traceId, spanId: newSpanId(), name, startTimeUnixNano: t0, endTimeUnixNano: t0,
    attributes: [{ key: 'v', value: { doubleValue: v } }],
  }));
  return { traceId, req: { resourceSpans: [{ resource: {}, scopeSpans: [{ spans }] }] } };
}

/**
 * JSON.stringify, except that -0 stays negative zero (JSON.stringify writes it as 0). It is
 * written -0.0: Strand's JSON parser reads the integer-looking literal `-0` as integer 0,
 * so a doubleValue of `-0` arrives as +0 (a documented limitation, see json_decoder.h).
 */
function toJsonText(req) {
  return JSON.stringify(req, (k, v) => (Object.is(v, -0) ? '@@-0@@' : v)).replaceAll('"@@-0@@"', '-0.0');
}

async function expectOk(r, what) {
  assert.equal(r.status, 200, `${what}: status ${r.status}, body ${r.body.subarray(0, 300)}`);
  const body = responseBody(r);
  const ct = String(r.headers['content-type'] ?? '');
  if (ct.startsWith('application/json')) {
    const obj = body.length ? JSON.parse(body.toString('utf8')) : {};
    const rejected = obj.partialSuccess?.rejectedSpans;
    assert.ok(rejected === undefined || rejected === '0' || rejected === 0,
      `${what}: unexpected partial success ${body}`);
  } else {
    const obj = pb.ExportTraceServiceResponse.decode(body);
    assert.ok(!obj.partialSuccess || Number(obj.partialSuccess.rejectedSpans) === 0,
      `${what}: unexpected partial success ${JSON.stringify(obj)}`);
  }
}

async function assertReadsBack(strand, expected, { canonical = true } = {}) {
  const { problems, issues } = await verifyTraces(strand, expected, { modes: READ_MODES });
  assert.ok(problems.length === 0, `\n${formatProblems(problems)}`);
  if (canonical) assert.ok(issues.length === 0, `non-canonical JSON:\n${formatProblems(issues)}`);
}

describe('raw OTLP requests', () => {
  let strand;
  let grpcClient;
  before(async () => {
    strand = await Strand.start({ name: 'raw' });
    grpcClient = new RawGrpcClient(strand.grpcAddress);
  });
  after(async () => {
    grpcClient?.close();
    await strand?.close();
  });

  const sent = []; // every expected record, re-checked at the end

  const transports = {
    'OTLP/JSON over HTTP': async (req) => expectOk(await strand.postJson(toJsonText(req)), 'POST json'),
    'OTLP/protobuf over HTTP': async (req) => expectOk(await strand.postProto(otlpJsonToProtobuf(req)), 'POST protobuf'),
    'OTLP/protobuf over gRPC': async (req) => {
      const r = await grpcClient.export(otlpJsonToProtobuf(req));
      assert.ok(r.ok, `gRPC Export: ${r.codeName} ${r.details}`);
      assert.ok(!r.response.partialSuccess || Number(r.response.partialSuccess.rejectedSpans) === 0,
        `gRPC Export: unexpected partial success ${JSON.stringify(r.response)}`);
    },
  };

  for (const [transport, send] of Object.entries(transports)) {
    test(`every OTLP field survives: ${transport}`, async () => {
      const { req } = fullRequest(transport.split(' ')[0]);
      await send(req);
      const expected = recordsFromRequest(req);
      assert.equal(expected.length, 6);
      sent.push(...expected);
      await assertReadsBack(strand, expected);
    });
  }

  for (const transport of ['OTLP/JSON over HTTP', 'OTLP/protobuf over HTTP']) {
    test(`edge values survive: ${transport}`, async () => {
      const { req } = edgeRequest();
      await transports[transport](req);
      const expected = recordsFromRequest(req);
      sent.push(...expected);
      await assertReadsBack(strand, expected);
    });
  }

  test('NaN and ±Infinity doubles survive (protobuf in; "NaN"/"Infinity" strings in JSON out)', async () => {
    const { req } = nonFiniteRequest();
    await transports['OTLP/protobuf over HTTP'](req);
    const expected = recordsFromRequest(req);
    sent.push(...expected);
    await assertReadsBack(strand, expected);
  });

  test('NaN and ±Infinity doubles as JSON strings are accepted', async () => {
    const { req } = nonFiniteRequest();
    const text = JSON.stringify(req, (k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
    assert.match(text, /"doubleValue":"NaN"/);
    await expectOk(await strand.postJson(text), 'POST json');
    const expected = recordsFromRequest(req);
    sent.push(...expected);
    await assertReadsBack(strand, expected);
  });

  test('a span sent twice (or more) appears once', async () => {
    const traceId = newTraceId();
    const t0 = nowNanos(-3000);
    const mk = (name) => ({
      traceId, spanId: newSpanId(), name, startTimeUnixNano: t0, endTimeUnixNano: t0,
      attributes: kvs({ 'n': str(name) }),
    });
    const [a, b, c] = [mk('a'), mk('b'), mk('c')];
    const wrap = (...spans) => ({
      resourceSpans: [{ resource: { attributes: kvs({ 'service.name': str('raw-dup') }) }, scopeSpans: [{ scope: { name: 'dup' }, spans }] }],
    });
    await expectOk(await strand.postJson(wrap(a, b)), 'first');
    await expectOk(await strand.postJson(wrap(a, b)), 'same request again (JSON)');
    await expectOk(await strand.postProto(otlpJsonToProtobuf(wrap(a, b))), 'same request as protobuf');
    await expectOk(await strand.postProto(otlpJsonToProtobuf(wrap(a, b)), { encoding: 'gzip' }), 'same request, gzip');
    await expectOk(await strand.postJson(wrap(b, c)), 'overlapping request');
    const r = await grpcClient.export(otlpJsonToProtobuf(wrap(c, a)));
    assert.ok(r.ok, `gRPC ${r.codeName} ${r.details}`);
    const expected = recordsFromRequest(wrap(a, b, c));
    sent.push(...expected);
    await assertReadsBack(strand, expected);
  });

  test('uppercase hex IDs in OTLP/JSON', async () => {
    const { req } = fullRequest('upper');
    const text = JSON.stringify(req, (k, v) =>
      (['traceId', 'spanId', 'parentSpanId'].includes(k) && typeof v === 'string' ? v.toUpperCase() : v));
    assert.match(text, /"traceId":"[0-9A-F]{32}"/);
    await expectOk(await strand.postJson(text), 'POST json');
    const expected = recordsFromRequest(req); // IDs compare as lowercase hex
    sent.push(...expected);
    await assertReadsBack(strand, expected);
    const r = await strand.readTrace(expected[0].traceId.toUpperCase(), { api: 'v2' });
    assert.equal(r.status, 200, 'trace by uppercase ID');
  });

  test('64-bit integers as JSON numbers and as strings, exactly', async () => {
    const traceId = newTraceId();
    const start = BigInt(nowNanos(-2000));
    // Placeholders become bare JSON numbers in the text, so no double rounding happens here.
    const bare = (s) => `@@${s}@@`;
    const spans = [
      {
        traceId, spanId: newSpanId(), name: 'numbers',
        startTimeUnixNano: bare((start + 1n).toString()), endTimeUnixNano: bare((start + 987654321n).toString()),
        attributes: kvs({
          'int.small': { intValue: bare('42') },
          'int.2pow53plus1': { intValue: bare('9007199254740993') },
          'int64.max': { intValue: bare('9223372036854775807') },
          'int64.min': { intValue: bare('-9223372036854775808') },
        }),
        events: [{ timeUnixNano: bare((start + 5n).toString()), name: 'e' }],
      },
      {
        traceId, spanId: newSpanId(), name: 'strings',
        startTimeUnixNano: (start + 3n).toString(), endTimeUnixNano: (start + 4n).toString(),
        attributes: kvs({ 'int.2pow53plus1': int('9007199254740993'), 'int.negative': int('-1') }),
      },
    ];
    const req = { resourceSpans: [{ resource: { attributes: kvs({ 'service.name': str('raw-ints') }) }, scopeSpans: [{ spans }] }] };
    const text = JSON.stringify(req).replace(/"@@(-?\d+)@@"/g, '$1');
    assert.match(text, /"intValue":9007199254740993\b/);
    await expectOk(await strand.postJson(text), 'POST json');
    const expected = recordsFromRequest(JSON.parse(JSON.stringify(req).replace(/@@(-?\d+)@@/g, '$1')));
    sent.push(...expected);
    await assertReadsBack(strand, expected);
  });

  test('unknown JSON fields are ignored at every level', async () => {
    const { req } = fullRequest('unknown-json');
    const junk = { nested: [{ a: 1 }, null, 'x'], n: 1.5 };
    const withJunk = structuredClone(req);
    withJunk.futureTopLevel = junk;
    const rs = withJunk.resourceSpans[0];
    rs.futureResourceSpans = [1, 2, 3];
    rs.resource.futureResource = null;
    rs.scopeSpans[0].futureScopeSpans = 'x';
    rs.scopeSpans[0].scope.futureScope = { deep: { deeper: true } };
    const span = rs.scopeSpans[0].spans[0];
    span.futureSpan = junk;
    span.events[0].futureEvent = 7;
    span.links[0].futureLink = [];
    span.status.futureStatus = false;
    span.attributes[0].futureKeyValue = 'x';
    await expectOk(await strand.postJson(withJunk), 'POST json');
    const expected = recordsFromRequest(req);
    sent.push(...expected);
    await assertReadsBack(strand, expected);
  });

  test('unknown protobuf fields are ignored', async () => {
    const { req } = fullRequest('unknown-proto');
    const msg = otlpJsonToMessage(req);
    // Re-encode the first ResourceSpans' first span with extra fields 50 (varint) and 51
    // (bytes), and the request with an extra field 99 (fixed64).
    const spanMsg = msg.resourceSpans[0].scopeSpans[0].spans[0];
    const spanBytes = Buffer.concat([
      Buffer.from(pb.Span.encode(spanMsg).finish()),
      Buffer.from(protobuf.Writer.create().uint32((50 << 3) | 0).uint64(12345)
        .uint32((51 << 3) | 2).bytes(Buffer.from('future')).finish()),
    ]);
    msg.resourceSpans[0].scopeSpans[0].spans.splice(0, 1);
    const ssMsg = msg.resourceSpans[0].scopeSpans[0];
    const ssBytes = Buffer.concat([
      Buffer.from(pb.ScopeSpans.encode(ssMsg).finish()),
      Buffer.from(protobuf.Writer.create().uint32((2 << 3) | 2).bytes(spanBytes).finish()),
    ]);
    msg.resourceSpans[0].scopeSpans.splice(0, 1);
    // scopeSpans order changes on the wire; the span set is the same.
    const rsBytes = Buffer.concat([
      Buffer.from(pb.ResourceSpans.encode(msg.resourceSpans[0]).finish()),
      Buffer.from(protobuf.Writer.create().uint32((2 << 3) | 2).bytes(ssBytes).finish()),
    ]);
    msg.resourceSpans.splice(0, 1);
    const body = Buffer.concat([
      Buffer.from(protobuf.Writer.create().uint32((1 << 3) | 2).bytes(rsBytes).finish()),
      Buffer.from(pb.ExportTraceServiceRequest.encode(msg).finish()),
      Buffer.from(protobuf.Writer.create().uint32((99 << 3) | 1).fixed64(1).finish()),
    ]);
    // Our own decoder agrees the body carries the same spans.
    const check = pb.ExportTraceServiceRequest.decode(body);
    assert.equal(check.resourceSpans.reduce((n, rs2) => n + rs2.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0), 0), 6);
    await expectOk(await strand.postProto(body), 'POST protobuf');
    const expected = recordsFromRequest(req);
    sent.push(...expected);
    await assertReadsBack(strand, expected);
  });

  test('JSON forms the Collector also accepts: enum names, snake_case keys, numeric strings', async () => {
    const traceId = newTraceId();
    const [a, b] = [newSpanId(), newSpanId()];
    const t0 = BigInt(nowNanos(-1000));
    const text = JSON.stringify({
      resource_spans: [{
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'raw-lenient' } }], dropped_attributes_count: '2' },
        schema_url: 'https://example.com/s',
        scope_spans: [{
          scope: { name: 'lenient', version: '1' },
          spans: [
            {
              trace_id: traceId, span_id: a, name: 'snake', kind: 'SPAN_KIND_CLIENT',
              start_time_unix_nano: (t0 + 1n).toString(), end_time_unix_nano: (t0 + 2n).toString(),
              attributes: [{ key: 'double.integral', value: { double_value: 5 } }, { key: 'i', value: { int_value: 5 } }],
              status: { code: 'STATUS_CODE_ERROR', message: 'named enum' },
              dropped_attributes_count: 1,
            },
            {
              traceId, spanId: b, parentSpanId: a, name: 'camel with enum names', kind: 'SPAN_KIND_SERVER',
              startTimeUnixNano: (t0 + 3n).toString(), endTimeUnixNano: (t0 + 4n).toString(),
              status: { code: 'STATUS_CODE_OK' }, droppedEventsCount: '3',
            },
          ],
        }],
      }],
    });
    await expectOk(await strand.postJson(text), 'POST json');
    const expected = recordsFromRequest({
      resourceSpans: [{
        resource: { attributes: kvs({ 'service.name': str('raw-lenient') }), droppedAttributesCount: 2 },
        schemaUrl: 'https://example.com/s',
        scopeSpans: [{
          scope: { name: 'lenient', version: '1' },
          spans: [
            {
              traceId, spanId: a, name: 'snake', kind: 3, startTimeUnixNano: (t0 + 1n).toString(),
              endTimeUnixNano: (t0 + 2n).toString(),
              attributes: kvs({ 'double.integral': dbl(5), 'i': int(5) }),
              status: { code: 2, message: 'named enum' }, droppedAttributesCount: 1,
            },
            {
              traceId, spanId: b, parentSpanId: a, name: 'camel with enum names', kind: 2,
              startTimeUnixNano: (t0 + 3n).toString(), endTimeUnixNano: (t0 + 4n).toString(),
              status: { code: 1 }, droppedEventsCount: 3,
            },
          ],
        }],
      }],
    });
    sent.push(...expected);
    await assertReadsBack(strand, expected);
  });

  test('all of the above still reads back after a clean restart', async () => {
    assert.ok(sent.length > 30);
    await strand.stop();
    await strand.restart();
    grpcClient.close();
    grpcClient = new RawGrpcClient(strand.grpcAddress);
    const { problems } = await verifyTraces(strand, sent, {
      modes: [{ api: 'v2', format: 'proto' }, { api: 'v1', format: 'json' }],
    });
    assert.ok(problems.length === 0, `\n${formatProblems(problems)}`);
  });
});
