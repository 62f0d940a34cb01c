// Runs the real strand binary for end-to-end tests, and talks to it.
//
//   const s = await Strand.start({ name: 'sdk' });   // free ports, fresh data dir, waits for /ready
//   await s.post('/v1/traces', body, { contentType: 'application/json' });
//   const { spans } = await s.readTrace(traceIdHex, { api: 'v2', format: 'proto' });
//   await s.kill9(); await s.restart();               // same data dir, new process
//   await s.stop();                                   // SIGTERM, must exit 0
//
// Environment: STRAND_BIN (default <repo>/build/strand), STRAND_E2E_KEEP=1 keeps data dirs.
// Server logs go to tests/e2e/artifacts/<name>-<n>.log.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { pb, decodeToObject, otlpJsonToCanonical } from './proto.mjs';
import { readV1Body, readV2Body, ShapeError, compareSpans, CanonicalReader } from './model.mjs';

export * from './model.mjs';
export * from './proto.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const e2eDir = path.resolve(here, '..');
export const artifactsDir = path.join(e2eDir, 'artifacts');

export const strandBin = process.env.STRAND_BIN || path.join(e2eDir, '..', '..', 'build', 'strand');

// The SDK exporters read OTEL_* variables; keep the caller's environment out of the tests.
for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_')) delete process.env[k];

/** Ports that were free a moment ago (several at once, so they are distinct). */
export async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
      });
      servers.push(srv);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

