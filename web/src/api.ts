// The Tempo HTTP API as Strand serves it (COMPAT.md §2), plus Strand's service map.
// Every call takes an AbortSignal so a view can drop answers it no longer wants.

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function getText(url: string, signal?: AbortSignal): Promise<string> {
  let r: Response;
  try {
    r = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, `Strand did not answer (${(e as Error).message}). Is it running?`);
  }
  const text = await r.text();
  if (!r.ok) throw new ApiError(r.status, text.trim() || `${r.status} ${r.statusText}`);
  return text;
}

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  return JSON.parse(await getText(url, signal)) as T;
}

function qs(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  return q.toString();
}

export interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number | string;
  boolValue?: boolean;
  bytesValue?: string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
}
export interface KeyValue {
  key: string;
  value?: AnyValue;
}

export interface SearchSpan {
  spanID: string;
  name?: string;
  startTimeUnixNano: string;
  durationNanos: string;
  attributes?: KeyValue[];
}
export interface SpanSet {
  spans?: SearchSpan[];
  matched?: number;
}
export interface SearchTrace {
  traceID: string;
  rootServiceName?: string;
  rootTraceName?: string;
  startTimeUnixNano?: string;
  durationMs?: number;
  spanSet?: SpanSet;
  spanSets?: SpanSet[];
  /** Tempo's per-service span and error counts, when the server reports them. */
  serviceStats?: Record<string, { spanCount?: number; errorCount?: number }>;
}
export interface SearchResponse {
  traces?: SearchTrace[];
  metrics?: Record<string, string | number>;
}

export function search(
  p: { q: string; start: number; end: number; limit: number; spss?: number },
  signal?: AbortSignal,
): Promise<SearchResponse> {
  return getJson(`/api/search?${qs({ q: p.q, start: p.start, end: p.end, limit: p.limit, spss: p.spss })}`, signal);
}

export interface TagScope {
  name: string;
  tags: string[];
}
export async function tagNames(start: number, end: number, signal?: AbortSignal): Promise<TagScope[]> {
  const r = await getJson<{ scopes?: TagScope[] }>(`/api/v2/search/tags?${qs({ start, end })}`, signal);
  return r.scopes ?? [];
}

export interface TagValue {
  type: string;
  value: string;
}
/** Values of a scoped tag (`resource.service.name`, `name`, `status`...). */
export async function tagValues(tag: string, start: number, end: number, q?: string,
  signal?: AbortSignal): Promise<TagValue[]> {
  const r = await getJson<{ tagValues?: TagValue[] }>(
    `/api/v2/search/tag/${encodeURIComponent(tag)}/values?${qs({ q, start, end })}`, signal);
  return r.tagValues ?? [];
}

/** The trace as canonical protobuf JSON, with the exact text of the answer. */
export async function fetchTrace(id: string, signal?: AbortSignal): Promise<{ text: string; json: unknown }> {
  const text = await getText(`/api/v2/traces/${id}`, signal);
  return { text, json: JSON.parse(text) };
}

export interface MapNode {
  service: string;
  spans: number;
  errors: number;
}
export interface MapEdge {
  client: string;
  server: string;
  calls: number;
  errors: number;
  error_rate: number;
  rate_per_second: number;
  latency_ms: { p50: number; p90: number; p99: number };
}
export interface ServiceMap {
  nodes: MapNode[];
  edges: MapEdge[];
  traces: number;
  truncated: boolean;
}
export function serviceMap(start: number, end: number, signal?: AbortSignal): Promise<ServiceMap> {
  return getJson(`/api/strand/service-map?${qs({ start, end })}`, signal);
}
