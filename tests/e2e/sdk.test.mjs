// Real OpenTelemetry JS SDKs → Strand → Tempo API, field by field.
//
// For each OTLP exporter (gRPC, HTTP/JSON, HTTP/protobuf) three "services" (one
// BasicTracerProvider each) build traces that use every field the SDK can set. Each
// provider also feeds an InMemorySpanExporter, which captures exactly the ReadableSpans
// handed to the OTLP exporter; after a flush every trace is read back through
// /api/traces/<id> and /api/v2/traces/<id>, as JSON and as protobuf, and compared.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { trace, context, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { TraceState, ExportResultCode } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';

import {
  Strand, READ_MODES, modeName, verifyTraces, formatProblems, readableSpanToRecord,
  newTraceId, newSpanId, sleep,
} from './lib/strand.mjs';

const EXPORTERS = ['grpc', 'http/json', 'http/protobuf'];

/** Wraps an OTLP exporter and records the result of every export call. */
class RecordingExporter {
  constructor(inner) {
    this.inner = inner;
    this.results = [];
  }

  export(spans, resultCallback) {
    this.inner.export(spans, (result) => {
      this.results.push({ code: result.code, error: result.error, spans: spans.length });
      resultCallback(result);
    });
  }

  shutdown() { return this.inner.shutdown(); }

  forceFlush() { return this.inner.forceFlush ? this.inner.forceFlush() : Promise.resolve(); }
}

function makeOtlpExporter(kind, strand, compression) {
  switch (kind) {
    case 'grpc':
      return new GrpcExporter({ url: strand.grpcUrl, compression, timeoutMillis: 15_000 });
    case 'http/json':
      return new HttpJsonExporter({ url: strand.tracesUrl, compression, timeoutMillis: 15_000 });
    case 'http/protobuf':
      return new HttpProtoExporter({ url: strand.tracesUrl, compression, timeoutMillis: 15_000 });
    default:
      throw new Error(kind);
  }
}

/**
 * One service: a provider whose spans go to the OTLP exporter (`batch` → BatchSpanProcessor
 * with small batches, else SimpleSpanProcessor = one request per span) and to memory.
 */
class Service {
  constructor({ kind, strand, name, attributes = {}, schemaUrl, batch = false, compression = 'none',
    spanLimits }) {
    this.kind = kind;
    this.otlp = new RecordingExporter(makeOtlpExporter(kind, strand, compression));
    this.memory = new InMemorySpanExporter();
    const resource = defaultResource().merge(resourceFromAttributes(
      { [ATTR_SERVICE_NAME]: name, ...attributes }, schemaUrl ? { schemaUrl } : undefined));
    this.provider = new BasicTracerProvider({
      resource,
      spanLimits,
      spanProcessors: [
        batch
          ? new BatchSpanProcessor(this.otlp, { maxExportBatchSize: 3, scheduledDelayMillis: 100 })
          : new SimpleSpanProcessor(this.otlp),
        new SimpleSpanProcessor(this.memory),
      ],
    });
  }

  tracer(name, version, schemaUrl) {
    return this.provider.getTracer(name, version, schemaUrl ? { schemaUrl } : undefined);
  }

  /**
   * Flushes, then waits until the OTLP exporter has a result for every span the provider
   * ended (a BatchSpanProcessor's forceFlush does not wait for an export already running).
   */
  async flush() {
    await this.provider.forceFlush();
    const deadline = Date.now() + 30_000;
    while (this.otlp.results.reduce((n, r) => n + r.spans, 0) < this.memory.getFinishedSpans().length) {
      if (Date.now() > deadline) break;
      await sleep(20);
    }
  }

  spans() { return this.memory.getFinishedSpans(); }

  /** What the OTLP exporter sent, as normalized records. */
  records() {
    return this.spans().map((sp) => readableSpanToRecord(sp, { jsonWire: this.kind === 'http/json' }));
  }
}