// Every server process a test file started and that has not exited: killed when the file's
// process exits, so none outlives its test file.
const running = new Set();
function killRunning() {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', killRunning);

/** Registers a spawned server process with the exit guard above (it leaves on exit). */
export function trackChild(child) {
  running.add(child);
  child.on('exit', () => running.delete(child));
}

// A deadline for the whole test file. Node.js 18 (Debian 12's) has no --test-timeout, and
// its runner skips a suite's after() hooks when its before() hook fails (nodejs/node#50842):
// the servers that before() had started would keep this process, and so `make test`, alive
// for ever. Past the deadline the file's servers are killed and the file fails.
const fileDeadlineMs = Number(process.env.STRAND_E2E_FILE_DEADLINE_MS || 600_000);
setTimeout(() => {
  console.error(`e2e: ${process.argv[1]} still running after ${fileDeadlineMs} ms; `
    + `killing its ${running.size} server(s) and failing`);
  killRunning();
  process.exit(1);
}, fileDeadlineMs).unref();

let instanceCounter = 0;

export class Strand {
  /**
   * Starts a server. Options: name (log file prefix), dataDir (default: a fresh temp dir),
   * maxRequestBytes, multitenancy, extraArgs, readyTimeoutMs.
   */
  static async start(opts = {}) {
    const s = new Strand(opts);
    await s.launch();
    return s;
  }

  constructor({ name = 'strand', dataDir, maxRequestBytes, multitenancy = false, extraArgs = [],
    readyTimeoutMs = 30_000, host = '127.0.0.1', grpcPort, tls } = {}) {
    if (!fs.existsSync(strandBin)) {
      throw new Error(`strand binary not found at ${strandBin}: build it (cmake) or set STRAND_BIN`);
    }
    this.name = name;
    this.ownsDataDir = !dataDir;
    this.dataDir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `strand-e2e-${name}-`));
    this.maxRequestBytes = maxRequestBytes;
    this.multitenancy = multitenancy;
    this.extraArgs = extraArgs;
    this.readyTimeoutMs = readyTimeoutMs;
    this.host = host; // every listener binds this loopback address
    this.fixedGrpcPort = grpcPort; // OTLP/gRPC on this port instead of a free one
    // {ca, cert, key} (PEM): the listeners serve TLS (set up by the caller's --config);
    // URLs become https and requests trust `ca` and present cert/key when given.
    this.tls = tls;
    this.child = null;
    this.generation = 0;
    this.logTail = [];
  }

  get grpcAddress() { return `${this.host}:${this.ports.grpc}`; }
  get scheme() { return this.tls ? 'https' : 'http'; }
  get grpcUrl() { return `${this.scheme}://${this.host}:${this.ports.grpc}`; }
  get otlpHttpUrl() { return `${this.scheme}://${this.host}:${this.ports.http}`; }
  get apiUrl() { return `${this.scheme}://${this.host}:${this.ports.api}`; }
  get tracesUrl() { return `${this.otlpHttpUrl}/v1/traces`; }
  get pid() { return this.child?.pid; }

  async launch() {
    const [grpc, httpPort, api] = await freePorts(3);
    this.ports = { grpc: this.fixedGrpcPort ?? grpc, http: httpPort, api };
    const args = [
      '--data-dir', this.dataDir,
      '--otlp-grpc-listen', this.grpcAddress,
      '--otlp-http-listen', `${this.host}:${httpPort}`,
      '--api-listen', `${this.host}:${api}`,
    ];
    if (this.maxRequestBytes !== undefined) args.push('--max-request-bytes', String(this.maxRequestBytes));
    if (this.multitenancy) args.push('--multitenancy');
    args.push(...this.extraArgs);

    fs.mkdirSync(artifactsDir, { recursive: true });
    this.generation++;
    this.logPath = path.join(artifactsDir, `${this.name}-${process.pid}-${++instanceCounter}.log`);
    const log = fs.createWriteStream(this.logPath);
    log.write(`$ ${strandBin} ${args.join(' ')}\n`);
    this.logTail = [];
    const child = spawn(strandBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    trackChild(child);
    const onData = (chunk) => {
      log.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) this.logTail.push(line);
      }
      if (this.logTail.length > 400) this.logTail.splice(0, this.logTail.length - 200);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    // Close the log only when both pipes are drained.
    child.on('close', () => log.end());
    child.on('error', (err) => onData(Buffer.from(`spawn error: ${err.message}\n`)));

    const deadline = Date.now() + this.readyTimeoutMs;
    let exitInfo = null;
    this.exited.then((e) => { exitInfo = e; });
    for (;;) {
      if (exitInfo) {
        throw new Error(`strand exited before it was ready (code ${exitInfo.code}, signal ${exitInfo.signal})\n${this.tail()}`);
      }
      try {
        const r = await httpRequest(`${this.apiUrl}/ready`, { timeoutMs: 2000, tls: this.tls });
        if (r.status === 200) break;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`strand not ready after ${this.readyTimeoutMs} ms\n${this.tail()}`);
      }
      await sleep(50);
    }
  }

  tail(n = 40) {
    return `--- last ${n} log lines of ${this.logPath} ---\n${this.logTail.slice(-n).join('\n')}`;
  }

  isRunning() {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM (or `signal`); resolves to {code, signal}. Throws unless it exits 0 in time. */
  async stop({ signal = 'SIGTERM', timeoutMs = 30_000, removeDataDir = false } = {}) {
    if (!this.child) return null;
    const child = this.child;
    if (this.isRunning()) child.kill(signal);
    let timer;
    const result = await Promise.race([
      this.exited,
      new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); }),
    ]);
    clearTimeout(timer);
    this.child = null;
    if (result === null) {
      child.kill('SIGKILL');
      await this.exited;
      throw new Error(`strand did not exit within ${timeoutMs} ms of ${signal}\n${this.tail()}`);
    }
    if (removeDataDir) this.cleanup();
    if (result.code !== 0) {
      throw new Error(`strand exited with code ${result.code} signal ${result.signal} after ${signal}, want 0\n${this.tail()}`);
    }
    return result;
  }

  /** kill -9, then waits until the process is gone. */
  async kill9() {
    const child = this.child;
    if (!child) return;
    if (this.isRunning()) child.kill('SIGKILL');
    await this.exited;
    this.child = null;
  }

  /** Starts a new process on the same data dir (after stop or kill9), on new ports. */
  async restart() {
    if (this.isRunning()) throw new Error('restart() while still running');
    await this.launch();
  }

  /** Stops (SIGTERM, must exit 0) and removes the data dir it created. */
  async close() {
    if (this.isRunning()) return this.stop({ removeDataDir: true });
    this.cleanup();
    return null;
  }

  cleanup() {
    if (this.ownsDataDir && !process.env.STRAND_E2E_KEEP) {
      fs.rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  // ---- HTTP --------------------------------------------------------------------------

  /** Any request to the API port. */
  api(pathAndQuery, opts = {}) {
    return httpRequest(`${this.apiUrl}${pathAndQuery}`, { tls: this.tls, ...opts });
  }

  /**
   * POSTs an OTLP body to /v1/traces (or `path`). `body` is a Buffer/string (sent as is),
   * `contentType` defaults from `json`, `encoding` compresses the body (gzip|deflate|zstd)
   * and sets Content-Encoding.
   */
  async postTraces(body, { contentType, encoding, headers = {}, method = 'POST', path: p = '/v1/traces',
    timeoutMs, agent } = {}) {
    let buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const h = { ...headers };
    if (contentType !== undefined) h['content-type'] = contentType;
    if (encoding) {
      buf = compress(buf, encoding);
      h['content-encoding'] = encoding;
    }
    return httpRequest(`${this.otlpHttpUrl}${p}`, { method, headers: h, body: buf, timeoutMs, agent,
      tls: this.tls });
  }

  /** POSTs an OTLP/JSON-shaped request object as JSON. */
  postJson(req, opts = {}) {
    const text = typeof req === 'string' ? req : JSON.stringify(req);
    return this.postTraces(text, { contentType: 'application/json', ...opts });
  }

  /** POSTs a protobufjs message or raw protobuf bytes. */
  postProto(msgOrBytes, opts = {}) {
    const bytes = Buffer.isBuffer(msgOrBytes) || msgOrBytes instanceof Uint8Array
      ? Buffer.from(msgOrBytes)
      : Buffer.from(pb.ExportTraceServiceRequest.encode(msgOrBytes).finish());
    return this.postTraces(bytes, { contentType: 'application/x-protobuf', ...opts });
  }

  /**
   * GET /api/traces/<id> (api 'v1') or /api/v2/traces/<id> (api 'v2'), JSON or protobuf.
   * Resolves to {status, headers, body, spans, issues, partial, message}; spans/issues
   * only on 200. Throws ShapeError (with the body) if a 200 body cannot be read.
   */
  async readTrace(traceId, { api = 'v2', format = 'json', query = '', headers = {} } = {}) {
    const p = api === 'v1' ? `/api/traces/${traceId}` : `/api/v2/traces/${traceId}`;
    const h = { ...headers };
    if (format === 'proto') h.accept = 'application/protobuf';
    const r = await this.api(`${p}${query ? `?${query}` : ''}`, { headers: h });
    const out = { status: r.status, headers: r.headers, body: r.body, request: `GET ${p}${query ? `?${query}` : ''}` + (format === 'proto' ? ' (Accept: application/protobuf)' : '') };
    if (r.status !== 200) return out;
    let obj;
    try {
      if (format === 'proto') {
        obj = decodeToObject(api === 'v1' ? pb.TraceV1 : pb.TraceByIDResponse, r.body);
      } else {
        obj = JSON.parse(r.body.toString('utf8'));
      }
    } catch (err) {
      throw new ShapeError(`${out.request}: cannot decode ${format} body (${err.message}); content-type ${r.headers['content-type']}; body starts ${JSON.stringify(r.body.subarray(0, 200).toString('latin1'))}`);
    }
    const opts = { canonicalChecks: format === 'json' };
    const read = api === 'v1' ? readV1Body(obj, opts) : readV2Body(obj, opts);
    Object.assign(out, { spans: read.spans, issues: read.issues, partial: read.status === 'PARTIAL',
      message: read.message });
    return out;
  }
}

/**
 * Reads every trace of `expected` (span records) back through `modes` and compares.
 * Returns {problems, issues}: problems are data differences and failed requests, issues
 * are deviations from canonical protobuf JSON (JSON modes only).
 */
export async function verifyTraces(strand, expected, { modes = READ_MODES, query = '', headers } = {}) {
  const byTrace = new Map();
  for (const s of expected) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
  const problems = [];
  const issues = [];
  for (const mode of modes) {
    for (const [traceId, spans] of byTrace) {
      const r = await strand.readTrace(traceId, { ...mode, query, headers });
      const where = `[${r.request}]`;
      if (r.status !== 200) {
        problems.push(`${where} status ${r.status}, want 200; body ${JSON.stringify(r.body.subarray(0, 300).toString('utf8'))}`);
        continue;
      }
      const ct = String(r.headers['content-type'] ?? '');
      const wantCt = mode.format === 'proto' ? 'application/protobuf' : 'application/json';
      if (!ct.startsWith(wantCt)) problems.push(`${where} content-type ${JSON.stringify(ct)}, want ${wantCt}`);
      if (r.partial) problems.push(`${where} status PARTIAL (${r.message})`);
      for (const p of compareSpans(spans, r.spans)) problems.push(`${where} ${p}`);
      for (const i of r.issues) issues.push(`${where} ${i}`);
    }
  }
  return { problems, issues };
}

/**
 * The span records an OTLP/JSON-shaped request (hex IDs; see proto.mjs) should read back
 * as: what a conforming receiver keeps of it.
 */
export function recordsFromRequest(req) {
  const canonical = otlpJsonToCanonical(req);
  return new CanonicalReader({ canonicalChecks: false })
    .resourceSpansList(canonical.resourceSpans, 'resourceSpans');
}

export const READ_MODES = [
  { api: 'v1', format: 'json' },
  { api: 'v2', format: 'json' },
  { api: 'v1', format: 'proto' },
  { api: 'v2', format: 'proto' },
];

export const modeName = (m) => `${m.api} ${m.format}`;

/**
 * A tiny HTTP client that returns raw bytes and does no decompression. With header
 * 'transfer-encoding: chunked' the body is sent in 64 KiB chunks without a length. If the
 * server answers and closes before the whole body was sent (e.g. 413), the answer is
 * still returned.
 */
export function httpRequest(url, { method = 'GET', headers = {}, body, timeoutMs = 30_000, agent = false,
  tls } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    const chunked = String(h['transfer-encoding'] ?? '').toLowerCase() === 'chunked';
    if (body !== undefined && !chunked && h['content-length'] === undefined) {
      h['content-length'] = Buffer.byteLength(body);
    }
    let response = null;
    const chunks = [];
    let settled = false;
    const finish = (extra = {}) => {
      if (settled) return;
      settled = true;
      const buf = Buffer.concat(chunks);
      resolve({
        status: response.statusCode,
        headers: response.headers,
        body: buf,
        text: () => buf.toString('utf8'),
        json: () => JSON.parse(buf.toString('utf8')),
        ...extra,
      });
    };
    const secure = url.startsWith('https:');
    const tlsOptions = secure && tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {};
    const req = (secure ? https : http).request(url, { method, headers: h, agent, ...tlsOptions }, (res) => {
      response = res;
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => finish());
      res.on('aborted', () => finish({ truncated: true }));
      res.on('error', () => finish({ truncated: true }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no response in ${timeoutMs} ms`)));
    req.on('error', (err) => {
      if (response) finish({ truncated: true });
      else if (!settled) { settled = true; reject(err); }
    });
    if (body === undefined) {
      req.end();
    } else if (chunked) {
      const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
      for (let off = 0; off < buf.length; off += 65536) req.write(buf.subarray(off, off + 65536));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** Compresses with gzip, deflate (zlib format, as HTTP's "deflate" is) or zstd (CLI). */
export function compress(buf, encoding) {
  switch (encoding) {
    case 'gzip': return zlib.gzipSync(buf);
    case 'deflate': return zlib.deflateSync(buf);
    case 'zstd': return execFileSync('zstd', ['-q', '-c', '-3'], { input: buf, maxBuffer: 1 << 30 });
    default: throw new Error(`unknown encoding ${encoding}`);
  }
}

export function decompress(buf, encoding) {
  switch (encoding) {
    case undefined: case '': case 'identity': return buf;
    case 'gzip': return zlib.gunzipSync(buf);
    case 'deflate': return zlib.inflateSync(buf);
    case 'zstd': return execFileSync('zstd', ['-q', '-d', '-c'], { input: buf, maxBuffer: 1 << 30 });
    default: throw new Error(`unknown content-encoding ${encoding}`);
  }
}

/** The response body with any Content-Encoding undone. */
export function responseBody(r) {
  return decompress(r.body, r.headers['content-encoding']);
}

// ---- IDs and time ----------------------------------------------------------------------

export function randomHex(bytes) {
  let id;
  do id = Buffer.from(Array.from({ length: bytes }, () => Math.floor(Math.random() * 256))).toString('hex');
  while (/^0+$/.test(id));
  return id;
}
export const newTraceId = () => randomHex(16);
export const newSpanId = () => randomHex(8);

/** Now in unix nanoseconds as a decimal string, plus `offsetMs`. */
export function nowNanos(offsetMs = 0) {
  return ((BigInt(Date.now()) + BigInt(offsetMs)) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString();
}

/**
 * Polls fn until it returns truthy or the deadline passes; returns the last value. A throw
 * (an assertion that does not hold yet) counts as "not yet"; past the deadline it is thrown.
 */
export async function eventually(fn, { timeoutMs = 5000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v || Date.now() > deadline) return v;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await sleep(intervalMs);
  }
}

export { sleep };
export * from './grpc.mjs';
