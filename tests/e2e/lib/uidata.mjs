// Data for the UI tests, made with the real OpenTelemetry JS SDK and sent over OTLP/HTTP
// protobuf: a small shop (frontend → cart → redis, frontend → checkout → payments) whose
// payments fail now and then, and one trace of exactly 10,000 spans.
//
//   const shop = await loadShop(strand, { traces: 12 });   // { traceIds, errorTraceIds, ... }
//   const big = await loadBigTrace(strand, 10_000);        // { traceId, spans }
//
// Times are explicit, a few minutes in the past, so durations are known to the test.

import { trace, context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';

function provider(strand, service, extra = {}) {
  const exporter = new OTLPTraceExporter({ url: strand.tracesUrl, timeoutMillis: 30_000 });
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment.name': 'ui-e2e', ...extra }),
    spanProcessors: [new BatchSpanProcessor(exporter, {
      maxExportBatchSize: 2000, maxQueueSize: 50_000, scheduledDelayMillis: 50,
    })],
  });
}

const ctxOf = (span) => trace.setSpan(context.active(), span);
const remote = (span) => trace.setSpanContext(context.active(), { ...span.spanContext(), isRemote: true });

/**
 * Sends `traces` shop traces; trace i starts (traces - i) * 7 s before `baseMs`. Every
 * fourth trace has a payments error. Resolves once every provider has flushed.
 */
export async function loadShop(strand, { traces = 12, baseMs = Date.now() - 120_000 } = {}) {
  const p = {
    frontend: provider(strand, 'frontend', { 'service.version': '1.4.2' }),
    cart: provider(strand, 'cart'),
    checkout: provider(strand, 'checkout'),
    payments: provider(strand, 'payments'),
  };
  const t = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.getTracer(`${k}-tracer`, '1.0.0')]));
  const traceIds = [];
  const errorTraceIds = [];
  const rootSpanIds = [];
  for (let i = 0; i < traces; i++) {
    const t0 = baseMs - (traces - i) * 7000;
    const failed = i % 4 === 3;
    const slow = 40 * (i % 5); // extra ms on payments: durations differ between traces
    const root = t.frontend.startSpan('GET /checkout', {
      kind: SpanKind.SERVER, startTime: t0,
      attributes: { 'http.request.method': 'GET', 'http.route': '/checkout', 'http.response.status_code': failed ? 500 : 200, 'user.id': `u${i}` },
    });
    root.addEvent('request.received', { 'bytes': 512 }, t0 + 1);
    // frontend → cart → redis
    const cc = t.frontend.startSpan('POST /cart', { kind: SpanKind.CLIENT, startTime: t0 + 2 }, ctxOf(root));
    const cs = t.cart.startSpan('cart.Get', { kind: SpanKind.SERVER, startTime: t0 + 3 }, remote(cc));
    const redis = t.cart.startSpan('redis GET', { kind: SpanKind.CLIENT, startTime: t0 + 4, attributes: { 'db.system.name': 'redis' } }, ctxOf(cs));
    redis.end(t0 + 9);
    cs.end(t0 + 11);
    cc.end(t0 + 12);
    // frontend → checkout → payments
    const kc = t.frontend.startSpan('POST /place-order', { kind: SpanKind.CLIENT, startTime: t0 + 13 }, ctxOf(root));
    const ks = t.checkout.startSpan('checkout.PlaceOrder', { kind: SpanKind.SERVER, startTime: t0 + 14 }, remote(kc));
    const validate = t.checkout.startSpan('validate cart', { startTime: t0 + 15 }, ctxOf(ks));
    validate.end(t0 + 20);
    const pc = t.checkout.startSpan('POST /charge', { kind: SpanKind.CLIENT, startTime: t0 + 21 }, ctxOf(ks));
    const ps = t.payments.startSpan('payments.Charge', {
      kind: SpanKind.SERVER, startTime: t0 + 22, attributes: { 'payment.amount': 42.5 + i, 'payment.currency': 'EUR' },
    }, remote(pc));
    if (failed) {
      ps.addEvent('exception', { 'exception.type': 'CardDeclined', 'exception.message': 'card declined' }, t0 + 60);
      ps.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
      pc.setStatus({ code: SpanStatusCode.ERROR });
    }
    ps.end(t0 + 80 + slow);
    pc.end(t0 + 81 + slow);
    // A span linked to the cart call, to show links.
    const audit = t.checkout.startSpan('audit', { startTime: t0 + 82 + slow, links: [{ context: cs.spanContext(), attributes: { 'link.kind': 'cause' } }] }, ctxOf(ks));
    audit.end(t0 + 85 + slow);
    ks.end(t0 + 86 + slow);
    kc.end(t0 + 87 + slow);
    if (failed) root.setStatus({ code: SpanStatusCode.ERROR, message: 'checkout failed' });
    root.end(t0 + 90 + slow);
    traceIds.push(root.spanContext().traceId);
    rootSpanIds.push(root.spanContext().spanId);
    if (failed) errorTraceIds.push(root.spanContext().traceId);
  }
  await Promise.all(Object.values(p).map((x) => x.forceFlush()));
  await Promise.all(Object.values(p).map((x) => x.shutdown()));
  return { traceIds, errorTraceIds, rootSpanIds, services: Object.keys(p), spansPerTrace: 10 };
}

/**
 * One trace of `n` spans from one service: a root, 99 children, and the rest spread
 * evenly below the children (n = 10,000 → 99 × 100 grandchildren).
 */
export async function loadBigTrace(strand, n = 10_000, { baseMs = Date.now() - 60_000 } = {}) {
  const p = provider(strand, 'bulk-loader');
  const tr = p.getTracer('bulk', '1.0.0');
  const root = tr.startSpan('import batch', { kind: SpanKind.SERVER, startTime: baseMs });
  const children = 99;
  const grand = n - 1 - children;
  let made = 1;
  for (let c = 0; c < children; c++) {
    const cStart = baseMs + c * 10;
    const child = tr.startSpan(`import file ${c}`, { startTime: cStart, attributes: { 'file.index': c } }, ctxOf(root));
    made++;
    const mine = Math.floor(grand / children) + (c < grand % children ? 1 : 0);
    for (let g = 0; g < mine; g++) {
      const s = tr.startSpan(`insert row ${c}.${g}`, { kind: SpanKind.CLIENT, startTime: cStart + g * 0.05, attributes: { 'row': g } }, ctxOf(child));
      s.end(cStart + g * 0.05 + 0.04);
      made++;
    }
    child.end(cStart + 9);
  }
  root.end(baseMs + children * 10 + 5);
  await p.forceFlush();
  await p.shutdown();
  if (made !== n) throw new Error(`made ${made} spans, want ${n}`);
  return { traceId: root.spanContext().traceId, spans: n };
}
