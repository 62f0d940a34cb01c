// Search: the TraceQL editor, the builder, the time range and the results table. The URL
// holds q, range or start/end, limit, sort and page; the table is sorted and paged here.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { search, ApiError, type SearchTrace, type SearchResponse } from '../api';
import { QueryEditor } from '../components/QueryEditor';
import { Builder } from '../components/Builder';
import { TimeRangePicker } from '../components/TimeRangePicker';
import { resolveRange, formatDate, formatDuration, nanosToMs } from '../format';
import { Link, navigate, withParams, type Location } from '../router';

const PAGE_SIZE = 20;
const LIMITS = [20, 100, 500, 1000];
const DEFAULT_LIMIT = 100;

type SortKey = 'service' | 'name' | 'start' | 'duration' | 'spans' | 'matched';
const COLUMNS: { key: SortKey; label: string; numeric?: boolean }[] = [
  { key: 'service', label: 'Root service' },
  { key: 'name', label: 'Root span' },
  { key: 'start', label: 'Start' },
  { key: 'duration', label: 'Duration', numeric: true },
  { key: 'spans', label: 'Spans', numeric: true },
  { key: 'matched', label: 'Matched', numeric: true },
];

interface Row {
  t: SearchTrace;
  service: string;
  name: string;
  startMs: number;
  durationMs: number;
  spans: number | null;
  matched: number;
  firstSpan?: string;
}

function toRow(t: SearchTrace): Row {
  const sets = t.spanSets ?? (t.spanSet ? [t.spanSet] : []);
  const stats = t.serviceStats ? Object.values(t.serviceStats) : null;
  return {
    t,
    service: t.rootServiceName ?? '',
    name: t.rootTraceName ?? '',
    startMs: nanosToMs(t.startTimeUnixNano),
    durationMs: t.durationMs ?? 0,
    spans: stats ? stats.reduce((n, s) => n + (s.spanCount ?? 0), 0) : null,
    matched: sets.reduce((n, s) => n + (s.matched ?? 0), 0),
    firstSpan: sets[0]?.spans?.[0]?.spanID,
  };
}

function compare(a: Row, b: Row, k: SortKey): number {
  switch (k) {
    case 'service': return a.service.localeCompare(b.service);
    case 'name': return a.name.localeCompare(b.name);
    case 'start': return a.startMs - b.startMs;
    case 'duration': return a.durationMs - b.durationMs;
    case 'spans': return (a.spans ?? -1) - (b.spans ?? -1);
    case 'matched': return a.matched - b.matched;
  }
}

type Result =
  | { state: 'loading' }
  | { state: 'error'; message: string; status: number }
  | { state: 'done'; data: SearchResponse; ms: number };

