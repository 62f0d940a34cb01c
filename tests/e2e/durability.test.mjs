// "Acknowledged means durable", with a real kill -9.
//
// Many concurrent clients — raw OTLP/HTTP (protobuf, JSON, gzip), raw OTLP/gRPC and SDK
// exporters — send spans; a ledger records every span sent and every span acknowledged.
// At a random moment the server is killed with SIGKILL, restarted on the same data dir,
// and then every acknowledged span must read back exactly as sent. Spans that were sent
// but not acknowledged may or may not be there, but if they are they must be intact; no
// span may appear twice and nothing that was never sent may appear. Several rounds run on
// the same data dir, so recovery is also tested on top of earlier recoveries.
//
// The server runs with a configuration that makes the store busy in the background all
// the time: traces are cut into blocks after 300 ms idle, blocks are compacted as soon as
// two or more make a final block (1,000 spans) or four wait, and retention (1 day) deletes the blocks of a worker that sends spans dated 2 days ago.
// So the kills land during ingest, cutting, compaction and retention alike. Spans past
// retention may be gone after a restart; if they are there they must be intact.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { SpanKind, context, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  Strand, RawGrpcClient, recordsFromRequest, readableSpanToRecord, otlpJsonToProtobuf, diff,
  formatProblems, newTraceId, newSpanId, nowNanos, sleep, fmt,
} from './lib/strand.mjs';

const KILL_ROUNDS = Number(process.env.STRAND_E2E_KILL_ROUNDS ?? 4);
const LOAD_MAX_MS = 30_000; // a load never runs longer than this, nor sends more than:
const LOAD_MAX_REQUESTS = 5_000;

/** Every span sent (record by trace/span key) and which were acknowledged. */
class Ledger {
  constructor() {
    this.sent = new Map();
    this.acked = new Set();
    this.requests = { acked: 0, failed: 0 };
    this.failures = []; // {at, worker, reason}
    this.stoppingAt = Infinity; // when the test began to stop or kill the server
    this.expiring = new Set(); // trace IDs dated before retention: may be deleted
  }

  noteFailed(worker, reason) {
    this.requests.failed++;
    this.failures.push({ at: Date.now(), worker, reason: String(reason) });
  }

  /** Failures of requests that ended while the server was meant to be up and healthy. */
  unexpectedFailures() {
    return this.failures.filter((f) => f.at < this.stoppingAt &&
      !/^(HTTP (429|503)|gRPC (UNAVAILABLE|RESOURCE_EXHAUSTED))\b/.test(f.reason));
  }

  failureSummary() {
    const counts = new Map();
    for (const f of this.failures) {
      const k = f.reason.replace(/\d{2,}/g, 'N').slice(0, 60);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return [...counts].map(([k, n]) => `${n}× ${k}`).join(', ');
  }

  key(r) { return `${r.traceId}/${r.spanId}`; }

  noteSent(records) { for (const r of records) this.sent.set(this.key(r), r); }

  noteAcked(records) {
    for (const r of records) this.acked.add(this.key(r));
    this.requests.acked++;
  }

  traces() {
    const byTrace = new Map();
    for (const [k, r] of this.sent) {
      if (!byTrace.has(r.traceId)) byTrace.set(r.traceId, []);
      byTrace.get(r.traceId).push(k);
    }
    return byTrace;
  }
}

/** Traces that several clients add spans to, so one trace spans many requests. */
class TracePool {
  constructor(size = 12, spansPerTrace = 150) {
    this.size = size;
    this.spansPerTrace = spansPerTrace;
    this.traces = [];
  }

