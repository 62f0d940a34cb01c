// Runs `strand --config <file>` as an OpenTelemetry Collector replacement: a collector
// configuration (otelcol YAML) written to a temp file, environment variables for its
// ${env:...} references, readiness from its health_check extension.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { artifactsDir, httpRequest, strandBin, trackChild } from './strand.mjs';

let counter = 0;

export class Collector {
  /**
   * Options: name, config (YAML text), env (extra environment), healthUrl (GET until 200;
   * the config needs a health_check extension there), readyTimeoutMs.
   */
  static async start(opts) {
    const c = new Collector(opts);
    await c.launch();
    return c;
  }

  constructor({ name = 'collector', config, env = {}, healthUrl, readyTimeoutMs = 30_000 }) {
    this.name = name;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `strand-e2e-${name}-`));
    this.configPath = path.join(this.dir, 'collector.yaml');
    fs.writeFileSync(this.configPath, config);
    this.env = env;
    this.healthUrl = healthUrl;
    this.readyTimeoutMs = readyTimeoutMs;
    this.child = null;
    this.logTail = [];
  }

  async launch() {
    fs.mkdirSync(artifactsDir, { recursive: true });
    this.logPath = path.join(artifactsDir, `${this.name}-${process.pid}-${++counter}.log`);
    const log = fs.createWriteStream(this.logPath);
    const args = ['--config', this.configPath];
    log.write(`$ ${Object.entries(this.env).map(([k, v]) => `${k}=${v} `).join('')}${strandBin} ${args.join(' ')}\n`);
    const child = spawn(strandBin, args, {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env },
    });
    this.child = child;
    trackChild(child);
    this.logTail = [];
    const onData = (chunk) => {
      log.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.logTail.push(line);
      if (this.logTail.length > 400) this.logTail.splice(0, this.logTail.length - 200);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    child.on('close', () => log.end());
    let exitInfo = null;
    this.exited.then((e) => { exitInfo = e; });
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      if (exitInfo) throw new Error(`collector exited before it was ready (code ${exitInfo.code})\n${this.tail()}`);
      try {
        const r = await httpRequest(this.healthUrl, { timeoutMs: 2000 });
        if (r.status === 200) break;
      } catch { /* not yet */ }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`collector not healthy after ${this.readyTimeoutMs} ms\n${this.tail()}`);
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

  get pid() { return this.child?.pid; }

  /** SIGTERM; must exit 0 within the timeout. */
  async stop({ timeoutMs = 60_000 } = {}) {
    if (!this.child) return;
    const child = this.child;
    if (this.isRunning()) child.kill('SIGTERM');
    let timer;
    const r = await Promise.race([this.exited,
      new Promise((res) => { timer = setTimeout(() => res(null), timeoutMs); })]);
    clearTimeout(timer);
    this.child = null;
    if (r === null) {
      child.kill('SIGKILL');
      throw new Error(`collector did not exit within ${timeoutMs} ms\n${this.tail()}`);
    }
    if (r.code !== 0) throw new Error(`collector exited ${r.code}/${r.signal}\n${this.tail()}`);
  }

  async kill9() {
    if (!this.child) return;
    if (this.isRunning()) this.child.kill('SIGKILL');
    await this.exited;
    this.child = null;
  }

  async close() {
    if (this.isRunning()) await this.stop();
    if (!process.env.STRAND_E2E_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A Prometheus text page as {name{labels}: value}. */
export async function scrape(url) {
  const r = await httpRequest(url, { timeoutMs: 5000 });
  const out = {};
  for (const line of r.body.toString('utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

/** Peak resident set (VmHWM) and current (VmRSS) of a process, in MiB. */
export function memoryMiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
  return { peak: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
}