// Every attribute value type the SDK accepts, with edge values. (No huge doubles: every JS
// number >= 2^53 is an integer, which the JSON exporter sends as intValue.)
const ALL_TYPES = {
  'str': 'hello',
  'str.empty': '',
  'str.unicode': 'héllo wörld ✓ 世界 🚀',
  'str.escapes': 'quote " backslash \\ newline \n tab \t control \u0001 end',
  'ключ': 'значение',
  'bool.true': true,
  'bool.false': false,
  'int.zero': 0,
  'int.positive': 42,
  'int.negative': -17,
  'int.max_safe': Number.MAX_SAFE_INTEGER,
  'int.min_safe': Number.MIN_SAFE_INTEGER,
  'int.2pow62': 2 ** 62,
  'int.neg2pow62': -(2 ** 62),
  'double': 3.14159,
  'double.negative': -0.5,
  'double.third': 1 / 3,
  'double.tiny': 5e-324,
  'double.small': 1.25e-7,
  'array.string': ['a', 'b', '', 'ü'],
  'array.bool': [true, false, true],
  'array.int': [1, -2, 3000000000, 0],
  'array.double': [1.5, -2.25, 1e-10],
  'array.empty': [],
  'http.request.method': 'GET',
  'http.response.status_code': 200,
};

function hrNowMinus(seconds, nanos) {
  return [Math.floor(Date.now() / 1000) - seconds, nanos];
}

const ctxWith = (span) => trace.setSpan(context.active(), span);
/** The context a downstream service sees after propagation: the caller's span, remote. */
const remoteCtx = (span) => trace.setSpanContext(context.active(), { ...span.spanContext(), isRemote: true });

/**
 * Builds the traces for one exporter kind and returns all services. Trace "order" spans
 * frontend → checkout → payments with remote parents; trace "health" continues an incoming
 * W3C context that carries a trace state; five small traces have roots of every kind.
 */
