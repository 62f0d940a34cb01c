// Authentication, the collector's way (docs/security.md): a Strand whose own listeners are
// guarded by authenticator extensions of its config file, with multi-tenancy on and every
// credential bound to the tenant "shop":
//   - OTLP/gRPC: basicauth (htpasswd file: a bcrypt and a {SHA} user);
//   - OTLP/HTTP: bearertokenauth;
//   - the Tempo API and UI: the same basicauth; /ready stays open.
// The OpenTelemetry JS SDK's exporters send with and without credentials; traces are read
// back with and without them; a rotated htpasswd file is used without a restart; and a
// collector (strand --config) forwards through an otlp exporter using basicauth client_auth.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Metadata, credentials, status as grpcStatus } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';

import { Strand, httpRequest, eventually, freePorts } from './lib/strand.mjs';
import { Collector, scrape } from './lib/collector.mjs';
import { sendSpan } from './lib/send.mjs';

// "s3cret" hashed by `htpasswd -B -C 5` (bcrypt).
const BCRYPT_S3CRET = '$2y$05$abcdefghijklmnopqrstuuLK7U1u6pVRmL7L1BBM2aS35PSZnDXlK';
const APP_TOKEN = 'app-token-1234';

const basic = (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const sha = (password) => `{SHA}${createHash('sha1').update(password).digest('base64')}`;

/** A gRPC exporter to `url` sending `md` (header name → value) as metadata. */
function grpcExporter(url, md = {}) {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(md)) metadata.set(k, v);
  return new GrpcExporter({ url, credentials: credentials.createInsecure(), metadata,
    timeoutMillis: 10_000 });
}

