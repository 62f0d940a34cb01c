// End to end, with no change to the service's code: `strand webhook` (over TLS, reading
// a Namespace and an Instrumentation from files) answers an AdmissionReview for a pod of
// a Deployment; the pod's container environment is taken from the JSON Patch it returns
// and a plain Node.js HTTP service is started exactly with it (NODE_OPTIONS requiring the
// agent from the mount path, which maps to autoinstrumentation-nodejs/ here, as the init
// container's copy would). Requests to the service must become traces that Strand, started
// by the test, returns through its Tempo API with the resource attributes the patch set.
//
// Environment: STRAND_BIN (default <repo>/build/strand).

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const strandBin = process.env.STRAND_BIN || path.join(here, '../../build/strand');
const agentDir = path.join(here, 'autoinstrumentation-nodejs');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'strand-k8s-e2e-'));
const children = [];

// Starts a process and resolves with the first stdout/stderr match of `ready`.
function start(name, cmd, args, env, ready) {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const log = fs.createWriteStream(path.join(work, `${name}.log`));
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready:\n${text.slice(-3000)}`)), 30_000);
    const onData = (chunk) => {
      log.write(chunk);
      text += chunk.toString();
      const m = text.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, log: () => text });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${name} exited (${code}):\n${text.slice(-3000)}`)));
  });
}

function request(url, { method = 'GET', body, ca } = {}) {
  const lib = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method, ca, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// RFC 6902 add/replace, enough for the webhook's patches.
function applyPatch(doc, patch) {
  for (const op of patch) {
    assert.ok(op.op === 'add' || op.op === 'replace', op.op);
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    let parent = doc;
    for (const p of parts) parent = parent[p];
    if (Array.isArray(parent)) {
      if (last === '-') parent.push(op.value);
      else if (op.op === 'add') parent.splice(Number(last), 0, op.value);
      else parent[Number(last)] = op.value;
    } else {
      parent[last] = op.value;
    }
  }
  return doc;
}

// The container's environment as the kubelet would set it: fieldRefs from the pod, and
// $(VAR) references to variables defined earlier in the list expanded.
function containerEnv(pod, container) {
  const env = {};
  for (const e of container.env ?? []) {
    let value = e.value ?? '';
    if (e.valueFrom?.fieldRef) {
      value = { 'metadata.name': pod.metadata.name, 'spec.nodeName': 'node-1',
        'metadata.namespace': pod.metadata.namespace }[e.valueFrom.fieldRef.fieldPath];
      assert.ok(value !== undefined, e.valueFrom.fieldRef.fieldPath);
    }
    env[e.name] = value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v) => (v in env ? env[v] : m));
  }
  return env;
}

let strand, apiPort, otlpHttpPort, webhook, webhookPort, ca;

before(async () => {
  strand = await start('strand', strandBin, ['--data-dir', path.join(work, 'data'),
    '--otlp-grpc-listen', '127.0.0.1:0', '--otlp-http-listen', '127.0.0.1:0', '--api-listen', '127.0.0.1:0'],
  process.env, /otlp http port (\d+), api port (\d+)/);
  otlpHttpPort = Number(strand.match[1]);
  apiPort = Number(strand.match[2]);

  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(work, 'tls.key'), '-out', path.join(work, 'tls.crt'), '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  ca = fs.readFileSync(path.join(work, 'tls.crt'));
  const cluster = path.join(work, 'cluster');
  fs.mkdirSync(cluster);
  fs.writeFileSync(path.join(cluster, 'shop.json'), JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', annotations: { 'instrumentation.opentelemetry.io/inject-nodejs': 'true' } } },
      { apiVersion: 'opentelemetry.io/v1alpha1', kind: 'Instrumentation', metadata: { name: 'strand', namespace: 'shop' },
        spec: { exporter: { endpoint: `http://127.0.0.1:${otlpHttpPort}` }, propagators: ['tracecontext', 'baggage'],
          sampler: { type: 'parentbased_traceidratio', argument: '1' },
          nodejs: { image: 'ghcr.io/open-telemetry/opentelemetry-operator/autoinstrumentation-nodejs:0.53.0',
            env: [{ name: 'OTEL_NODE_ENABLED_INSTRUMENTATIONS', value: 'http' }, { name: 'OTEL_METRICS_EXPORTER', value: 'none' },
              { name: 'OTEL_LOGS_EXPORTER', value: 'none' }, { name: 'OTEL_BSP_SCHEDULE_DELAY', value: '200' }] } } },
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'checkout-6b7f9c5d8', namespace: 'shop',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout', uid: 'd1', controller: true }] } },
    ],
  }));
  webhook = await start('webhook', strandBin, ['webhook', '--listen', '127.0.0.1:0',
    '--tls-cert', path.join(work, 'tls.crt'), '--tls-key', path.join(work, 'tls.key'),
    '--instrumentation-source', `file:${cluster}`], process.env, /https port (\d+)/);
  webhookPort = Number(webhook.match[1]);
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await sleep(200);
});

