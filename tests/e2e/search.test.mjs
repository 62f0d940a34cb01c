// A Grafana user's search flow against Strand, with the requests Grafana's Tempo data source
// sends: tag names by scope, tag values (the tag name encoded twice, with and without a `q`
// filter), a TraceQL search with limit/spss/start/end, then opening a result by trace ID
// (protobuf first, as Grafana asks). The data comes from the real OpenTelemetry JS SDK over
// OTLP/gRPC; every search runs right after the SDK's export was acknowledged (live traces),
// and again after a restart, when shutdown has cut everything into blocks.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { trace, context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';

import { Strand } from './lib/strand.mjs';

const enc = (s) => encodeURIComponent(s);

function provider(strand, service) {
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'e2e' }),
    spanProcessors: [new SimpleSpanProcessor(new GrpcExporter({ url: strand.grpcUrl }))],
  });
}

/** Writes `orders` checkout traces: frontend → checkout → db; order 2 fails with a 503. */
async function writeTraces(strand, orders) {
  const providers = ['frontend', 'checkout', 'db'].map((s) => provider(strand, s));
  const [fe, co, db] = providers.map((p, i) => p.getTracer(`e2e-${i}`, '1.0.0'));
  const base = Date.now() - 60_000;
  const ids = [];
  for (let n = 0; n < orders; n++) {
    const t0 = base + n * 1000;
    const failed = n === 2;
    const root = fe.startSpan('GET /checkout', {
      kind: SpanKind.SERVER, startTime: t0,
      attributes: { 'http.method': 'GET', 'http.route': '/checkout', 'http.status_code': failed ? 503 : 200 },
    });
    const ctx = trace.setSpan(context.active(), root);
    const pay = co.startSpan('place order', { kind: SpanKind.INTERNAL, startTime: t0 + 5,
      attributes: { 'order.id': `o-${n}` } }, ctx);
    const q = db.startSpan('SELECT orders', { kind: SpanKind.CLIENT, startTime: t0 + 10,
      attributes: { 'db.system': 'postgresql' } }, trace.setSpan(ctx, pay));
    q.end(t0 + 20);
    if (failed) pay.setStatus({ code: SpanStatusCode.ERROR, message: 'payment declined' });
    pay.end(t0 + (failed ? 150 : 40));
    if (failed) root.setStatus({ code: SpanStatusCode.ERROR });
    root.end(t0 + (failed ? 160 : 50));
    ids.push(root.spanContext().traceId);
  }
  // forceFlush resolves once every export was acknowledged by Strand.
  await Promise.all(providers.map((p) => p.forceFlush()));
  await Promise.all(providers.map((p) => p.shutdown()));
  return { ids, start: Math.floor(base / 1000) - 60, end: Math.ceil(Date.now() / 1000) + 60 };
}

async function getJson(strand, pathAndQuery) {
  const r = await strand.api(pathAndQuery);
  const body = r.body.toString('utf8');
  assert.equal(r.status, 200, `${pathAndQuery}: ${r.status} ${body}`);
  assert.match(r.headers['content-type'], /application\/json/);
  return JSON.parse(body);
}

