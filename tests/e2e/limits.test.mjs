// Per-tenant limits (Tempo's overrides, docs/configuration.md `strand.overrides`): a Strand
// with multi-tenancy and a per-tenant overrides file in Tempo's shape, read again every
// second. One tenant gets a tiny ingestion rate limit and is refused with 429 /
// RESOURCE_EXHAUSTED naming the limit while another tenant passes (through the
// OpenTelemetry SDK's exporter); one gets a tiny max_bytes_per_trace and sees a partial
// success; the file is edited and the new limits apply without a restart; a broken file
// keeps the last good limits; /metrics counts all of it per tenant.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';

import {
  Strand, RawGrpcClient, eventually, newSpanId, newTraceId, nowNanos, otlpJsonToProtobuf,
} from './lib/strand.mjs';
import { scrape } from './lib/collector.mjs';
import { sendSpan } from './lib/send.mjs';

/** An OTLP/JSON request of `spans` spans of one trace, with names of `nameBytes` bytes. */
function requestObject(spans, nameBytes = 40, traceId = newTraceId()) {
  const start = nowNanos();
  return { resourceSpans: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'limits-e2e' } }] },
    scopeSpans: [{ spans: Array.from({ length: spans }, (_, i) => ({
      traceId, spanId: newSpanId(), name: `${i}`.padEnd(nameBytes, 'x'),
      startTimeUnixNano: start, endTimeUnixNano: start,
    })) }],
  }] };
}
const request = (spans, nameBytes) => otlpJsonToProtobuf(requestObject(spans, nameBytes));

// `small` refills slowly (100 bytes/s) from a burst of 1500 bytes: one ~1 KB request passes,
// the next ones are refused even on a slow machine.
const overridesFile = (rate, burst) => `
overrides:
  small:
    ingestion:
      rate_limit_bytes: ${rate}
      burst_size_bytes: ${burst}
  capped:
    global:
      max_bytes_per_trace: 1000
`;

describe('per-tenant limits from an overrides file reloaded without restart', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strand-limits-'));
  const overridesPath = path.join(dir, 'overrides.yaml');
  const writeOverrides = (text) => {
    fs.writeFileSync(`${overridesPath}.new`, text);
    fs.renameSync(`${overridesPath}.new`, overridesPath);
  };
  let strand;
  const metrics = () => scrape(`${strand.apiUrl}/metrics`);
  const post = (tenant, body) => strand.postProto(body, { headers: { 'x-scope-orgid': tenant } });

  before(async () => {
    writeOverrides(overridesFile(100, 1500));
    const configPath = path.join(dir, 'strand.yaml');
    fs.writeFileSync(configPath, `
strand:
  overrides:
    per_tenant_override_config: ${overridesPath}
    per_tenant_override_period: 1s
`);
    strand = await Strand.start({ name: 'limits', multitenancy: true,
      extraArgs: ['--config', configPath] });
  });
  after(async () => {
    await strand?.stop({ removeDataDir: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a tenant over its ingestion rate gets 429 naming the limit; others pass', async () => {
    const body = request(10);  // ~1 KB: the burst of 1500 bytes holds one
    assert.ok(body.length > 750 && body.length < 1500, `request of ${body.length} bytes`);
    assert.equal((await post('small', body)).status, 200);
    const refused = await post('small', body);
    assert.equal(refused.status, 429, refused.body.toString());
    assert.ok(Number(refused.headers['retry-after']) >= 1, JSON.stringify(refused.headers));
    const json = await strand.postJson(requestObject(10), { headers: { 'x-scope-orgid': 'small' } });
    assert.equal(json.status, 429);
    assert.match(json.body.toString(), /RATE_LIMITED: ingestion rate limit \(rate_limit_bytes=100 burst_size_bytes=1500\)/);
    assert.match(json.body.toString(), /tenant small/);

    const grpc = new RawGrpcClient(strand.grpcAddress);
    const g = await grpc.export(body, { metadata: { 'x-scope-orgid': 'small' } });
    assert.equal(g.codeName, 'RESOURCE_EXHAUSTED', JSON.stringify(g));
    assert.match(g.details, /ingestion rate limit \(rate_limit_bytes=100 /);
    assert.ok(g.metadata.get('grpc-status-details-bin').length > 0, 'RetryInfo attached');
    grpc.client.close();

    // Another tenant, through the OpenTelemetry SDK, has no such limit.
    for (let i = 0; i < 3; i++) {
      const exporter = new HttpProtoExporter({ url: strand.tracesUrl,
        headers: { 'X-Scope-OrgID': 'big' }, timeoutMillis: 10_000 });
      const { code, error } = await sendSpan(exporter, `big ${i}`);
      assert.equal(code, ExportResultCode.SUCCESS, String(error));
      assert.equal((await post('big', body)).status, 200);
    }
    const m = await metrics();
    assert.ok(m['strand_rate_limited_requests_total{tenant="small"}'] >= 3, JSON.stringify(m));
    assert.equal(m['strand_rate_limited_requests_total{tenant="big"}'], undefined);
    // Tempo's tempo_discarded_spans_total: the 10 spans of each of the 3 refused requests.
    assert.equal(m['strand_discarded_spans_total{tenant="small",reason="rate_limited"}'], 30);
    assert.equal(m['strand_discarded_spans_total{tenant="big",reason="rate_limited"}'], undefined);
    assert.ok(m['strand_receiver_tenant_bytes_received_total{tenant="big"}'] > 3 * body.length);
  });

  test('spans over max_bytes_per_trace are a partial success, counted', async () => {
    const r = await strand.postJson(requestObject(4, 400), { headers: { 'x-scope-orgid': 'capped' } });
    assert.equal(r.status, 200, r.body.toString());
    const answer = JSON.parse(r.body.toString());
    assert.ok(Number(answer.partialSuccess?.rejectedSpans) >= 2, r.body.toString());
    assert.match(answer.partialSuccess.errorMessage, /max_bytes_per_trace=1000 for tenant capped/);
    const m = await metrics();
    assert.ok(m['strand_discarded_spans_total{tenant="capped",reason="trace_too_large"}'] >= 2,
      JSON.stringify(m));
  });

  test('an edited overrides file applies without a restart; a broken one is kept out', async () => {
    const body = request(10);
    const pid = strand.pid;
    writeOverrides(overridesFile(10_000_000, 10_000_000));
    const passed = await eventually(async () => (await post('small', body)).status === 200,
      { timeoutMs: 10_000, intervalMs: 300 });
    assert.ok(passed, 'the raised rate limit applies within the reload period');
    for (let i = 0; i < 5; i++) assert.equal((await post('small', body)).status, 200);
    assert.equal(strand.pid, pid);

    writeOverrides('overrides:\n  small:\n    ingestion:\n      rate_limit: 1\n');
    // The file is read again on the next request after the period.
    const failed = await eventually(async () => {
      await post('small', body);
      return (await metrics())['strand_overrides_reloads_total{result="failure"}'] >= 1;
    }, { timeoutMs: 10_000, intervalMs: 300 });
    assert.ok(failed, 'the broken file is counted');
    assert.equal((await post('small', body)).status, 200, 'the last good limits stay');
    assert.ok(strand.tail(200).includes('rate_limit'), 'the log names the unknown key');
    assert.ok(strand.isRunning());
  });
});