  pick() {
    while (this.traces.length < this.size) this.traces.push({ id: newTraceId(), n: 0 });
    const i = Math.floor(Math.random() * this.traces.length);
    const t = this.traces[i];
    if (++t.n >= this.spansPerTrace) this.traces.splice(i, 1);
    return t.id;
  }
}

let requestCounter = 0;

const TWO_DAYS_MS = 2 * 86_400_000;

function buildRequest(pool, worker, { ancient = false } = {}) {
  const n = 1 + Math.floor(Math.random() * 30);
  const reqNo = ++requestCounter;
  const t0 = BigInt(nowNanos(ancient ? -TWO_DAYS_MS : -1000));
  const spans = [];
  for (let i = 0; i < n; i++) {
    spans.push({
      traceId: pool.pick(), spanId: newSpanId(), name: `${worker} req ${reqNo} span ${i}`,
      kind: 1 + (i % 5), startTimeUnixNano: (t0 + BigInt(i)).toString(),
      endTimeUnixNano: (t0 + BigInt(i) + 1_000_000n).toString(),
      attributes: [
        { key: 'worker', value: { stringValue: worker } },
        { key: 'request', value: { intValue: String(reqNo) } },
        { key: 'payload', value: { stringValue: 'p'.repeat(Math.floor(Math.random() * 300)) } },
      ],
    });
  }
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: `load-${worker}` } }] },
      scopeSpans: [{ scope: { name: 'durability', version: '1' }, spans }],
    }],
  };
}

/** Raw clients plus SDK exporters, all sending until stop() (or the load's own limits). */
function startLoad(strand, ledger) {
  ledger.stoppingAt = Infinity;
  const pool = new TracePool();
  const started = Date.now();
  let stopping = false;
  let requests = 0;
  const more = () => !stopping && Date.now() - started < LOAD_MAX_MS && requests < LOAD_MAX_REQUESTS;
  const grpcClients = [];

  const ancientPool = new TracePool(4, 60);
  const raw = async (worker, send, { ancient = false } = {}) => {
    while (more()) {
      requests++;
      const req = buildRequest(ancient ? ancientPool : pool, worker, { ancient });
      if (ancient) for (const rs of req.resourceSpans) for (const ss of rs.scopeSpans) for (const sp of ss.spans) ledger.expiring.add(sp.traceId);
      const records = recordsFromRequest(req);
      ledger.noteSent(records);
      let failure = null;
      try {
        failure = await send(req);
      } catch (err) {
        failure = `error ${err.code ?? err.message}`;
      }
      if (failure === null) ledger.noteAcked(records);
      else {
        ledger.noteFailed(worker, failure);
        await sleep(20); // the server is down: do not spin
      }
    }
  };
  const httpSend = (format, encoding) => async (req) => {
    const r = format === 'json'
      ? await strand.postJson(req, { encoding, timeoutMs: 10_000 })
      : await strand.postProto(otlpJsonToProtobuf(req), { encoding, timeoutMs: 10_000 });
    return r.status === 200 ? null : `HTTP ${r.status} ${r.body.subarray(0, 100)}`;
  };
  const grpcSend = () => {
    const client = new RawGrpcClient(strand.grpcAddress);
    grpcClients.push(client);
    return async (req) => {
      const r = await client.export(otlpJsonToProtobuf(req), { deadlineMs: 10_000 });
      if (!r.ok) return `gRPC ${r.codeName} ${r.details}`;
      const rejected = Number(r.response?.partialSuccess?.rejectedSpans ?? 0);
      return rejected ? `gRPC partial success, ${rejected} rejected` : null;
    };
  };

  const workers = [
    raw('http-proto-1', httpSend('proto')),
    raw('http-proto-2', httpSend('proto')),
    raw('http-proto-gzip', httpSend('proto', 'gzip')),
    raw('http-json-1', httpSend('json')),
    raw('http-json-gzip', httpSend('json', 'gzip')),
    raw('grpc-1', grpcSend()),
    raw('grpc-2', grpcSend()),
    raw('grpc-3', grpcSend()),
    raw('http-proto-ancient', httpSend('proto'), { ancient: true }),
  ];

  // SDK exporters: a BatchSpanProcessor each; a span counts as acknowledged when the
  // export call that carried it reported SUCCESS.
  const sdks = [
    ['sdk-grpc', new GrpcExporter({ url: strand.grpcUrl, timeoutMillis: 1500 })],
    ['sdk-http-proto', new HttpProtoExporter({ url: `${strand.tracesUrl}`, timeoutMillis: 1500 })],
  ].map(([name, exporter]) => {
    const recording = {
      export(spans, cb) {
        const records = spans.map(readableSpanToRecord);
        ledger.noteSent(records);
        exporter.export(spans, (result) => {
          if (result.code === ExportResultCode.SUCCESS) ledger.noteAcked(records);
          else ledger.noteFailed(name, `SDK ${result.error?.message ?? 'export failed'}`);
          cb(result);
        });
      },
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    };
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': name }),
      spanProcessors: [new BatchSpanProcessor(recording, {
        maxExportBatchSize: 256, scheduledDelayMillis: 50, maxQueueSize: 100_000, exportTimeoutMillis: 5000,
      })],
    });
    const tracer = provider.getTracer('durability-sdk', '1.0.0');
    const loop = (async () => {
      // Long traces: a root span with children added over many batches.
      let root = null;
      for (let i = 0; more(); i++) {
        if (i % 25 === 0) {
          root?.end();
          root = tracer.startSpan(`${name} root ${i}`, { kind: SpanKind.SERVER });
        }
        const parent = trace.setSpan(context.active(), root);
        for (let j = 0; j < 10; j++) {
          tracer.startSpan(`${name} span ${i}.${j}`, { kind: SpanKind.CLIENT, attributes: { i, j } }, parent).end();
        }
        await sleep(10);
      }
      root?.end();
    })();
    return { provider, loop };
  });

  return {
    pool,
    async stop() {
      stopping = true;
      await Promise.all(workers);
      await Promise.all(sdks.map((s) => s.loop));
      // Whatever is still queued in the SDKs goes out now (or fails if the server is gone).
      await Promise.all(sdks.map((s) => s.provider.forceFlush().catch(() => {})));
      await Promise.all(sdks.map((s) => s.provider.shutdown().catch(() => {})));
      for (const c of grpcClients) c.close();
      return { requests, ms: Date.now() - started };
    },
  };
}