/** The Grafana flow; `where` names the state (live / blocks) in messages. */
async function grafanaFlow(strand, data, where) {
  const range = `start=${data.start}&end=${data.end}`;

  // Tag pickers (v2, by scope), as the query builder loads them.
  const tags = await getJson(strand, `/api/v2/search/tags?scope=resource&${range}`);
  assert.deepEqual(tags.scopes.map((s) => s.name), ['resource'], where);
  assert.ok(tags.scopes[0].tags.includes('service.name'), `${where}: ${JSON.stringify(tags)}`);
  const spanTags = await getJson(strand, `/api/v2/search/tags?scope=span&${range}`);
  for (const t of ['http.status_code', 'db.system', 'order.id']) {
    assert.ok(spanTags.scopes[0].tags.includes(t), `${where}: ${t} in ${JSON.stringify(spanTags)}`);
  }
  const all = await getJson(strand, `/api/v2/search/tags?${range}`);
  assert.ok(all.scopes.some((s) => s.name === 'intrinsic' && s.tags.includes('duration')), where);

  // Tag values: Grafana encodes the tag name twice.
  const services = await getJson(strand,
    `/api/v2/search/tag/${enc(enc('resource.service.name'))}/values?${range}`);
  const names = services.tagValues.map((v) => `${v.type}:${v.value}`).sort();
  assert.deepEqual(names, ['string:checkout', 'string:db', 'string:frontend'], where);
  const codes = await getJson(strand, `/api/v2/search/tag/span.http.status_code/values?${range}`);
  assert.deepEqual(codes.tagValues.map((v) => `${v.type}:${v.value}`).sort(), ['int:200', 'int:503'], where);
  // With the query being edited as `q`, only values of matching spans.
  const filtered = await getJson(strand, `/api/v2/search/tag/${enc(enc('resource.service.name'))}/values?q=${
    enc('{span.db.system="postgresql"}')}&${range}`);
  assert.deepEqual(filtered.tagValues, [{ type: 'string', value: 'db' }], where);
  const v1 = await getJson(strand, `/api/search/tag/service.name/values?${range}`);
  assert.deepEqual([...v1.tagValues].sort(), ['checkout', 'db', 'frontend'], where);

  // A TraceQL search as Grafana sends it.
  const q = '{ resource.service.name = "checkout" && status = error && duration > 100ms }';
  const found = await getJson(strand, `/api/search?q=${enc(q)}&limit=20&spss=3&${range}`);
  assert.equal(found.traces.length, 1, `${where}: ${JSON.stringify(found)}`);
  const t = found.traces[0];
  assert.equal(t.traceID, data.ids[2], where);
  assert.equal(t.rootServiceName, 'frontend');
  assert.equal(t.rootTraceName, 'GET /checkout');
  assert.equal(t.durationMs, 160);
  const spans = Object.values(t.serviceStats).reduce((n, st) => n + st.spanCount, 0);
  assert.ok(spans >= 2 && t.serviceStats.checkout.errorCount >= 1, JSON.stringify(t.serviceStats));
  assert.equal(t.spanSets[0].matched, 1);
  assert.equal(t.spanSets[0].spans[0].name, 'place order');
  assert.ok(t.spanSets[0].spans[0].attributes.some((a) => a.key === 'service.name'), where);
  assert.ok(found.metrics && 'inspectedBytes' in found.metrics, where);

  // Newest first, limited; structural; a query error shows the parser's message.
  const newest = await getJson(strand, `/api/search?q=${enc('{ kind = server }')}&limit=3&${range}`);
  assert.deepEqual(newest.traces.map((x) => x.traceID), data.ids.slice(-3).reverse(), where);
  const nested = await getJson(strand, `/api/search?q=${
    enc('{ kind = server } >> { span.db.system = "postgresql" }')}&limit=100&${range}`);
  assert.equal(nested.traces.length, data.ids.length, where);
  const bad = await strand.api(`/api/search?q=${enc('{ .a = }')}`);
  assert.equal(bad.status, 400);
  assert.match(bad.body.toString(), /parse error at line 1, column 8/);

  // Open the result by ID: protobuf first, as Grafana asks.
  const opened = await strand.readTrace(t.traceID, { api: 'v2', format: 'proto', query: range });
  assert.equal(opened.status, 200, where);
  assert.equal(opened.spans.length, 3, where);
}

describe('Grafana search flow', () => {
  let strand;
  let data;
  before(async () => {
    strand = await Strand.start({ name: 'search' });
    data = await writeTraces(strand, 6);
  });
  after(async () => { await strand?.close(); });

  test('searchable as soon as acknowledged (live traces)', async () => {
    await grafanaFlow(strand, data, 'live');
  });

  test('the same answers from blocks after a restart', async () => {
    await strand.stop();  // a clean shutdown cuts every live trace into blocks
    await strand.restart();
    await grafanaFlow(strand, data, 'blocks');
  });
});
