// Hostile clients against a real Strand (bench/hostile.sh runs this): the figures of
// docs/security.md's defences, each measured the way an attacker on the network would try.
//
//   idle-flood  Strand under `ulimit -n 1024`; 1,100 idle TCP connections to the OTLP/gRPC
//               port (and, with --all-ports, spread over the three ports) held for 10 s:
//               log lines written meanwhile, then whether OTLP/gRPC, OTLP/HTTP and the API
//               each answer once the connections are closed.
//   slowloris   800 connections that send half a request header and then one byte every
//               5 s: how many Strand has closed after 15 s and after 30 s.
//   grpc-bomb   a gRPC Export message of ~1 MB, gzip, that inflates to 1 GiB, three at
//               once: time to the answer, the grpc-status, Strand's peak RSS (VmHWM).
//               With --memory-limit, Strand runs with it.
//   memory      40 clients each uploading a valid 63 MB OTLP/HTTP request slowly (1 MiB
//               every 250 ms; a refused upload waits 1 s and starts again) while
//               strand-loadgen sends unthrottled over gRPC (4 workers, 16 in flight), for
//               30 s: Strand's peak RSS (VmHWM), how /ready answered (polled every 250 ms),
//               the uploads' answers, and the spans acknowledged. Strand runs with
//               `--memory-limit` from --memory-limit (default: none given, so its default).
//
// Usage: node bench/hostile.mjs [--strand build/strand] [--only NAME] [--memory-limit BYTES]
// Prints a table and writes bench/results/hostile.json.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const strandBin = path.resolve(opt('strand', path.join(here, '..', 'build', 'strand')));
const only = opt('only', '');

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts Strand with `ulimit -n fdLimit`; resolves when /ready answers. */
async function startStrand({ fdLimit = 1024, extra = '' } = {}) {
  const [grpc, httpPort, api] = [await freePort(), await freePort(), await freePort()];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strand-hostile-'));
  const cmd = `ulimit -n ${fdLimit} && exec ${strandBin} --data-dir ${dataDir} ` +
    `--otlp-grpc-listen 127.0.0.1:${grpc} --otlp-http-listen 127.0.0.1:${httpPort} ` +
    `--api-listen 127.0.0.1:${api} ${extra}`;
  const child = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
  const s = { child, ports: { grpc, http: httpPort, api }, dataDir, logLines: 0, logBytes: 0 };
  child.stderr.on('data', (d) => {
    s.logBytes += d.length;
    for (const b of d) if (b === 10) s.logLines++;
  });
  for (let i = 0; i < 200; i++) {
    if (await httpStatus(api, '/ready') === 200) return s;
    await sleep(50);
  }
  throw new Error('strand did not start');
}

async function stopStrand(s) {
  s.child.kill('SIGKILL');
  await new Promise((r) => s.child.on('exit', r));
  fs.rmSync(s.dataDir, { recursive: true, force: true });
}

function peakRssMb(s) {
  const status = fs.readFileSync(`/proc/${s.child.pid}/status`, 'utf8');
  return Number(status.match(/VmHWM:\s+(\d+) kB/)[1]) / 1024;
}

function httpStatus(port, p, { method = 'GET', body, headers = {} } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => { socket.destroy(); resolve(0); }, 3000);
    socket.on('connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`${method} ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${extra}` +
        (body ? `Content-Length: ${body.length}\r\n\r\n` : '\r\n'));
      if (body) socket.write(body);
    });
    socket.on('data', (d) => { data += d.toString('latin1'); });
    const done = () => {
      clearTimeout(timer);
      resolve(Number(data.match(/^HTTP\/1\.1 (\d+)/)?.[1] ?? 0));
    };
    socket.on('end', done);
    socket.on('error', () => { clearTimeout(timer); resolve(0); });
  });
}

/** One raw gRPC Export call; `message` is the 5-byte-framed payload. */
function grpcExport(port, message, { encoding } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on('error', (err) => resolve({ status: `error ${err.code}`, ms: Date.now() - started }));
    const headers = {
      ':method': 'POST', ':path': '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      'content-type': 'application/grpc', te: 'trailers',
    };
    if (encoding) headers['grpc-encoding'] = encoding;
    const req = client.request(headers);
    let status = null;
    let message_ = '';
    req.on('response', (h) => { if (h['grpc-status'] !== undefined) { status = h['grpc-status']; message_ = h['grpc-message'] ?? ''; } });
    req.on('trailers', (t) => { status = t['grpc-status']; message_ = t['grpc-message'] ?? ''; });
    req.on('data', () => {});
    req.on('close', () => {
      client.close();
      resolve({ status: status ?? 'none', message: decodeURIComponent(message_), ms: Date.now() - started });
    });
    req.on('error', () => {});
    req.end(message);
  });
}

