// Time ranges, durations and timestamps as the UI shows them.

export const PRESETS: { key: string; label: string; seconds: number }[] = [
  { key: '15m', label: 'Last 15 minutes', seconds: 15 * 60 },
  { key: '1h', label: 'Last hour', seconds: 3600 },
  { key: '6h', label: 'Last 6 hours', seconds: 6 * 3600 },
  { key: '24h', label: 'Last 24 hours', seconds: 24 * 3600 },
  { key: '7d', label: 'Last 7 days', seconds: 7 * 24 * 3600 },
];
export const DEFAULT_RANGE = '1h';

/** The range of a URL: absolute `start`/`end` (unix s) or a relative `range`, resolved now. */
export function resolveRange(params: URLSearchParams): { start: number; end: number; label: string } {
  const start = Number(params.get('start'));
  const end = Number(params.get('end'));
  if (params.get('start') && params.get('end') && Number.isFinite(start) && Number.isFinite(end) && start < end) {
    return { start: Math.floor(start), end: Math.ceil(end), label: `${formatDate(start * 1000)} – ${formatDate(end * 1000)}` };
  }
  const preset = PRESETS.find((p) => p.key === params.get('range')) ?? PRESETS.find((p) => p.key === DEFAULT_RANGE)!;
  const now = Math.ceil(Date.now() / 1000);
  return { start: now - preset.seconds, end: now + 1, label: preset.label };
}

/** A duration in nanoseconds, to 3 significant digits with a fitting unit. */
export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  const a = Math.abs(ns);
  const fmt = (v: number, u: string) => `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${u}`;
  if (a < 1e3) return `${Math.round(ns)} ns`;
  if (a < 1e6) return fmt(ns / 1e3, 'µs');
  if (a < 1e9) return fmt(ns / 1e6, 'ms');
  if (a < 60e9) return fmt(ns / 1e9, 's');
  const m = Math.floor(a / 60e9);
  if (m < 60) return `${m}m ${Math.round((a - m * 60e9) / 1e9)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local date and time with milliseconds: 2026-11-26 07:40:12.345. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Unix nanoseconds (a decimal string) to milliseconds. */
export function nanosToMs(ns: string | undefined): number {
  if (!ns) return 0;
  return Number(BigInt(ns) / 1000000n);
}

/** For <input type="datetime-local">: local time, minutes precision. */
export function toLocalInput(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A trace ID as typed (hex, up to 32 digits) → 32 lowercase hex digits, or null. */
export function normalizeTraceId(s: string): string | null {
  const t = s.trim().toLowerCase();
  if (!/^[0-9a-f]{1,32}$/.test(t)) return null;
  return t.padStart(32, '0');
}

/** Colours for services: distinct hues (no pure red: red means error), each at least 3:1 on white. */
export const PALETTE = [
  '#2563eb', '#ea580c', '#16a34a', '#9333ea', '#0891b2', '#a16207',
  '#db2777', '#4338ca', '#0f766e', '#65a30d', '#7c2d12', '#475569',
];

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Colours for a set of services: each service's hashed slot, or the next free one. */
export function assignColors(services: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<number>();
  for (const s of services) {
    if (out.has(s)) continue;
    let i = hash(s) % PALETTE.length;
    for (let k = 0; k < PALETTE.length && used.has(i); k++) i = (i + 1) % PALETTE.length;
    used.add(i);
    out.set(s, PALETTE[i]);
  }
  return out;
}
