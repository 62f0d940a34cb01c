// The collector under faults (issue: "Strand as the OpenTelemetry Collector", point 5).
//
// 1. Backend outage with a persistent queue, and a collector kill: load runs through a
//    collector whose otlp exporter queues on disk (file_storage). The backend is killed and
//    stays down for STRAND_E2E_OUTAGE_MS (default one minute) while the load continues; in
//    the middle of the outage the collector itself is killed with SIGKILL and restarted on
//    the same storage directory. When the backend is back, every span the collector ever
//    acknowledged must reach it.
// 2. Overload: with the backend unreachable and a large in-memory queue, clients blast the
//    collector; the memory_limiter must refuse with retryable errors (gRPC UNAVAILABLE)
//    and keep the process's peak RSS under its limit — no out-of-memory kill.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  Strand, RawGrpcClient, recordsFromRequest, otlpJsonToProtobuf, verifyTraces, formatProblems,
  newTraceId, newSpanId, nowNanos, freePorts,
} from './lib/strand.mjs';
import { Collector, scrape, memoryMiB } from './lib/collector.mjs';

const OUTAGE_MS = Number(process.env.STRAND_E2E_OUTAGE_MS ?? 60_000);

let requestNo = 0;
/** A request of `traces` new traces with `spans` spans each. */
function buildRequest(worker, traces = 3, spans = 4) {
  const reqNo = ++requestNo;
  const t0 = BigInt(nowNanos(-1000));
  const out = [];
  for (let t = 0; t < traces; t++) {
    const traceId = newTraceId();
    for (let i = 0; i < spans; i++) {
      out.push({
        traceId, spanId: newSpanId(), name: `${worker} ${reqNo}.${t}.${i}`, kind: 2,
        startTimeUnixNano: (t0 + BigInt(i)).toString(),
        endTimeUnixNano: (t0 + BigInt(i) + 2_000_000n).toString(),
        attributes: [{ key: 'request', value: { intValue: String(reqNo) } }],
      });
    }
  }
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: `faults-${worker}` } }] },
      scopeSpans: [{ scope: { name: 'faults' }, spans: out }],
    }],
  };
}

/** Clients sending to `address()` until stop(); records what was acknowledged. */
function startLoad(address, { workers = 3, pauseMs = 50 } = {}) {
  const acked = [];
  const failures = new Map();
  let stopping = false;
  const run = async (worker) => {
    let client = null;
    let clientFor = null;
    while (!stopping) {
      if (clientFor !== address()) {
        client?.close();
        clientFor = address();
        client = new RawGrpcClient(clientFor);
      }
      const req = buildRequest(worker);
      const r = await client.export(otlpJsonToProtobuf(req), { deadlineMs: 5000 });
      if (r.ok) {
        acked.push(...recordsFromRequest(req));
      } else {
        failures.set(r.codeName, (failures.get(r.codeName) ?? 0) + 1);
      }
      await sleep(r.ok ? pauseMs : 200);
    }
    client?.close();
  };
  const all = Array.from({ length: workers }, (_, i) => run(`w${i}`));
  return {
    acked, failures,
    async stop() { stopping = true; await Promise.all(all); },
  };
}

