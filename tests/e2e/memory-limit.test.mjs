// One memory limit for the process (docs/security.md, strand.memory_limit): a Strand run with
// `--memory-limit 64 MiB` (51 MiB of it for request memory) while slow clients hold uploads
// that declared 20 MB bodies. A further large upload is refused before it is read, with
// 503 and Retry-After; small exports from real SDKs, over gRPC and HTTP, still go through,
// and /ready answers. Once the slow uploads go, the large upload is taken and readable.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

import { credentials } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';

import { Strand, eventually, newTraceId, newSpanId, nowNanos, otlpJsonToProtobuf } from './lib/strand.mjs';
import { scrape } from './lib/collector.mjs';
import { sendSpan } from './lib/send.mjs';

const MiB = 1 << 20;

/** A valid OTLP/protobuf request about `bytes` long: spans with 8 KiB attributes, 64 to a
 * trace, of the traces `traceIds` (as many as needed are added). */
function largeRequest(traceIds, bytes) {
  const spans = [];
  const value = 'v'.repeat(8192);
  for (let i = 0; i * 8300 < bytes; i++) {
    if (i % 64 === 0) traceIds.push(newTraceId());
    spans.push({ traceId: traceIds.at(-1), spanId: newSpanId(), name: `big-${i}`,
      startTimeUnixNano: nowNanos(-1000), endTimeUnixNano: nowNanos(),
      attributes: [{ key: 'payload', value: { stringValue: value } }] });
  }
  return otlpJsonToProtobuf({ resourceSpans: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'memory-e2e' } }] },
    scopeSpans: [{ spans }] }] });
}

/** Opens an OTLP/HTTP upload that declares `declared` bytes and sends only a few. */
function slowUpload(port, declared) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n' +
        `Content-Length: ${declared}\r\n\r\n\x0a`);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

const trackedBytes = async (s) => (await scrape(`${s.apiUrl}/metrics`)).strand_memory_tracked_bytes;

describe('one memory limit covers the process', () => {
  let strand;
  const uploads = [];

  before(async () => {
    strand = await Strand.start({ name: 'memory-limit', extraArgs: ['--memory-limit', String(64 * MiB)] });
  });
  after(async () => {
    for (const u of uploads) u.destroy();
    await strand?.close();
  });

  test('bodies past the limit are refused retryably before they are read; the rest still flows', async () => {
    for (let i = 0; i < 2; i++) uploads.push(await slowUpload(strand.ports.http, 20_000_000));
    await eventually(async () => assert.ok(await trackedBytes(strand) >= 40_000_000));

    const traceIds = [];
    const big = largeRequest(traceIds, 15_000_000);
    const refused = await strand.postTraces(big, { contentType: 'application/x-protobuf' });
    assert.equal(refused.status, 503, refused.text());
    assert.equal(refused.headers['retry-after'], '1');
    assert.match(refused.text(), /memory limit reached: request body needs .*strand\.memory_limit/);

    // Real SDKs' small exports still go through, and the server says it is ready.
    const viaGrpc = await sendSpan(new GrpcExporter({ url: strand.grpcUrl,
      credentials: credentials.createInsecure(), timeoutMillis: 10_000 }), 'small-grpc');
    assert.equal(viaGrpc.code, ExportResultCode.SUCCESS, String(viaGrpc.error));
    const viaHttp = await sendSpan(new HttpProtoExporter({
      url: strand.tracesUrl, timeoutMillis: 10_000 }), 'small-http');
    assert.equal(viaHttp.code, ExportResultCode.SUCCESS, String(viaHttp.error));
    assert.equal((await strand.api('/ready')).status, 200);
    for (const id of [viaGrpc.traceId, viaHttp.traceId]) {
      await eventually(async () => assert.equal((await strand.readTrace(id)).status, 200));
    }

    const metrics = await scrape(`${strand.apiUrl}/metrics`);
    assert.ok(metrics['strand_memory_refusals_total{what="request body"}'] >= 1,
      'strand_memory_refusals_total counts the refusal');

    // The slow uploads go; their bytes come back and the large request is taken.
    for (const u of uploads.splice(0)) u.destroy();
    await eventually(async () => assert.ok(await trackedBytes(strand) < 20_000_000));
    const taken = await strand.postTraces(big, { contentType: 'application/x-protobuf' });
    assert.equal(taken.status, 200, taken.text());
    for (const id of [traceIds[0], traceIds.at(-1)]) {
      // While a cut decodes the 15 MB request, a lookup may be told 503 "retry later".
      let read;
      await eventually(async () => {
        read = await strand.readTrace(id);
        assert.notEqual(read.status, 503, read.body.toString());
      }, { timeoutMs: 10_000 });
      assert.equal(read.status, 200, read.body.toString());
      assert.equal(read.spans.length, id === traceIds[0] ? 64 : Math.ceil(15_000_000 / 8300) % 64 || 64);
    }
  });
});
