// A trace from /api/v2/traces/<id> (canonical protobuf JSON: IDs base64, enums by name,
// 64-bit ints as strings) turned into a span tree ready for the waterfall.
import type { AnyValue, KeyValue } from '../api';

export interface SpanEvent {
  name: string;
  offsetNs: number; // from the trace's start
  attributes: KeyValue[];
}
export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState?: string;
  attributes: KeyValue[];
}
export interface Span {
  id: string; // 16 hex digits
  parentId: string; // '' for a root
  name: string;
  service: string;
  kind: string; // server, client, ...
  statusCode: 'unset' | 'ok' | 'error';
  statusMessage: string;
  startNs: number; // from the trace's start
  endNs: number;
  durationNs: number;
  absStartNs: bigint;
  attributes: KeyValue[];
  resource: KeyValue[];
  scope: { name?: string; version?: string };
  events: SpanEvent[];
  links: SpanLink[];
  traceState?: string;
  dropped: { attributes: number; events: number; links: number };
  // Tree, filled by buildTrace:
  depth: number;
  children: Span[];
  parent: Span | null;
  /** Index in Trace.order (depth-first); the subtree is order[index, subtreeEnd). */
  index: number;
  subtreeEnd: number;
}

export interface Trace {
  traceId: string;
  spans: Span[]; // depth-first order: roots by start time, children by start time
  byId: Map<string, Span>;
  roots: Span[];
  startNs: bigint; // absolute, of the earliest span
  durationNs: number; // latest end - earliest start
  services: string[]; // by first appearance in depth-first order
  errorCount: number;
  criticalPath: Set<Span>;
}

/** Base64 (standard or URL alphabet) → lowercase hex. */
export function b64ToHex(b64: string | undefined): string {
  if (!b64) return '';
  const bin = atob(b64.replace(/-/g, '+').replace(/_/g, '/'));
  let out = '';
  for (let i = 0; i < bin.length; i++) out += bin.charCodeAt(i).toString(16).padStart(2, '0');
  return out;
}

/** An attribute value as text (arrays and maps as JSON-like text). */
export function valueText(v: AnyValue | undefined): string {
  if (!v) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.bytesValue !== undefined) return `0x${b64ToHex(v.bytesValue)}`;
  if (v.arrayValue) return `[${(v.arrayValue.values ?? []).map(valueText).map((s) => JSON.stringify(s)).join(', ')}]`;
  if (v.kvlistValue) return `{${(v.kvlistValue.values ?? []).map((kv) => `${kv.key}: ${valueText(kv.value)}`).join(', ')}}`;
  return '';
}

function attr(list: KeyValue[] | undefined, key: string): string | undefined {
  const kv = list?.find((a) => a.key === key);
  return kv ? valueText(kv.value) : undefined;
}

const KIND: Record<string, string> = {
  SPAN_KIND_UNSPECIFIED: 'unspecified', SPAN_KIND_INTERNAL: 'internal', SPAN_KIND_SERVER: 'server',
  SPAN_KIND_CLIENT: 'client', SPAN_KIND_PRODUCER: 'producer', SPAN_KIND_CONSUMER: 'consumer',
  '0': 'unspecified', '1': 'internal', '2': 'server', '3': 'client', '4': 'producer', '5': 'consumer',
};
const STATUS: Record<string, Span['statusCode']> = {
  STATUS_CODE_UNSET: 'unset', STATUS_CODE_OK: 'ok', STATUS_CODE_ERROR: 'error', '0': 'unset', '1': 'ok', '2': 'error',
};

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

const big = (s: string | number | undefined) => BigInt(s ?? 0);