test('an uninstrumented Node.js service, run with the patch the webhook returns, traces into Strand', async () => {
  const pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'checkout-6b7f9c5d8-x2x9q', namespace: 'shop', labels: { 'pod-template-hash': '6b7f9c5d8' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'checkout-6b7f9c5d8', uid: 'r1', controller: true }] },
    spec: { containers: [{ name: 'app', image: 'shop/checkout:2.1.0', env: [{ name: 'NODE_OPTIONS', value: '--max-http-header-size=16384' }] }] },
  };
  const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: { uid: 'e2e-1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'shop', object: pod } };
  const r = await request(`https://localhost:${webhookPort}/mutate-v1-pod`, { method: 'POST', body: JSON.stringify(review), ca });
  assert.equal(r.status, 200, r.body);
  const answer = JSON.parse(r.body).response;
  assert.equal(answer.uid, 'e2e-1');
  assert.equal(answer.allowed, true);
  assert.equal(answer.patchType, 'JSONPatch');
  const patched = applyPatch(structuredClone(pod), JSON.parse(Buffer.from(answer.patch, 'base64').toString()));
  const [container] = patched.spec.containers;
  assert.deepEqual(container.volumeMounts, [{ name: 'opentelemetry-auto-instrumentation-nodejs', mountPath: '/otel-auto-instrumentation-nodejs' }]);
  assert.equal(patched.spec.initContainers[0].name, 'opentelemetry-auto-instrumentation-nodejs');

  const env = containerEnv(patched, container);
  assert.equal(env.NODE_OPTIONS, '--max-http-header-size=16384 --require /otel-auto-instrumentation-nodejs/autoinstrumentation.js');
  assert.equal(env.OTEL_SERVICE_NAME, 'checkout');
  // The volume mount, as the init container filled it: the mount path maps to agentDir.
  const appEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  for (const [k, v] of Object.entries(env)) appEnv[k] = v.replaceAll('/otel-auto-instrumentation-nodejs', agentDir);
  const app = await start('app', process.execPath, [path.join(here, 'app/server.cjs')], appEnv, /listening on (\d+)/);
  const appPort = Number(app.match[1]);
  for (let i = 0; i < 5; i++) {
    const res = await request(`http://127.0.0.1:${appPort}/checkout/${i}`);
    assert.equal(res.status, 200);
  }

  const q = encodeURIComponent('{resource.service.name="checkout"}');
  let traces = [];
  for (let waited = 0; waited < 30_000 && traces.length < 5; waited += 250) {
    const s = await request(`http://127.0.0.1:${apiPort}/api/search?q=${q}&limit=20&start=0&end=${Math.ceil(Date.now() / 1000) + 60}`);
    if (s.status === 200) traces = JSON.parse(s.body).traces ?? [];
    if (traces.length < 5) await sleep(250);
  }
  assert.equal(traces.length, 5, `traces of service checkout in Strand; app log:\n${app.log()}`);
  const t = await request(`http://127.0.0.1:${apiPort}/api/traces/${traces[0].traceID}`);
  assert.equal(t.status, 200);
  const trace = JSON.parse(t.body);
  const batch = (trace.batches ?? trace.resourceSpans)[0];
  const attrs = Object.fromEntries(batch.resource.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
  assert.equal(attrs['service.name'], 'checkout');
  assert.equal(attrs['k8s.deployment.name'], 'checkout');
  assert.equal(attrs['k8s.replicaset.name'], 'checkout-6b7f9c5d8');
  assert.equal(attrs['k8s.namespace.name'], 'shop');
  assert.equal(attrs['k8s.pod.name'], 'checkout-6b7f9c5d8-x2x9q');
  assert.equal(attrs['k8s.container.name'], 'app');
  const spans = (batch.scopeSpans ?? batch.instrumentationLibrarySpans).flatMap((s) => s.spans);
  assert.ok(spans.some((s) => s.kind === 'SPAN_KIND_SERVER' || s.kind === 2), JSON.stringify(spans).slice(0, 500));
});
