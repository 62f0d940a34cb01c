// TLS on every listener, as a user turns it on (docs/security.md): a config file with
// strand.otlp.grpc.tls, strand.otlp.http.tls and strand.api.tls; the OpenTelemetry JS
// SDK's gRPC, HTTP/JSON and HTTP/protobuf exporters send over TLS (and mTLS); traces read
// back over HTTPS; plaintext to each TLS port fails; a rotated certificate is served
// without a restart.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';

import { credentials } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';

import { Strand, httpRequest, eventually, freePorts } from './lib/strand.mjs';
import { Collector } from './lib/collector.mjs';
import { sendSpan } from './lib/send.mjs';

/** A self-signed certificate for localhost and 127.0.0.1 (openssl), as {cert, key} paths. */
function makeCertificate(dir, name) {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', `${key}.new`, '-out', `${cert}.new`, '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-addext', 'extendedKeyUsage=serverAuth,clientAuth'], { stdio: 'ignore' });
  // Replaced by rename, as cert-manager (through the kubelet's atomic writer) does.
  fs.renameSync(`${key}.new`, key);
  fs.renameSync(`${cert}.new`, cert);
  return { cert, key };
}

function plaintextAnswers(port) {
  return httpRequest(`http://127.0.0.1:${port}/ready`, { timeoutMs: 5000 }).then(
    (r) => `HTTP ${r.status}`, (err) => `failed: ${err.message}`);
}