export function SearchPage({ loc }: { loc: Location }) {
  const q = loc.params.get('q') ?? '{ }';
  const limit = Number(loc.params.get('limit')) || DEFAULT_LIMIT;
  const sortParam = loc.params.get('sort') ?? '-start';
  const sortKey = (sortParam.replace(/^-/, '') as SortKey);
  const desc = sortParam.startsWith('-');
  const page = Math.max(1, Number(loc.params.get('page')) || 1);
  const rangeKey = ['range', 'start', 'end'].map((k) => loc.params.get(k)).join('|');

  const [draft, setDraft] = useState(q);
  const [showBuilder, setShowBuilder] = useState(false);
  const [runs, setRuns] = useState(0);
  const [result, setResult] = useState<Result>({ state: 'loading' });
  useEffect(() => setDraft(q), [q]);

  const range = useMemo(() => resolveRange(loc.params), [rangeKey, runs, q, limit]);

  useEffect(() => {
    const ac = new AbortController();
    setResult({ state: 'loading' });
    const t0 = performance.now();
    search({ q, start: range.start, end: range.end, limit }, ac.signal)
      .then((data) => setResult({ state: 'done', data, ms: performance.now() - t0 }))
      .catch((e) => {
        if ((e as Error).name === 'AbortError') return;
        setResult({ state: 'error', message: (e as Error).message, status: e instanceof ApiError ? e.status : 0 });
      });
    return () => ac.abort();
  }, [q, range, limit]);

  const run = () => {
    const url = withParams({ q: draft.trim() || '{ }', page: undefined });
    if (url === location.pathname + location.search) setRuns((r) => r + 1);
    else navigate(url);
  };

  const rows = useMemo(() => {
    if (result.state !== 'done') return [];
    const r = (result.data.traces ?? []).map(toRow);
    r.sort((a, b) => (desc ? -1 : 1) * compare(a, b, sortKey) || a.t.traceID.localeCompare(b.t.traceID));
    return r;
  }, [result, sortKey, desc]);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const pageNo = Math.min(page, pages);
  const shown = rows.slice((pageNo - 1) * PAGE_SIZE, pageNo * PAGE_SIZE);
  const anySpanCount = rows.some((r) => r.spans !== null);

  const sortBy = (k: SortKey) => {
    const next = sortKey === k ? (desc ? k : `-${k}`) : (k === 'start' || k === 'duration' ? `-${k}` : k);
    navigate(withParams({ sort: next === '-start' ? undefined : next, page: undefined }), true);
  };

  return (
    <main class="page search-page">
      <h1 class="visually-hidden">Search traces</h1>
      <section class="query-bar" aria-label="Query">
        <QueryEditor value={draft} onChange={setDraft} onRun={run} start={range.start} end={range.end} />
        <div class="query-actions">
          <button class="primary" type="button" onClick={run}>Run query</button>
          <TimeRangePicker loc={loc} />
          <label><span class="label">Limit</span>
            <select value={String(limit)} aria-label="Limit"
              onChange={(e) => navigate(withParams({ limit: (e.target as HTMLSelectElement).value === String(DEFAULT_LIMIT) ? undefined : (e.target as HTMLSelectElement).value, page: undefined }))}>
              {LIMITS.map((l) => <option value={String(l)}>{l} traces</option>)}
            </select>
          </label>
          <button type="button" aria-expanded={showBuilder} onClick={() => setShowBuilder(!showBuilder)}>
            {showBuilder ? 'Hide builder' : 'Builder'}
          </button>
        </div>
        {showBuilder && <Builder start={range.start} end={range.end} onQuery={setDraft} />}
      </section>

      <section class="results" aria-label="Results" aria-busy={result.state === 'loading'}>
        {result.state === 'loading' && <p class="state loading" role="status">Searching {range.label.toLowerCase()}…</p>}
        {result.state === 'error' && (
          <div class="state error" role="alert">
            <strong>{result.status === 400 ? 'The query has an error' : 'Search failed'}</strong>
            <pre>{result.message}</pre>
          </div>
        )}
        {result.state === 'done' && rows.length === 0 && (
          <div class="state empty" role="status">
            <strong>No traces match.</strong> Nothing in {range.label.toLowerCase()} matches <code>{q}</code>.
            Try a wider time range, or <Link href={withParams({ q: '{ }', page: undefined })}>every trace</Link>.
          </div>
        )}
        {result.state === 'done' && rows.length > 0 && (
          <>
            <p class="summary" role="status">
              {rows.length} trace{rows.length === 1 ? '' : 's'}{rows.length >= limit ? ` (the newest ${limit}; raise the limit for more)` : ''}
              {' '}in {Math.round(result.ms)} ms
              {result.data.metrics?.inspectedSpans !== undefined && ` · ${result.data.metrics.inspectedSpans} spans inspected`}
            </p>
            <table class="results-table">
              <thead>
                <tr>
                  <th scope="col">Trace</th>
                  {COLUMNS.filter((c) => c.key !== 'spans' || anySpanCount).map((c) => (
                    <th scope="col" class={c.numeric ? 'num' : ''}
                      aria-sort={sortKey === c.key ? (desc ? 'descending' : 'ascending') : 'none'}>
                      <button type="button" class="sort" onClick={() => sortBy(c.key)}>
                        {c.label}<span aria-hidden="true">{sortKey === c.key ? (desc ? ' ▼' : ' ▲') : ''}</span>
                      </button>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr key={r.t.traceID}>
                    <td><Link class="mono" href={`/trace/${r.t.traceID}`} title={r.t.traceID}>{r.t.traceID.slice(0, 16)}</Link></td>
                    <td>{r.service || <span class="muted">no root yet</span>}</td>
                    <td>{r.name || <span class="muted">—</span>}</td>
                    <td class="nowrap">{formatDate(r.startMs)}</td>
                    <td class="num">{formatDuration(r.durationMs * 1e6)}</td>
                    {anySpanCount && <td class="num">{r.spans ?? '—'}</td>}
                    <td class="num">
                      {r.firstSpan
                        ? <Link href={`/trace/${r.t.traceID}?span=${r.firstSpan}`} title="Open the trace at the first matched span">{r.matched}</Link>
                        : r.matched}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {pages > 1 && (
              <nav class="pager" aria-label="Pages">
                <button type="button" disabled={pageNo <= 1} onClick={() => navigate(withParams({ page: pageNo - 1 > 1 ? pageNo - 1 : undefined }))}>← Previous</button>
                <span>{(pageNo - 1) * PAGE_SIZE + 1}–{Math.min(rows.length, pageNo * PAGE_SIZE)} of {rows.length}</span>
                <button type="button" disabled={pageNo >= pages} onClick={() => navigate(withParams({ page: pageNo + 1 }))}>Next →</button>
              </nav>
            )}
          </>
        )}
      </section>
    </main>
  );
}