describe('backend outage, persistent queue, collector killed and restarted', () => {
  let backend;
  let collector;
  after(async () => {
    await collector?.close();
    await backend?.close();
  });

  test('every span the collector acknowledged reaches the backend once it is back', async () => {
    const [backendGrpc, hc, recv] = await freePorts(3);
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'strand-e2e-queue-'));
    backend = await Strand.start({ name: 'faults-backend', grpcPort: backendGrpc });
    const config = `
extensions:
  health_check: {endpoint: "127.0.0.1:${hc}"}
  file_storage/queue: {directory: "${storage}"}
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:${recv}"}}}
processors:
  memory_limiter: {check_interval: 1s, limit_mib: 1024}
  batch: {send_batch_size: 500, timeout: 200ms}
exporters:
  otlp:
    endpoint: 127.0.0.1:${backendGrpc}
    tls: {insecure: true}
    timeout: 2s
    sending_queue: {storage: file_storage/queue, queue_size: 100000, num_consumers: 4}
    retry_on_failure: {initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 0}
service:
  telemetry: {metrics: {level: none}}
  extensions: [health_check, file_storage/queue]
  pipelines:
    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}
`;
    const healthUrl = `http://127.0.0.1:${hc}/`;
    collector = await Collector.start({ name: 'faults-collector', config, healthUrl });
    const load = startLoad(() => `127.0.0.1:${recv}`);

    await sleep(3000);
    await backend.kill9(); // the outage begins; the load goes on
    const outageStart = Date.now();
    await sleep(OUTAGE_MS / 2);
    const ackedBeforeKill = load.acked.length;
    await collector.kill9(); // what it queued is on disk
    await collector.launch(); // same config, same storage directory
    assert.match(collector.logTail.join('\n'), /persistent queue .*: \d+ requests from the previous run will be sent/,
      'the restarted collector found nothing queued on disk');
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStart)));
    await backend.restart(); // same data dir, same OTLP/gRPC port
    await sleep(2000);
    await load.stop();

    assert.ok(ackedBeforeKill > 0, 'no span was acknowledged before the collector was killed');
    assert.ok(load.acked.length > ackedBeforeKill, 'no span was acknowledged after the restart');
    // Refusals may only be retryable (the collector was down for a moment: UNAVAILABLE).
    for (const code of load.failures.keys()) assert.ok(['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(code), `failure ${code}`);

    // The queue drains once the backend is back; then every acknowledged span is there.
    const deadline = Date.now() + 60_000;
    let result;
    for (;;) {
      result = await verifyTraces(backend, load.acked, { modes: [{ api: 'v2', format: 'json' }] });
      if (result.problems.length === 0 || Date.now() > deadline) break;
      await sleep(2000);
    }
    assert.deepEqual(result.problems.slice(0, 20), [],
      `${result.problems.length} problems over ${load.acked.length} acknowledged spans\n${formatProblems(result.problems.slice(0, 20))}`);
    fs.rmSync(storage, { recursive: true, force: true });
  });
});

describe('overload', () => {
  let collector;
  after(async () => { await collector?.close(); });

  test('the memory_limiter refuses with UNAVAILABLE and peak RSS stays under its limit', async () => {
    const [deadBackend, hc, recv] = await freePorts(3);
    const limitMiB = 300;
    const config = `
extensions:
  health_check: {endpoint: "127.0.0.1:${hc}"}
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:${recv}"}}}
processors:
  memory_limiter: {check_interval: 100ms, limit_mib: ${limitMiB}, spike_limit_mib: 100}
exporters:
  otlp:
    endpoint: 127.0.0.1:${deadBackend}
    tls: {insecure: true}
    sending_queue: {queue_size: 1000000}
    retry_on_failure: {initial_interval: 1s, max_elapsed_time: 0}
service:
  telemetry: {metrics: {level: none}}
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlp], processors: [memory_limiter], exporters: [otlp]}
`;
    collector = await Collector.start({ name: 'overload-collector', config, healthUrl: `http://127.0.0.1:${hc}/` });
    // One large request (about 1 MB), sent over and over by several clients.
    const big = otlpJsonToProtobuf(buildRequest('blast', 100, 20));
    const counts = new Map();
    const stopAt = Date.now() + 15_000;
    const blast = async () => {
      const client = new RawGrpcClient(`127.0.0.1:${recv}`);
      while (Date.now() < stopAt) {
        const r = await client.export(big, { deadlineMs: 10_000 });
        counts.set(r.codeName, (counts.get(r.codeName) ?? 0) + 1);
      }
      client.close();
    };
    await Promise.all([blast(), blast(), blast(), blast()]);
    assert.ok(collector.isRunning(), 'the collector died under overload');
    const mem = memoryMiB(collector.pid);
    assert.ok((counts.get('OK') ?? 0) > 0, `nothing accepted: ${JSON.stringify([...counts])}`);
    assert.ok((counts.get('UNAVAILABLE') ?? 0) > 0, `nothing refused: ${JSON.stringify([...counts])}`);
    for (const code of counts.keys()) assert.ok(['OK', 'UNAVAILABLE'].includes(code), `unexpected ${code}`);
    assert.ok(mem.peak < limitMiB, `peak RSS ${mem.peak.toFixed(1)} MiB, limit ${limitMiB} MiB`);
    console.log(`overload: ${JSON.stringify(Object.fromEntries(counts))}, peak RSS ${mem.peak.toFixed(1)} MiB of ${limitMiB} MiB`);
  });
});
