// Strand as the OpenTelemetry Collector (COMPAT.md section 4).
//
// 1. The real configuration of COMPAT.md section 4 runs unchanged (MY_POD_IP set) in front
//    of a second Strand as its backend: real SDK exporters (gRPC, HTTP/protobuf, HTTP/JSON)
//    send to the collector's ports 4317/4318, and every span is then read back from the
//    backend's Tempo API, field by field. The collector listens on a loopback address of its
//    own (127.0.0.x) and the backend on another, so both can use port 4317 as configured.
//    The one thing the test cannot keep literally is the backend's host name (there is no
//    DNS here), so the exporter's endpoint reads it from the environment.
// 2. Configuration errors name the pipeline and the component, or the key and its line.
// 3. The health_check and zpages extensions answer; `$$` and bare `$VAR` stay literal.
// 4. One file holds pipelines and store settings: one process receives through a
//    pipeline (with an attributes processor) that ends in the `strand` exporter, and the
//    spans are read back from the same process's Tempo API.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, BatchSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';

import {
  Strand, verifyTraces, formatProblems, readableSpanToRecord, httpRequest, strandBin,
  freePorts,
} from './lib/strand.mjs';
import { Collector, scrape } from './lib/collector.mjs';

// COMPAT.md section 4, as a team runs it in front of Tempo.
export const REAL_CONFIG = `
extensions:
  health_check: {}
  memory_ballast:
    size_in_percentage: 40
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: \${env:MY_POD_IP}:4317
      http:
        endpoint: \${env:MY_POD_IP}:4318
processors:
  batch:
    send_batch_size: 10000
    timeout: 10s
  memory_limiter:
    check_interval: 1s
    limit_percentage: 75
    spike_limit_percentage: 15
exporters:
  otlp:
    endpoint: \${env:TEMPO_HOST}:4317
    tls:
      insecure: true
service:
  extensions: [health_check, memory_ballast]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp]
`;

const pick = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo));

/** Runs `fn` until it stops throwing; rethrows its last error after `timeoutMs`. */
async function until(fn, { timeoutMs = 10_000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

describe('the real collector configuration, unchanged', () => {
  let backend;
  let collector;
  const podIp = `127.0.0.${pick(2, 120)}`;
  const backendHost = `127.0.0.${pick(130, 250)}`;

  before(async () => {
    backend = await Strand.start({ name: 'collector-backend', host: backendHost, grpcPort: 4317 });
    collector = await Collector.start({
      name: 'collector-real', config: REAL_CONFIG,
      env: { MY_POD_IP: podIp, TEMPO_HOST: backendHost },
      healthUrl: 'http://localhost:13133/',
    });
  });

  after(async () => {
    await collector?.close();
    await backend?.close();
  });

  test('SDK spans sent through the collector are found in the backend, field by field', async () => {
    const exporters = {
      grpc: new GrpcExporter({ url: `http://${podIp}:4317`, timeoutMillis: 15_000 }),
      'http/protobuf': new HttpProtoExporter({ url: `http://${podIp}:4318/v1/traces`, compression: 'gzip', timeoutMillis: 15_000 }),
      'http/json': new HttpJsonExporter({ url: `http://${podIp}:4318/v1/traces`, timeoutMillis: 15_000 }),
    };
    const expected = [];
    const started = Date.now();
    for (const [kind, otlp] of Object.entries(exporters)) {
      const memory = new InMemorySpanExporter();
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': `shop-${kind}`, 'k8s.pod.name': 'web-1', 'host.cores': 2 }),
        spanProcessors: [new BatchSpanProcessor(otlp, { scheduledDelayMillis: 50 }), new SimpleSpanProcessor(memory)],
      });
      const tracer = provider.getTracer('e2e-collector', '1.0.0');
      for (let t = 0; t < 5; t++) {
        const root = tracer.startSpan(`GET /cart/${t}`, {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 + t, 'ratio': t / 3, 'ok': t % 2 === 0, 'tags': ['a', `b${t}`] },
        });
        root.addEvent('cache.miss', { key: `k${t}` });
        const child = tracer.startSpan('SELECT cart', { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql' } },
          trace.setSpan(context.active(), root));
        if (t === 3) child.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
        child.end();
        root.end();
      }
      await provider.forceFlush();
      expected.push(...memory.getFinishedSpans().map((s) => readableSpanToRecord(s, { jsonWire: kind === 'http/json' })));
      await provider.shutdown();
    }
    // Every export was acknowledged by the collector within the SDK's timeout, although
    // the batch processor waits up to 10 s: acknowledgement does not wait for the batch.
    assert.ok(Date.now() - started < 10_000, `exports took ${Date.now() - started} ms`);

    // The batch processor sends after 10 s (fewer than 10000 spans); then every trace is there.
    let result;
    await until(async () => {
      result = await verifyTraces(backend, expected, { modes: [{ api: 'v2', format: 'json' }] });
      assert.deepEqual(result.problems, []);
    }, { timeoutMs: 30_000, intervalMs: 1000 });
    result = await verifyTraces(backend, expected);
    assert.deepEqual(result.problems, [], formatProblems(result.problems));

    const m = await scrape('http://localhost:8888/metrics');
    assert.equal(m['strand_exporter_sent_spans_total{exporter="otlp"}'], expected.length);
    assert.equal(m['strand_pipeline_spans_total{pipeline="traces",outcome="accepted"}'], expected.length);
    assert.match(collector.logTail.join('\n'), /memory_ballast extension is deprecated/);
  });

  test('health_check answers 200 while running', async () => {
    const r = await httpRequest('http://localhost:13133/');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body.toString()).status, 'Server available');
  });
});