async function produceTraces(kind, strand) {
  const run = `sdk-${kind}`;
  const frontend = new Service({
    kind, strand, name: 'frontend',
    attributes: {
      [ATTR_SERVICE_VERSION]: '1.4.2', 'e2e.run': run, 'deployment.environment.name': 'e2e',
      'host.cores': 2, 'host.load': 0.75, 'feature.enabled': true, 'k8s.labels': ['a', 'b'],
      'zones': [1, 2, 3],
    },
    schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
  });
  const checkout = new Service({
    kind, strand, name: 'checkout', attributes: { 'e2e.run': run }, batch: true,
    compression: 'gzip',
  });
  const payments = new Service({
    kind, strand, name: 'payments', attributes: { 'e2e.run': run }, compression: 'gzip',
    spanLimits: {
      attributeCountLimit: 4, eventCountLimit: 2, linkCountLimit: 1,
      attributePerEventCountLimit: 1, attributePerLinkCountLimit: 1, attributeValueLengthLimit: 8,
    },
  });
  const services = [frontend, checkout, payments];

  const http = frontend.tracer('frontend-http', '2.3.1', 'https://opentelemetry.io/schemas/1.24.0');
  const db = frontend.tracer('frontend-db');
  const core = checkout.tracer('checkout-core', '0.9.0');
  const pay = payments.tracer('payments-worker', '1.0.0');

  // --- trace "order": three services, remote parents, every kind, events, links ---------
  const root = http.startSpan('GET /checkout', {
    kind: SpanKind.SERVER, attributes: ALL_TYPES, startTime: hrNowMinus(5, 123456789),
  });
  root.addEvent('request.received', { 'bytes': 512, 'agent': 'e2e', 'tags': ['x', 'y'], 'ratio': 0.5 },
    hrNowMinus(5, 223456789));
  root.addEvent('no attributes');
  const dbSpan = db.startSpan('SELECT users', { attributes: { 'db.system.name': 'postgresql' } }, ctxWith(root));
  dbSpan.end();
  const client = http.startSpan('POST checkout.PlaceOrder', { kind: SpanKind.CLIENT }, ctxWith(root));
  client.setAttribute('rpc.system', 'grpc');
  client.setAttributes({ 'net.peer.port': 8080, 'retry': false });

  const server = core.startSpan('checkout.PlaceOrder', { kind: SpanKind.SERVER }, remoteCtx(client));
  const validate = core.startSpan('validate cart', { kind: SpanKind.INTERNAL }, ctxWith(server));
  validate.recordException(new Error('cart is stale'));
  validate.setStatus({ code: SpanStatusCode.ERROR, message: 'validation failed: cart is stale' });
  validate.end();
  await checkout.flush(); // a first request from checkout, before the rest of its spans exist
  const producer = core.startSpan('orders publish', {
    kind: SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': 'orders' },
  }, ctxWith(server));
  producer.end();

  const otherTrace = { traceId: newTraceId(), spanId: newSpanId(), traceFlags: TraceFlags.NONE,
    isRemote: true, traceState: new TraceState('vendor=opaque-value,other=1') };
  const consumer = pay.startSpan('orders process', {
    kind: SpanKind.CONSUMER,
    links: [
      { context: producer.spanContext(), attributes: { 'link.kind': 'producer', 'a': 1, 'b': 2 } },
      { context: otherTrace, attributes: { 'link.kind': 'other-trace' } },
      { context: { ...client.spanContext(), isRemote: false } },
    ],
  }, remoteCtx(producer));
  for (let i = 0; i < 10; i++) consumer.setAttribute(`attr.${i}`, i % 2 ? `value number ${i}` : i);
  for (let i = 0; i < 5; i++) {
    consumer.addEvent(`event ${i}`, { 'e.a': i, 'e.b': 'bbbbbbbbbbbb', 'e.c': true }, hrNowMinus(4, 1000 * i + 7));
  }
  consumer.addLink({ context: otherTrace, attributes: { 'x': 'long string value', 'y': 1, 'z': 2 } });
  consumer.setStatus({ code: SpanStatusCode.OK });
  consumer.end();
  server.setStatus({ code: SpanStatusCode.OK });
  server.end();
  client.end();
  root.setStatus({ code: SpanStatusCode.OK });
  root.end(hrNowMinus(1, 999999999));

  // --- trace "health": incoming W3C context with a trace state -------------------------
  const incoming = {
    traceId: newTraceId(), spanId: newSpanId(), traceFlags: TraceFlags.SAMPLED, isRemote: true,
    traceState: new TraceState('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'),
  };
  const health = http.startSpan('GET /health', { kind: SpanKind.SERVER },
    trace.setSpanContext(context.active(), incoming));
  const healthCheck = core.startSpan('health check', {}, remoteCtx(health));
  healthCheck.setStatus({ code: SpanStatusCode.ERROR }); // error without a message
  healthCheck.end();
  health.end();

  // --- one small trace per span kind, from the batching service ------------------------
  const kinds = [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER];
  kinds.forEach((k, i) => {
    const start = hrNowMinus(3, 100 + i);
    const r = core.startSpan(`kind root ${i}`, { kind: k, startTime: start, attributes: { 'i': i } });
    const c = core.startSpan(`kind child ${i}`, { kind: kinds[(i + 1) % kinds.length] }, ctxWith(r));
    c.addEvent('child event', { 'n': i * 1.5 });
    if (i === 1) c.setStatus({ code: SpanStatusCode.OK });
    if (i === 2) c.setStatus({ code: SpanStatusCode.ERROR, message: `failure ${i}` });
    c.end();
    r.end(hrNowMinus(2, 900 + i));
  });

  await Promise.all(services.map((s) => s.flush()));
  return services;
}