function frame(payload, compressed) {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** gzip of `bytes` zeros, made in 16 MiB pieces (never holds the inflated size). */
async function gzipOfZeros(bytes) {
  const gz = zlib.createGzip({ level: 9 });
  const out = [];
  gz.on('data', (d) => out.push(d));
  const chunk = Buffer.alloc(16 << 20);
  for (let left = bytes; left > 0; left -= chunk.length) {
    const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
    if (!gz.write(piece)) await new Promise((r) => gz.once('drain', r));
  }
  await new Promise((r) => gz.end(r));
  return Buffer.concat(out);
}

async function idleFlood() {
  const s = await startStrand({ fdLimit: 1024 });
  const sockets = [];
  for (let i = 0; i < 1100; i++) {
    const sock = net.connect(s.ports.grpc, '127.0.0.1');
    sock.on('error', () => {});
    sockets.push(sock);
  }
  const linesBefore = s.logLines;
  const bytesBefore = s.logBytes;
  await sleep(10_000);
  const grpcDuring = await grpcExport(s.ports.grpc, frame(Buffer.alloc(0), false));
  const linesDuring = s.logLines - linesBefore;
  const bytesDuring = s.logBytes - bytesBefore;
  for (const sock of sockets) sock.destroy();
  await sleep(1500);
  const after = {
    grpc: (await grpcExport(s.ports.grpc, frame(Buffer.alloc(0), false))).status,
    http: await httpStatus(s.ports.http, '/v1/traces', {
      method: 'POST', body: Buffer.alloc(0), headers: { 'content-type': 'application/x-protobuf' } }),
    api: await httpStatus(s.ports.api, '/ready'),
  };
  await stopStrand(s);
  return {
    idle_connections: 1100, fd_limit: 1024, seconds: 10,
    log_lines: linesDuring, log_bytes: bytesDuring,
    grpc_during: grpcDuring.status,
    after_close: after,
  };
}

async function slowloris() {
  const s = await startStrand({ fdLimit: 4096 });
  let closed = 0;
  const sockets = [];
  for (let i = 0; i < 800; i++) {
    const sock = net.connect(s.ports.http, '127.0.0.1', () => {
      sock.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    });
    sock.on('error', () => {});
    sock.on('close', () => { closed++; });
    sockets.push(sock);
  }
  const trickle = setInterval(() => { for (const sock of sockets) if (!sock.destroyed) sock.write('a'); }, 5000);
  await sleep(15_000);
  const at15 = closed;
  await sleep(15_000);
  const at30 = closed;
  clearInterval(trickle);
  const servesAfter = await httpStatus(s.ports.api, '/ready');
  for (const sock of sockets) sock.destroy();
  await stopStrand(s);
  return { connections: 800, closed_by_15s: at15, closed_by_30s: at30, api_ready_meanwhile: servesAfter };
}

async function grpcBomb() {
  const limit = opt('memory-limit', '');
  const s = await startStrand({ fdLimit: 4096, extra: limit ? `--memory-limit ${limit}` : '' });
  const bomb = await gzipOfZeros(1 << 30);
  const rssBefore = peakRssMb(s);
  const results = await Promise.all([0, 1, 2].map(() => grpcExport(s.ports.grpc, frame(bomb, true), { encoding: 'gzip' })));
  const rssAfter = peakRssMb(s);
  const ready = await httpStatus(s.ports.api, '/ready');
  await stopStrand(s);
  return {
    memory_limit: limit || 'default', compressed_bytes: bomb.length, inflated_bytes: 1 << 30,
    concurrent: 3,
    answers: results.map((r) => ({ grpc_status: r.status, ms: r.ms, message: r.message })),
    peak_rss_mb_before: Math.round(rssBefore), peak_rss_mb_after: Math.round(rssAfter),
    ready_after: ready,
  };
}

/** A valid ExportTraceServiceRequest of about `bytes`: spans with 1 KiB names, each its own
 * trace, in one resource and scope (protobuf written by hand: the bench needs no codegen). */
function bigExportRequest(bytes, salt) {
  const varint = (n) => {
    const out = [];
    while (n > 127) { out.push((n & 127) | 128); n = Math.floor(n / 128); }
    out.push(n);
    return Buffer.from(out);
  };
  const field = (num, payload) => Buffer.concat([varint(num * 8 + 2), varint(payload.length), payload]);
  const name = Buffer.alloc(1024, 'n');
  const spans = [];
  let size = 0;
  for (let i = 0; size < bytes - 2048; i++) {
    const traceId = Buffer.alloc(16);
    traceId.writeUInt32BE(salt, 0);
    traceId.writeUInt32BE(i + 1, 12);
    const spanId = Buffer.alloc(8);
    spanId.writeUInt32BE(i + 1, 4);
    const now = BigInt(Date.now()) * 1000000n;
    const times = Buffer.alloc(18);
    times[0] = 7 * 8 + 1; times.writeBigUInt64LE(now, 1);        // start_time_unix_nano
    times[9] = 8 * 8 + 1; times.writeBigUInt64LE(now + 1000n, 10);  // end_time_unix_nano
    const span = field(2, Buffer.concat([field(1, traceId), field(2, spanId), field(5, name), times]));
    spans.push(span);
    size += span.length;
  }
  const scopeSpans = field(2, Buffer.concat(spans));
  return field(1, scopeSpans);
}

/** Uploads `body` over OTLP/HTTP at `mibPerTick` MiB per `tickMs`; resolves with the status. */
function slowUpload(port, body, { tickMs = 250, stop }) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let sent = 0;
    let timer = null;
    const finish = () => {
      clearInterval(timer);
      resolve(Number(data.match(/^HTTP\/1\.1 (\d+)/)?.[1] ?? 0));
    };
    socket.on('connect', () => {
      socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\nConnection: close\r\n' +
        `Content-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n\r\n`);
      timer = setInterval(() => {
        if (stop() || socket.destroyed) { clearInterval(timer); socket.destroy(); return; }
        const piece = body.subarray(sent, sent + (1 << 20));
        sent += piece.length;
        if (piece.length > 0) socket.write(piece);
      }, tickMs);
    });
    socket.on('data', (d) => { data += d.toString('latin1'); });
    socket.on('close', finish);
    socket.on('error', () => {});
  });
}