describe('collector configuration checks', () => {
  function run(config, env = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strand-e2e-badconfig-'));
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, config);
    try {
      execFileSync(strandBin, ['--config', file], { env: { ...process.env, ...env }, stdio: 'pipe', timeout: 10_000 });
      return { code: 0, stderr: '' };
    } catch (e) {
      return { code: e.status, stderr: e.stderr.toString() };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('an undefined processor is named with its pipeline', () => {
    const r = run(REAL_CONFIG.replace('processors: [memory_limiter, batch]', 'processors: [memory_limiter, batch/big]'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /service::pipelines::traces: references processor "batch\/big", which is not configured/);
  });

  test('an unknown key is refused with its path and line', () => {
    const r = run(REAL_CONFIG.replace('timeout: 10s', 'timeout: 10s\n    send_batch_sise: 5'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /processors::batch::send_batch_sise \(line \d+\): unknown key/);
  });

});

describe('extensions', () => {
  let c;
  let ports;
  before(async () => {
    ports = await freePorts(3);
    c = await Collector.start({
      name: 'collector-zpages',
      config: `
extensions:
  health_check:
    endpoint: 127.0.0.1:\${env:HC_PORT}
    path: /$$ready/$HC_PORT
  zpages: {endpoint: "127.0.0.1:\${env:Z_PORT}"}
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:\${env:HTTP_PORT}"}}}
exporters:
  debug: {verbosity: detailed}
service:
  telemetry: {metrics: {level: none}}
  extensions: [health_check, zpages]
  pipelines:
    traces/debug:
      receivers: [otlp]
      exporters: [debug]
`,
      env: { HC_PORT: String(ports[0]), Z_PORT: String(ports[1]), HTTP_PORT: String(ports[2]) },
      // $$ is a literal $, and a bare $HC_PORT stays as written.
      healthUrl: `http://127.0.0.1:${ports[0]}/$ready/$HC_PORT`,
    });
  });
  after(async () => { await c?.close(); });

  test('pipelinez lists the pipeline, its components and its counters', async () => {
    const body = JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'zp' } }] },
      scopeSpans: [{ spans: [{ traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '0102030405060708', name: 'zpages-span',
        startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000' }] }] }] });
    const r = await httpRequest(`http://127.0.0.1:${ports[2]}/v1/traces`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body,
    });
    assert.equal(r.status, 200);
    const page = (await httpRequest(`http://127.0.0.1:${ports[1]}/debug/pipelinez`)).body.toString();
    assert.match(page, /<td>traces\/debug<\/td><td>otlp<\/td><td>&ndash;<\/td><td>debug<\/td><td>1<\/td><td>0<\/td>/);
    // The debug exporter logged the span in detail.
    await until(() => assert.match(c.logTail.join('\n'), /Name +: zpages-span/));
    const missing = await httpRequest(`http://127.0.0.1:${ports[1]}/debug/tracez`);
    assert.equal(missing.status, 404);
  });
});

describe('pipelines and the store in one process', () => {
  let c;
  let ports;
  let dataDir;
  before(async () => {
    ports = await freePorts(3);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strand-e2e-onefile-'));
    c = await Collector.start({
      name: 'collector-onefile',
      config: `
strand:
  data_dir: ${dataDir}
  api:
    listen: 127.0.0.1:${ports[0]}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:${ports[1]}"}
      http: {endpoint: "127.0.0.1:${ports[2]}"}
processors:
  attributes/env:
    actions:
      - {key: deployment.environment, value: e2e, action: insert}
      - {key: user.email, action: hash}
exporters:
  strand: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [attributes/env]
      exporters: [strand]
`,
      healthUrl: `http://127.0.0.1:${ports[0]}/ready`,
    });
  });
  after(async () => {
    await c?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('spans go through the pipeline into the store and are read back', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'onefile' }),
      spanProcessors: [
        new SimpleSpanProcessor(new GrpcExporter({ url: `http://127.0.0.1:${ports[1]}`, timeoutMillis: 15_000 })),
        new SimpleSpanProcessor(memory),
      ],
    });
    const span = provider.getTracer('e2e').startSpan('login', { attributes: { 'user.email': 'a@example.com' } });
    span.end();
    await provider.forceFlush();
    const traceId = memory.getFinishedSpans()[0].spanContext().traceId;
    await provider.shutdown();
    const r = await httpRequest(`http://127.0.0.1:${ports[0]}/api/v2/traces/${traceId}`);
    assert.equal(r.status, 200, r.body.toString());
    const attrs = JSON.parse(r.body.toString()).trace.resourceSpans[0].scopeSpans[0].spans[0].attributes;
    const byKey = Object.fromEntries(attrs.map((a) => [a.key, a.value.stringValue]));
    assert.equal(byKey['deployment.environment'], 'e2e');
    // SHA-256 of the value, hex, as the collector's attributes processor hashes.
    assert.equal(byKey['user.email'], createHash('sha256').update('a@example.com').digest('hex'));
    // Acknowledged means in the WAL: the store's own counters saw it.
    const m = await scrape(`http://127.0.0.1:${ports[0]}/metrics`);
    assert.equal(m['strand_pipeline_spans_total{pipeline="traces",outcome="accepted"}'], 1);
  });
});