describe('OpenTelemetry JS SDK exporters', () => {
  let strand;
  before(async () => { strand = await Strand.start({ name: 'sdk' }); });
  after(async () => { await strand?.close(); });

  const allExpected = [];

  for (const kind of EXPORTERS) {
    test(`${kind} exporter: every SDK field reads back identically`, async (t) => {
      const services = await produceTraces(kind, strand);
      try {
        const results = services.flatMap((s) => s.otlp.results);
        const spans = services.flatMap((s) => s.spans());
        const expected = services.flatMap((s) => s.records());
        allExpected.push(...expected);

        await t.test('every export succeeded', () => {
          const failed = results.filter((r) => r.code !== ExportResultCode.SUCCESS);
          assert.deepEqual(failed.map((r) => String(r.error?.message ?? r.error)), [],
            `${failed.length} of ${results.length} exports failed`);
          assert.equal(results.reduce((n, r) => n + r.spans, 0), spans.length,
            'the OTLP exporter sent every span the in-memory exporter saw');
          assert.ok(results.length >= 10, `spans went out in several requests (${results.length})`);
        });

        await t.test('the SDK produced what the test meant to cover', () => {
          const consumer = expected.find((s) => s.name === 'orders process');
          assert.equal(consumer.droppedAttributesCount, 6);
          assert.equal(consumer.droppedEventsCount, 3);
          assert.equal(consumer.droppedLinksCount, 3);
          assert.ok(consumer.events.every((e) => e.droppedAttributesCount === 2));
          assert.ok(consumer.links.some((l) => l.droppedAttributesCount === 2));
          assert.equal(new Set(expected.map((s) => s.kind)).size, 5);
          assert.ok(expected.some((s) => s.traceState !== ''));
          assert.ok(expected.some((s) => s.flags === 0x301), 'a span with a remote parent');
          assert.equal(new Set(expected.map((s) => s.traceId)).size, 7);
        });

        for (const mode of READ_MODES) {
          await t.test(`read back via ${modeName(mode)}`, async () => {
            const { problems } = await verifyTraces(strand, expected, { modes: [mode] });
            assert.ok(problems.length === 0, `\n${formatProblems(problems)}`);
          });
        }

        await t.test('read back with start/end covering the trace (as Grafana asks)', async () => {
          const startS = Math.floor(Date.now() / 1000) - 3600;
          const endS = Math.floor(Date.now() / 1000) + 3600;
          const { problems } = await verifyTraces(strand, expected, {
            modes: [{ api: 'v2', format: 'proto' }, { api: 'v1', format: 'json' }],
            query: `start=${startS}&end=${endS}`,
          });
          assert.ok(problems.length === 0, `\n${formatProblems(problems)}`);
        });

        await t.test('JSON responses are canonical protobuf JSON', async () => {
          const { issues } = await verifyTraces(strand, expected, {
            modes: READ_MODES.filter((m) => m.format === 'json'),
          });
          assert.ok(issues.length === 0, `\n${formatProblems(issues)}`);
        });
      } finally {
        await Promise.all(services.map((s) => s.provider.shutdown()));
      }
    });
  }

  test('one trace through all three exporters comes back whole', async () => {
    const services = EXPORTERS.map((kind, i) => new Service({
      kind, strand, name: `mixed-${i}`, attributes: { 'exporter': kind }, batch: i === 1,
      compression: i === 2 ? 'gzip' : 'none',
    }));
    try {
      const tracers = services.map((s, i) => s.tracer(`mixed-scope-${i}`, `${i}.0.0`));
      const root = tracers[0].startSpan('mixed root', { kind: SpanKind.SERVER });
      let parent = root;
      for (let hop = 0; hop < 9; hop++) {
        const tr = tracers[(hop + 1) % 3];
        const s = tr.startSpan(`hop ${hop}`, { kind: SpanKind.SERVER, attributes: { hop } }, remoteCtx(parent));
        s.addEvent(`event of hop ${hop}`);
        s.end();
        if (hop % 3 === 0) await Promise.all(services.map((x) => x.flush()));
        parent = s;
      }
      root.end();
      await Promise.all(services.map((s) => s.flush()));
      const failed = services.flatMap((s) => s.otlp.results).filter((r) => r.code !== ExportResultCode.SUCCESS);
      assert.equal(failed.length, 0, `exports failed: ${failed.map((r) => r.error?.message)}`);
      const expected = services.flatMap((s) => s.records());
      assert.equal(expected.length, 10);
      allExpected.push(...expected);
      const { problems } = await verifyTraces(strand, expected);
      assert.ok(problems.length === 0, `\n${formatProblems(problems)}`);
    } finally {
      await Promise.all(services.map((s) => s.provider.shutdown()));
    }
  });

  test('after a clean restart every trace still reads back identically', async () => {
    assert.ok(allExpected.length > 0);
    await strand.stop();
    await strand.restart();
    const { problems } = await verifyTraces(strand, allExpected, {
      modes: [{ api: 'v2', format: 'proto' }, { api: 'v1', format: 'json' }],
    });
    assert.ok(problems.length === 0, `\n${formatProblems(problems)}`);
  });
});