/**
 * Reads every trace of the ledger and checks: all acknowledged spans are there, every span
 * that is there was sent and is intact, and none is there twice.
 */
async function verifyLedger(strand, ledger) {
  const problems = [];
  let presentUnacked = 0;
  const traces = [...ledger.traces()];
  const check = async ([traceId, keys]) => {
    const r = await strand.readTrace(traceId, { api: 'v2', format: 'proto' });
    // Spans past retention may have been deleted already.
    const ackedKeys = ledger.expiring.has(traceId) ? [] : keys.filter((k) => ledger.acked.has(k));
    if (r.status === 404) {
      if (ackedKeys.length) problems.push(`trace ${traceId}: 404, but ${ackedKeys.length} acknowledged spans`);
      return;
    }
    if (r.status !== 200) {
      problems.push(`trace ${traceId}: status ${r.status} ${r.body.subarray(0, 200)}`);
      return;
    }
    const seen = new Map();
    for (const s of r.spans) {
      const k = `${s.traceId}/${s.spanId}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
      const sent = ledger.sent.get(k);
      if (!sent) {
        problems.push(`span ${k} (${fmt(s.name)}): returned but never sent`);
        continue;
      }
      const d = diff(sent, s);
      if (d.length) problems.push(`span ${k} (${sent.name}) differs: ${d.slice(0, 3).join('; ')}`);
      if (!ledger.acked.has(k)) presentUnacked++;
    }
    for (const [k, n] of seen) if (n > 1) problems.push(`span ${k}: returned ${n} times`);
    for (const k of ackedKeys) {
      if (!seen.has(k)) problems.push(`span ${k} (${ledger.sent.get(k).name}): acknowledged, missing`);
    }
  };
  for (let i = 0; i < traces.length; i += 8) await Promise.all(traces.slice(i, i + 8).map(check));
  return { problems, presentUnacked, traces: traces.length };
}

/** While the server was up, requests may only fail with retryable back-pressure codes. */
function assertNoUnexpectedFailures(ledger) {
  const bad = ledger.unexpectedFailures();
  assert.ok(bad.length === 0, `requests failed while the server was up:\n${formatProblems(bad.map((f) => `${f.worker}: ${f.reason}`))}`);
  ledger.failures = []; // judged; start the next round afresh
}

/** Waits until `ledger` has `n` more acknowledged requests than `from`; fails after 60 s. */
async function waitForAcks(strand, ledger, from, n) {
  const deadline = Date.now() + 60_000;
  while (ledger.requests.acked < from + n) {
    assert.ok(strand.isRunning(), `strand died under load\n${strand.tail()}`);
    assert.ok(Date.now() < deadline,
      `only ${ledger.requests.acked - from} of ${n} requests acknowledged in 60 s (${ledger.requests.failed} failed)`);
    await sleep(10);
  }
}

/** A config that keeps cutting, compaction and retention busy (see the file comment). */
function busyStoreConfig() {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'strand-e2e-config-')), 'strand.yaml');
  fs.writeFileSync(file, [
    'strand:',
    '  store:',
    '    trace_idle_period: 300ms',
    '    max_trace_live: 2s',
    '    cut_interval: 100ms',
    '    retention: 1d',
    '    compaction: {min_inputs: 2, max_inputs: 4, max_block_spans: 2000, interval: 200ms}',
    '',
  ].join('\n'));
  return file;
}

/** The store's background counters, for the diagnostics. */
async function storeActivity(strand) {
  const text = (await strand.api('/metrics')).body.toString('utf8');
  const value = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return `blocks cut ${value('strand_blocks_cut_total')}, compacted ${value('strand_blocks_compacted_total')}, ` +
    `expired ${value('strand_blocks_retention_deleted_total')}, WAL truncations ${value('strand_wal_truncations_total')}`;
}

describe('durability', () => {
  let strand;
  const ledger = new Ledger();
  before(async () => {
    strand = await Strand.start({ name: 'durability', readyTimeoutMs: 120_000, extraArgs: ['--config', busyStoreConfig()] });
  });
  after(async () => { await strand?.close(); });

  test('read your writes under concurrent load: an acknowledged span is readable at once', async () => {
    const pool = new TracePool(6, 400);
    const client = new RawGrpcClient(strand.grpcAddress);
    const problems = [];
    const ackedByTrace = new Map();
    const worker = async (w) => {
      for (let i = 0; i < 25 && problems.length < 20; i++) {
        const req = buildRequest(pool, `ryw-${w}`);
        const records = recordsFromRequest(req);
        let failure;
        if (w % 3 === 0) {
          const g = await client.export(otlpJsonToProtobuf(req));
          failure = g.ok ? null : `gRPC ${g.codeName} ${g.details}`;
        } else {
          const r = w % 3 === 1 ? await strand.postJson(req) : await strand.postProto(otlpJsonToProtobuf(req));
          failure = r.status === 200 ? null : `HTTP ${r.status}`;
        }
        if (failure) {
          problems.push(`worker ${w}: ${failure}`);
          continue;
        }
        ledger.noteSent(records);
        ledger.noteAcked(records);
        for (const rec of records) {
          if (!ackedByTrace.has(rec.traceId)) ackedByTrace.set(rec.traceId, new Set());
          ackedByTrace.get(rec.traceId).add(rec.spanId);
        }
        // Everything acknowledged so far for the traces this request touched, by anyone.
        for (const traceId of new Set(records.map((r) => r.traceId))) {
          const want = [...ackedByTrace.get(traceId)];
          const r = await strand.readTrace(traceId, { api: 'v2', format: 'proto' });
          if (r.status !== 200) {
            problems.push(`worker ${w}: trace ${traceId} → ${r.status} right after its spans were acknowledged`);
            continue;
          }
          const have = new Set(r.spans.map((s) => s.spanId));
          const missing = want.filter((id) => !have.has(id));
          if (missing.length) problems.push(`worker ${w}: trace ${traceId}: ${missing.length} of ${want.length} acknowledged spans not readable (e.g. ${missing[0]})`);
        }
      }
    };
    try {
      await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(worker));
    } finally {
      client.close();
    }
    assert.ok(problems.length === 0, `\n${formatProblems(problems)}`);
  });

  test('SIGTERM under load: exits 0 and keeps every acknowledged span', async (t) => {
    const load = startLoad(strand, ledger);
    let stats;
    try {
      await waitForAcks(strand, ledger, 0, 50);
      await sleep(300);
      ledger.stoppingAt = Date.now();
      await strand.stop({ timeoutMs: 60_000 }); // throws unless exit code 0
    } finally {
      stats = await load.stop();
    }
    await strand.restart();
    const v = await verifyLedger(strand, ledger);
    t.diagnostic(`${stats.requests} requests in ${stats.ms} ms; acked ${ledger.requests.acked}, failed ${ledger.requests.failed}; ` +
      `${ledger.acked.size}/${ledger.sent.size} spans acked; ${v.presentUnacked} unacked spans present; ${v.traces} traces`);
    t.diagnostic(`failures: ${ledger.failureSummary() || 'none'}`);
    assert.ok(v.problems.length === 0, `\n${formatProblems(v.problems)}`);
    assertNoUnexpectedFailures(ledger);
  });

  for (let round = 1; round <= KILL_ROUNDS; round++) {
    test(`kill -9 under load, round ${round} of ${KILL_ROUNDS}: every acknowledged span survives`, async (t) => {
      const ackedBefore = ledger.requests.acked;
      // A random moment mid-load: after a random number of acknowledged requests, plus a
      // random few milliseconds, so the kill lands anywhere in a request's life.
      const acks = 20 + Math.floor(Math.random() * 400);
      const delay = Math.floor(Math.random() * 50);
      const load = startLoad(strand, ledger);
      let pid;
      let stats;
      let activity;
      try {
        await waitForAcks(strand, ledger, ackedBefore, acks);
        await sleep(delay);
        assert.ok(strand.isRunning(), `strand died under load\n${strand.tail()}`);
        activity = await storeActivity(strand);
        pid = strand.pid;
        ledger.stoppingAt = Date.now();
        await strand.kill9();
      } finally {
        stats = await load.stop();
      }
      const restartedAt = Date.now();
      await strand.restart();
      const restartMs = Date.now() - restartedAt;
      const v = await verifyLedger(strand, ledger);
      t.diagnostic(`killed pid ${pid} ${delay} ms after ack #${acks} of the round; ${stats.requests} requests in ${stats.ms} ms; ` +
        `acked so far ${ledger.requests.acked}, failed ${ledger.requests.failed}; ${ledger.acked.size}/${ledger.sent.size} spans acked; ` +
        `${v.presentUnacked} unacked spans present; ${v.traces} traces; restart took ${restartMs} ms`);
      t.diagnostic(`store before the kill: ${activity}`);
      t.diagnostic(`failures: ${ledger.failureSummary() || 'none'}`);
      assert.ok(v.problems.length === 0, `\n${formatProblems(v.problems)}`);
      assertNoUnexpectedFailures(ledger);
    });
  }

  test('after the last recovery the server takes new writes and reads them back', async () => {
    const ackedBefore = ledger.requests.acked;
    const load = startLoad(strand, ledger);
    try {
      await waitForAcks(strand, ledger, ackedBefore, 20);
    } finally {
      await load.stop();
    }
    const v = await verifyLedger(strand, ledger);
    assert.ok(v.problems.length === 0, `\n${formatProblems(v.problems)}`);
    assertNoUnexpectedFailures(ledger);
    await strand.stop();
  });
});