describe('TLS and mTLS on every listener', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strand-tls-'));
  let strand;
  let server;
  let client;
  let configPath;

  before(async () => {
    server = makeCertificate(dir, 'server');
    client = makeCertificate(dir, 'client');
    const tlsSection = (extra = '') =>
      `{cert_file: ${server.cert}, key_file: ${server.key}, reload_interval: 100ms${extra}}`;
    configPath = path.join(dir, 'strand.yaml');
    fs.writeFileSync(configPath, [
      'strand:',
      `  api: {tls: ${tlsSection()}}`,
      '  otlp:',
      `    grpc: {tls: ${tlsSection(`, client_ca_file: ${client.cert}`)}}`,
      `    http: {tls: ${tlsSection()}}`,
      '',
    ].join('\n'));
    strand = await Strand.start({
      name: 'tls', extraArgs: ['--config', configPath],
      tls: { ca: fs.readFileSync(server.cert) },
    });
  });
  after(async () => {
    await strand?.stop({ removeDataDir: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const ca = () => fs.readFileSync(server.cert);

  test('the SDK\'s HTTP exporters send over TLS; traces read back over HTTPS', async () => {
    for (const [kind, Exporter] of [['http/json', HttpJsonExporter], ['http/protobuf', HttpProtoExporter]]) {
      const exporter = new Exporter({ url: strand.tracesUrl, httpAgentOptions: { ca: ca() } });
      const { code, traceId } = await sendSpan(exporter, `over ${kind}`);
      assert.equal(code, ExportResultCode.SUCCESS, kind);
      const r = await strand.readTrace(traceId);
      assert.equal(r.status, 200, kind);
      assert.equal(r.spans[0].name, `over ${kind}`);
    }
  });

  test('the SDK\'s gRPC exporter needs a client certificate (mTLS)', async () => {
    const withCert = new GrpcExporter({
      url: strand.grpcUrl,
      credentials: credentials.createSsl(ca(), fs.readFileSync(client.key), fs.readFileSync(client.cert)),
    });
    const ok = await sendSpan(withCert, 'over grpc mtls');
    assert.equal(ok.code, ExportResultCode.SUCCESS);
    const r = await strand.readTrace(ok.traceId, { format: 'proto' });
    assert.equal(r.status, 200);
    const withoutCert = new GrpcExporter({
      url: strand.grpcUrl, credentials: credentials.createSsl(ca()), timeoutMillis: 5000,
    });
    assert.equal((await sendSpan(withoutCert, 'no client cert')).code, ExportResultCode.FAILED);
  });

  test('a collector forwards over TLS: otlphttp (TLS 1.3 only) and otlp with a client certificate', async () => {
    const [grpcIn, httpIn, health] = await freePorts(3);
    const config = `
extensions:
  health_check: {endpoint: 127.0.0.1:${health}}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:${grpcIn}}
      http: {endpoint: 127.0.0.1:${httpIn}}
exporters:
  otlphttp:
    endpoint: https://127.0.0.1:${strand.ports.http}
    tls: {ca_file: ${server.cert}, min_version: "1.3"}
  otlp:
    endpoint: 127.0.0.1:${strand.ports.grpc}
    tls: {ca_file: ${server.cert}, cert_file: ${client.cert}, key_file: ${client.key}, server_name_override: localhost}
service:
  extensions: [health_check]
  pipelines:
    traces/http: {receivers: [otlp], exporters: [otlphttp]}
    traces/grpc: {receivers: [otlp], exporters: [otlp]}
`;
    const collector = await Collector.start({ name: 'tls-collector', config,
      healthUrl: `http://127.0.0.1:${health}/` });
    // Accepted spans by transport on the backend, from its /metrics.
    const accepted = async () => {
      const text = (await strand.api('/metrics')).body.toString('utf8');
      const count = (transport) => Number(text.match(new RegExp(
        `strand_receiver_spans_accepted_total\\{[^}]*protocol="${transport}"[^}]*\\} (\\d+)`))?.[1] ?? 0);
      return { grpc: count('grpc'), http: count('http') };
    };
    const before = await accepted();
    try {
      const exporter = new HttpProtoExporter({ url: `http://127.0.0.1:${httpIn}/v1/traces` });
      const { code, traceId } = await sendSpan(exporter, 'through the collector');
      assert.equal(code, ExportResultCode.SUCCESS);
      // Both pipelines deliver it: the backend keeps one copy of the span.
      const found = await eventually(async () => (await strand.readTrace(traceId)).status === 200,
        { timeoutMs: 15_000, intervalMs: 200 });
      assert.ok(found, `trace ${traceId} reached the TLS backend\n${collector.tail()}`);
      // Each pipeline delivered it: once over HTTPS, once over gRPC with mTLS.
      const ok = await eventually(async () => {
        const now = await accepted();
        return now.grpc > before.grpc && now.http > before.http;
      }, { timeoutMs: 15_000, intervalMs: 200 });
      assert.ok(ok, `both exporters delivered: ${JSON.stringify(await accepted())}\n${collector.tail()}`);
    } finally {
      await collector.stop();
    }
  });

  test('plaintext to a TLS port fails', async () => {
    for (const port of [strand.ports.api, strand.ports.http]) {
      assert.match(await plaintextAnswers(port), /^failed/);
    }
    const plainGrpc = new GrpcExporter({
      url: `http://127.0.0.1:${strand.ports.grpc}`, credentials: credentials.createInsecure(),
      timeoutMillis: 5000,
    });
    assert.equal((await sendSpan(plainGrpc, 'plaintext')).code, ExportResultCode.FAILED);
  });

  test('a rotated certificate is served without a restart', async () => {
    const before = makeCertificate(dir, 'old-copy');
    fs.copyFileSync(server.cert, before.cert);
    makeCertificate(dir, 'server'); // new key and certificate in place
    const served = () => new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: strand.ports.api, rejectUnauthorized: false },
        () => { resolve(socket.getPeerCertificate().fingerprint256); socket.end(); });
      socket.on('error', reject);
    });
    const fingerprint = (file) => new X509Certificate(fs.readFileSync(file)).fingerprint256;
    const got = await eventually(async () => (await served()) === fingerprint(server.cert),
      { timeoutMs: 10_000, intervalMs: 200 });
    assert.ok(got, 'the new certificate is served within 10 s');
    assert.notEqual(fingerprint(server.cert), fingerprint(before.cert));
    strand.tls = { ca: ca() };
    assert.equal((await strand.api('/ready')).status, 200);
  });
});