describe('authentication on every listener, with tenant-bound credentials', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strand-auth-'));
  const htpasswd = path.join(dir, 'users.htpasswd');
  let strand;

  const writeUsers = (grafanaPassword) => {
    fs.writeFileSync(`${htpasswd}.new`,
      `# users\ncollector:${BCRYPT_S3CRET}\ngrafana:${sha(grafanaPassword)}\n`);
    fs.renameSync(`${htpasswd}.new`, htpasswd); // as a Secret update is seen: a new file
  };

  before(async () => {
    writeUsers('grafana-pw');
    const configPath = path.join(dir, 'strand.yaml');
    fs.writeFileSync(configPath, `
extensions:
  basicauth/users:
    htpasswd: {file: ${htpasswd}}
    tenants: {collector: shop, grafana: shop}
  bearertokenauth/apps:
    token: \${env:APP_TOKEN}
    tenant: shop
service:
  extensions: [basicauth/users, bearertokenauth/apps]
strand:
  multitenancy_enabled: true
  api: {auth: {authenticator: basicauth/users}}
  otlp:
    grpc: {auth: {authenticator: basicauth/users}}
    http: {auth: {authenticator: bearertokenauth/apps}}
`);
    process.env.APP_TOKEN = APP_TOKEN;
    strand = await Strand.start({ name: 'auth', extraArgs: ['--config', configPath] });
  });
  after(async () => {
    await strand?.stop({ removeDataDir: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const asGrafana = { authorization: basic('grafana', 'grafana-pw') };

  test('the SDK\'s HTTP exporters need the bearer token', async () => {
    for (const [kind, Exporter] of [['http/json', HttpJsonExporter], ['http/protobuf', HttpProtoExporter]]) {
      const bare = new Exporter({ url: strand.tracesUrl, timeoutMillis: 10_000 });
      assert.equal((await sendSpan(bare, `${kind} without a token`)).code, ExportResultCode.FAILED, kind);
      const wrong = new Exporter({ url: strand.tracesUrl, headers: { Authorization: 'Bearer nope' } });
      assert.equal((await sendSpan(wrong, `${kind} wrong token`)).code, ExportResultCode.FAILED, kind);
      const good = new Exporter({ url: strand.tracesUrl, headers: { Authorization: `Bearer ${APP_TOKEN}` } });
      const { code, traceId } = await sendSpan(good, `over ${kind}`, { service: 'shop-web' });
      assert.equal(code, ExportResultCode.SUCCESS, kind);
      const r = await strand.readTrace(traceId, { headers: asGrafana });
      assert.equal(r.status, 200, `${kind}: ${r.body}`);
      assert.equal(r.spans[0].name, `over ${kind}`);
    }
    const r = await httpRequest(strand.tracesUrl, { method: 'POST', body: '{}',
      headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="strand"');
  });

  test('the SDK\'s gRPC exporter needs Basic credentials (bcrypt user)', async () => {
    const failed = await sendSpan(grpcExporter(strand.grpcUrl), 'grpc without credentials');
    assert.equal(failed.code, ExportResultCode.FAILED);
    assert.equal(failed.error?.code, grpcStatus.UNAUTHENTICATED, String(failed.error));
    const wrong = await sendSpan(grpcExporter(strand.grpcUrl,
      { authorization: basic('collector', 'wrong') }), 'grpc wrong password');
    assert.equal(wrong.error?.code, grpcStatus.UNAUTHENTICATED, String(wrong.error));
    const ok = await sendSpan(grpcExporter(strand.grpcUrl,
      { authorization: basic('collector', 's3cret') }), 'over grpc', { service: 'shop-api' });
    assert.equal(ok.code, ExportResultCode.SUCCESS, String(ok.error));
    const r = await strand.readTrace(ok.traceId, { headers: asGrafana, format: 'proto' });
    assert.equal(r.status, 200);
    assert.equal(r.spans[0].name, 'over grpc');
  });

  test('a credential bound to a tenant cannot name another one', async () => {
    const other = await sendSpan(grpcExporter(strand.grpcUrl,
      { authorization: basic('collector', 's3cret'), 'x-scope-orgid': 'other' }), 'other tenant');
    assert.equal(other.error?.code, grpcStatus.PERMISSION_DENIED, String(other.error));
    const http = new HttpProtoExporter({ url: strand.tracesUrl,
      headers: { Authorization: `Bearer ${APP_TOKEN}`, 'X-Scope-OrgID': 'other' } });
    assert.equal((await sendSpan(http, 'other tenant over http')).code, ExportResultCode.FAILED);
    // Naming the bound tenant is fine, and reads see only that tenant.
    const same = new HttpProtoExporter({ url: strand.tracesUrl,
      headers: { Authorization: `Bearer ${APP_TOKEN}`, 'X-Scope-OrgID': 'shop' } });
    const { code, traceId } = await sendSpan(same, 'shop by name');
    assert.equal(code, ExportResultCode.SUCCESS);
    assert.equal((await strand.readTrace(traceId, { headers: { ...asGrafana, 'X-Scope-OrgID': 'shop' } })).status, 200);
    const denied = await strand.readTrace(traceId, { headers: { ...asGrafana, 'X-Scope-OrgID': 'other' } });
    assert.equal(denied.status, 403);
  });

  test('the Tempo API and UI answer 401 without credentials; /ready stays open', async () => {
    const { code, traceId } = await sendSpan(new HttpJsonExporter({ url: strand.tracesUrl,
      headers: { Authorization: `Bearer ${APP_TOKEN}` } }), 'read me');
    assert.equal(code, ExportResultCode.SUCCESS);
    for (const p of [`/api/traces/${traceId}`, `/api/v2/traces/${traceId}`, '/api/search?q=%7B%7D',
      '/api/v2/search/tags', '/api/status/buildinfo', '/metrics', '/']) {
      for (const headers of [{}, { authorization: basic('grafana', 'wrong') }]) {
        const r = await strand.api(p, { headers });
        assert.equal(r.status, 401, `${p} ${JSON.stringify(headers)}`);
        assert.equal(r.headers['www-authenticate'], 'Basic realm="strand", charset="UTF-8"');
      }
    }
    assert.equal((await strand.api('/ready')).status, 200);
    const search = await strand.api('/api/search?q=%7B%7D', { headers: asGrafana });
    assert.equal(search.status, 200);
    assert.ok(search.json().traces.some((t) => t.traceID === traceId), search.text());
    assert.equal((await strand.api('/', { headers: asGrafana })).status, 200);
  });

  test('a rotated htpasswd file is used without a restart', async () => {
    writeUsers('rotated-pw');
    const rotated = { authorization: basic('grafana', 'rotated-pw') };
    const ok = await eventually(async () =>
      (await strand.api('/api/search/tags', { headers: rotated })).status === 200,
    { timeoutMs: 10_000, intervalMs: 200 });
    assert.ok(ok, 'the new password is accepted');
    assert.equal((await strand.api('/api/search/tags', { headers: asGrafana })).status, 401);
    writeUsers('grafana-pw');
    assert.ok(await eventually(async () =>
      (await strand.api('/api/search/tags', { headers: asGrafana })).status === 200,
    { timeoutMs: 10_000, intervalMs: 200 }));
  });

  test('a collector forwards with basicauth client_auth; a wrong password is refused', async () => {
    const [grpcIn, wrongIn, health, telemetry] = await freePorts(4);
    const config = `
extensions:
  health_check: {endpoint: 127.0.0.1:${health}}
  basicauth/backend:
    client_auth: {username: collector, password: s3cret}
  basicauth/wrong:
    client_auth: {username: collector, password: not-it}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:${grpcIn}}
  otlp/wrong:
    protocols:
      grpc: {endpoint: 127.0.0.1:${wrongIn}}
exporters:
  otlp:
    endpoint: 127.0.0.1:${strand.ports.grpc}
    tls: {insecure: true}
    auth: {authenticator: basicauth/backend}
  otlp/wrong:
    endpoint: 127.0.0.1:${strand.ports.grpc}
    tls: {insecure: true}
    auth: {authenticator: basicauth/wrong}
service:
  extensions: [health_check, basicauth/backend, basicauth/wrong]
  telemetry: {metrics: {address: 127.0.0.1:${telemetry}}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp]}
    traces/wrong: {receivers: [otlp/wrong], exporters: [otlp/wrong]}
`;
    const collector = await Collector.start({ name: 'auth-collector', config,
      healthUrl: `http://127.0.0.1:${health}/` });
    try {
      const { code, traceId } = await sendSpan(grpcExporter(`http://127.0.0.1:${grpcIn}`),
        'through the collector', { service: 'shop-batch' });
      assert.equal(code, ExportResultCode.SUCCESS);
      const found = await eventually(async () =>
        (await strand.readTrace(traceId, { headers: asGrafana })).status === 200,
      { timeoutMs: 15_000, intervalMs: 200 });
      assert.ok(found, `trace ${traceId} reached the guarded backend\n${collector.tail()}`);

      const refused = await sendSpan(grpcExporter(`http://127.0.0.1:${wrongIn}`), 'wrong password');
      assert.equal(refused.code, ExportResultCode.SUCCESS); // the collector queued it
      const failed = await eventually(async () => {
        const m = await scrape(`http://127.0.0.1:${telemetry}/metrics`);
        return m['strand_exporter_send_failed_spans_total{exporter="otlp/wrong"}'] === 1;
      }, { timeoutMs: 15_000, intervalMs: 200 });
      assert.ok(failed, `the backend refused the wrong password (not retried)\n${collector.tail()}`);
      assert.equal((await strand.readTrace(refused.traceId, { headers: asGrafana })).status, 404);
    } finally {
      await collector.stop();
    }
  });
});