/** Builds the tree of a `{"trace":{"resourceSpans":[...]}}` answer (v1 `batches` too). */
export function buildTrace(json: Json, traceIdHex: string): Trace {
  const rss: Json[] = json?.trace?.resourceSpans ?? json?.resourceSpans ?? json?.batches ?? [];
  const raw: { s: Json; resource: KeyValue[]; scope: Json; service: string }[] = [];
  let minStart: bigint | null = null;
  for (const rs of rss) {
    const resource: KeyValue[] = rs.resource?.attributes ?? [];
    const service = attr(resource, 'service.name') ?? 'unknown';
    for (const ss of rs.scopeSpans ?? rs.instrumentationLibrarySpans ?? []) {
      const scope = ss.scope ?? ss.instrumentationLibrary ?? {};
      for (const s of ss.spans ?? []) {
        raw.push({ s, resource, scope, service });
        const st = big(s.startTimeUnixNano);
        if (minStart === null || st < minStart) minStart = st;
      }
    }
  }
  const base = minStart ?? 0n;
  const spans: Span[] = [];
  const byId = new Map<string, Span>();
  let maxEnd = 0;
  for (const { s, resource, scope, service } of raw) {
    const st = big(s.startTimeUnixNano);
    const en = big(s.endTimeUnixNano ?? s.startTimeUnixNano);
    const startNs = Number(st - base);
    const endNs = Math.max(startNs, Number(en - base));
    if (endNs > maxEnd) maxEnd = endNs;
    const span: Span = {
      id: b64ToHex(s.spanId),
      parentId: b64ToHex(s.parentSpanId),
      name: s.name ?? '',
      service,
      kind: KIND[String(s.kind ?? 'SPAN_KIND_UNSPECIFIED')] ?? String(s.kind),
      statusCode: STATUS[String(s.status?.code ?? 'STATUS_CODE_UNSET')] ?? 'unset',
      statusMessage: s.status?.message ?? '',
      startNs,
      endNs,
      durationNs: endNs - startNs,
      absStartNs: st,
      attributes: s.attributes ?? [],
      resource,
      scope: { name: scope.name, version: scope.version },
      events: (s.events ?? []).map((e: Json) => ({
        name: e.name ?? '', offsetNs: Number(big(e.timeUnixNano) - base), attributes: e.attributes ?? [],
      })),
      links: (s.links ?? []).map((l: Json) => ({
        traceId: b64ToHex(l.traceId), spanId: b64ToHex(l.spanId), traceState: l.traceState,
        attributes: l.attributes ?? [],
      })),
      traceState: s.traceState,
      dropped: {
        attributes: s.droppedAttributesCount ?? 0, events: s.droppedEventsCount ?? 0,
        links: s.droppedLinksCount ?? 0,
      },
      depth: 0, children: [], parent: null, index: 0, subtreeEnd: 0,
    };
    if (!byId.has(span.id)) byId.set(span.id, span);
    spans.push(span);
  }
  const roots: Span[] = [];
  for (const sp of byId.values()) {
    const parent = sp.parentId ? byId.get(sp.parentId) : undefined;
    if (parent && parent !== sp) {
      sp.parent = parent;
      parent.children.push(sp);
    } else {
      roots.push(sp);
    }
  }
  const byStart = (a: Span, b: Span) => a.startNs - b.startNs || a.name.localeCompare(b.name);
  // True roots (no parent ID) first, then spans whose parent is missing.
  roots.sort((a, b) => Number(a.parentId !== '') - Number(b.parentId !== '') || byStart(a, b));
  const order: Span[] = [];
  const services: string[] = [];
  const seen = new Set<string>();
  // Iterative depth-first walk: a 10,000-deep chain must not overflow the stack.
  const stack: { span: Span; depth: number }[] = [];
  for (let r = roots.length - 1; r >= 0; r--) stack.push({ span: roots[r], depth: 0 });
  const open: Span[] = [];
  while (stack.length) {
    const { span, depth } = stack.pop()!;
    while (open.length && open[open.length - 1].depth >= depth) open.pop()!.subtreeEnd = order.length;
    span.depth = depth;
    span.index = order.length;
    order.push(span);
    open.push(span);
    if (!seen.has(span.service)) { seen.add(span.service); services.push(span.service); }
    span.children.sort(byStart);
    for (let c = span.children.length - 1; c >= 0; c--) stack.push({ span: span.children[c], depth: depth + 1 });
  }
  while (open.length) open.pop()!.subtreeEnd = order.length;
  return {
    traceId: traceIdHex,
    spans: order,
    byId,
    roots,
    startNs: base,
    durationNs: maxEnd,
    services,
    errorCount: order.filter((s) => s.statusCode === 'error').length,
    criticalPath: criticalPath(roots),
  };
}

/**
 * The critical path: the chain of spans that decides when the trace ends. Rule: start at
 * the root (the earliest span without a parent; if every root's parent is missing, the
 * earliest of them), then repeatedly step to the child that ends last (ties: the one that
 * started last), until a span has no children. Each step is the work the parent was
 * still waiting for when it could finish; the chain ends at the leaf that ended last.
 */
export function criticalPath(roots: Span[]): Set<Span> {
  const path = new Set<Span>();
  let cur: Span | undefined = roots[0];
  while (cur && !path.has(cur)) {
    path.add(cur);
    let next: Span | undefined;
    for (const c of cur.children) {
      if (!next || c.endNs > next.endNs || (c.endNs === next.endNs && c.startNs > next.startNs)) next = c;
    }
    cur = next;
  }
  return path;
}

/** Whether a span contains `needle` (lowercase) in its name, service, ID or attributes. */
export function spanMatches(s: Span, needle: string): boolean {
  if (!needle) return false;
  if (s.name.toLowerCase().includes(needle) || s.service.toLowerCase().includes(needle) ||
      s.id.includes(needle) || s.statusMessage.toLowerCase().includes(needle)) return true;
  for (const a of s.attributes) {
    if (a.key.toLowerCase().includes(needle) || valueText(a.value).toLowerCase().includes(needle)) return true;
  }
  return false;
}