async function memory() {
  const limit = opt('memory-limit', '');
  const s = await startStrand({ fdLimit: 4096, extra: limit ? `--memory-limit ${limit}` : '' });
  const seconds = 30;
  const deadline = Date.now() + seconds * 1000;
  const stop = () => Date.now() >= deadline;
  const bodies = [0, 1, 2, 3].map((i) => bigExportRequest(63_000_000, 1000 + i));
  const answers = {};
  const uploaders = Array.from({ length: 40 }, async (_, i) => {
    while (!stop()) {
      const status = await slowUpload(s.ports.http, bodies[i % bodies.length], { stop });
      if (stop() && status === 0) break;
      answers[status] = (answers[status] ?? 0) + 1;
      if (status !== 200) await sleep(1000);
    }
  });
  const jsonOut = path.join(os.tmpdir(), `hostile-loadgen-${process.pid}.json`);
  const loadgen = spawn(path.join(path.dirname(strandBin), 'strand-loadgen'), [
    '--endpoint', `127.0.0.1:${s.ports.grpc}`, '--protocol', 'grpc', '--workers', '4',
    '--inflight', '16', '--rate', '0', '--duration', `${seconds}s`, '--report-interval', '0',
    '--json-out', jsonOut], { stdio: ['ignore', 'ignore', 'inherit'] });
  const loadgenDone = new Promise((r) => loadgen.on('exit', r));
  const ready = { polls: 0, ok: 0, other: {}, slowest_ms: 0 };
  let rssMax = 0;
  while (!stop()) {
    const t0 = Date.now();
    const status = await httpStatus(s.ports.api, '/ready');
    ready.polls++;
    ready.slowest_ms = Math.max(ready.slowest_ms, Date.now() - t0);
    if (status === 200) ready.ok++; else ready.other[status] = (ready.other[status] ?? 0) + 1;
    const rss = fs.readFileSync(`/proc/${s.child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    rssMax = Math.max(rssMax, Number(rss[1]) / 1024);
    await sleep(250);
  }
  await Promise.all(uploaders);
  await loadgenDone;
  const summary = JSON.parse(fs.readFileSync(jsonOut, 'utf8'));
  fs.rmSync(jsonOut, { force: true });
  const peak = peakRssMb(s);
  const readyAfter = await httpStatus(s.ports.api, '/ready');
  await stopStrand(s);
  return {
    memory_limit: limit || 'default', seconds, slow_uploads: 40, upload_bytes: bodies[0].length,
    upload_answers: answers, ready_during: ready, ready_after: readyAfter,
    peak_rss_mb: Math.round(peak), max_sampled_rss_mb: Math.round(rssMax),
    loadgen: summary,
  };
}

const results = {};
for (const [name, fn] of [['idle-flood', idleFlood], ['slowloris', slowloris], ['grpc-bomb', grpcBomb],
  ['memory', memory]]) {
  if (only && only !== name) continue;
  process.stderr.write(`hostile: ${name}...\n`);
  results[name] = await fn();
  console.log(name, JSON.stringify(results[name], null, 1));
}
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(path.join(here, 'results', 'hostile.json'), JSON.stringify(results, null, 2));
