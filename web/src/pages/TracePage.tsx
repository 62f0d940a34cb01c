// One trace: a summary, the waterfall with the detail panel, search within the trace, and
// the raw OTLP JSON. URL: /trace/<id>?span=<span id>&find=<text>&only=1&view=json.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { fetchTrace, ApiError } from '../api';
import { buildTrace, spanMatches, type Span, type Trace } from '../trace/model';
import { assignColors, formatDate, formatDuration } from '../format';
import { Link, navigate, withParams, type Location } from '../router';
import { Waterfall } from './Waterfall';
import { SpanDetail } from './SpanDetail';

type Loaded =
  | { state: 'loading' }
  | { state: 'error'; status: number; message: string }
  | { state: 'done'; trace: Trace; text: string; json: unknown; ms: number };

export function TracePage({ id, loc }: { id: string; loc: Location }) {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  useEffect(() => {
    const ac = new AbortController();
    setLoaded({ state: 'loading' });
    const t0 = performance.now();
    fetchTrace(id, ac.signal)
      .then(({ text, json }) => {
        const trace = buildTrace(json, id);
        setLoaded({ state: 'done', trace, text, json, ms: performance.now() - t0 });
      })
      .catch((e) => {
        if ((e as Error).name === 'AbortError') return;
        setLoaded({ state: 'error', status: e instanceof ApiError ? e.status : 0, message: (e as Error).message });
      });
    return () => ac.abort();
  }, [id]);

  if (loaded.state === 'loading') {
    return <main class="page"><p class="state loading" role="status">Loading trace <span class="mono">{id}</span>…</p></main>;
  }
  if (loaded.state === 'error') {
    return (
      <main class="page">
        <div class="state error" role="alert">
          <strong>{loaded.status === 404 ? 'Trace not found' : 'Could not load the trace'}</strong>
          <p>{loaded.status === 404
            ? <>No trace <span class="mono">{id}</span> is stored (or it is outside retention).</>
            : <pre>{loaded.message}</pre>}</p>
          <p><Link href="/">Back to search</Link></p>
        </div>
      </main>
    );
  }
  return <TraceView trace={loaded.trace} text={loaded.text} json={loaded.json} loadMs={loaded.ms} loc={loc} />;
}

function TraceView({ trace, text, json, loadMs, loc }: { trace: Trace; text: string; json: unknown; loadMs: number; loc: Location }) {
  const colors = useMemo(() => assignColors(trace.services), [trace]);
  const [collapsed, setCollapsed] = useState<Set<Span>>(() => new Set());
  const [showCritical, setShowCritical] = useState(true);
  const find = loc.params.get('find') ?? '';
  const only = loc.params.get('only') === '1';
  const view = loc.params.get('view') === 'json' ? 'json' : 'waterfall';
  const selected = trace.byId.get(loc.params.get('span') ?? '') ?? null;
  const [findText, setFindText] = useState(find);
  useEffect(() => setFindText(find), [find]);

  const matches = useMemo(() => {
    const needle = find.trim().toLowerCase();
    if (!needle) return null;
    return new Set(trace.spans.filter((s) => spanMatches(s, needle)));
  }, [trace, find]);

  // The rows shown: the tree without collapsed subtrees; with `only`, just the matches
  // and their ancestors.
  const rows = useMemo(() => {
    let keep: Set<Span> | null = null;
    if (only && matches) {
      keep = new Set();
      for (const m of matches) for (let s: Span | null = m; s && !keep.has(s); s = s.parent) keep.add(s);
    }
    const out: Span[] = [];
    const all = trace.spans;
    for (let i = 0; i < all.length; i++) {
      const s = all[i];
      if (keep && !keep.has(s)) continue;
      out.push(s);
      if (collapsed.has(s)) i = s.subtreeEnd - 1;
    }
    return out;
  }, [trace, collapsed, only, matches]);

  // A selected span inside a collapsed subtree is revealed.
  useEffect(() => {
    if (!selected) return;
    let changed = false;
    const next = new Set(collapsed);
    for (let p = selected.parent; p; p = p.parent) if (next.delete(p)) changed = true;
    if (changed) setCollapsed(next);
  }, [selected]);

  const select = (s: Span | null) => navigate(withParams({ span: s?.id }), true);
  const toggle = (s: Span) => {
    const next = new Set(collapsed);
    if (!next.delete(s)) next.add(s);
    setCollapsed(next);
  };
  const matchList = useMemo(() => (matches ? trace.spans.filter((s) => matches.has(s)) : []), [matches, trace]);
  const matchPos = selected && matches?.has(selected) ? matchList.indexOf(selected) : -1;
  const step = (d: number) => {
    if (!matchList.length) return;
    const k = matchPos < 0 ? (d > 0 ? 0 : matchList.length - 1) : (matchPos + d + matchList.length) % matchList.length;
    select(matchList[k]);
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && selected && !(e.target as HTMLElement).closest?.('input, textarea, select')) {
        select(null);
        (document.querySelector('.wf-body') as HTMLElement | null)?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [selected]);

  const root = trace.roots[0];
  const startMs = Number(trace.startNs / 1000000n);
  const critDur = [...trace.criticalPath].reduce((n, s) => n + (s.children.length ? 0 : s.durationNs), 0);

  return (
    <main class="page trace-page">
      <header class="trace-head">
        <div class="trace-title">
          <h1>
            {root ? <><span class="svc-chip" style={{ background: colors.get(root.service) }} />{root.service}: {root.name}</> : 'Trace'}
          </h1>
          <div class="trace-facts">
            <span class="mono" title="Trace ID">{trace.traceId}</span>
            <span>{formatDate(startMs)}</span>
            <span>Duration <strong>{formatDuration(trace.durationNs)}</strong></span>
            <span><strong data-testid="span-count">{trace.spans.length}</strong> spans</span>
            <span>{trace.services.length} services</span>
            {trace.errorCount > 0 && <span class="status-error">{trace.errorCount} errors</span>}
            <span class="muted" title="Fetch and parse">loaded in {Math.round(loadMs)} ms</span>
          </div>
        </div>
        <nav class="view-switch" aria-label="View">
          <Link href={withParams({ view: undefined })} replace aria-current={view === 'waterfall' ? 'page' : undefined}>Waterfall</Link>
          <Link href={withParams({ view: 'json' })} replace aria-current={view === 'json' ? 'page' : undefined}>Raw JSON</Link>
        </nav>
      </header>
      {view === 'json' ? <RawJson text={text} json={json} id={trace.traceId} /> : (
        <>
          <div class="trace-tools">
            <form class="find" role="search" onSubmit={(e) => { e.preventDefault(); if (findText.trim() === find) step(1); else navigate(withParams({ find: findText.trim() || undefined }), true); }}>
              <input type="search" aria-label="Find spans in this trace" placeholder="Find spans: name, service, attribute, ID"
                value={findText} onInput={(e) => setFindText((e.target as HTMLInputElement).value)}
                onKeyDown={(e) => { if (e.key === 'Enter' && e.shiftKey) { e.preventDefault(); step(-1); } if (e.key === 'Escape') { setFindText(''); navigate(withParams({ find: undefined, only: undefined }), true); } }} />
              {matches && (
                <>
                  <span class="match-count" role="status">{matchList.length ? `${matchPos >= 0 ? matchPos + 1 : '–'} of ${matchList.length}` : 'no match'}</span>
                  <button type="button" onClick={() => step(-1)} aria-label="Previous match" disabled={!matchList.length}>↑</button>
                  <button type="button" onClick={() => step(1)} aria-label="Next match" disabled={!matchList.length}>↓</button>
                  <label class="check"><input type="checkbox" checked={only} onChange={(e) => navigate(withParams({ only: (e.target as HTMLInputElement).checked ? '1' : undefined }), true)} /> Only matches</label>
                </>
              )}
            </form>
            <div class="tool-buttons">
              <button type="button" onClick={() => setCollapsed(new Set())}>Expand all</button>
              <button type="button" onClick={() => setCollapsed(new Set(trace.spans.filter((s) => s.depth === 0 ? false : s.children.length > 0)))}>Collapse all</button>
              <label class="check" title={`From the root, repeatedly the child that ends last. Leaf time on it: ${formatDuration(critDur)}`}>
                <input type="checkbox" checked={showCritical} onChange={(e) => setShowCritical((e.target as HTMLInputElement).checked)} />
                <span class="crit-swatch" /> Critical path
              </label>
            </div>
          </div>
          <ul class="legend" aria-label="Services">
            {trace.services.map((s) => <li><span class="svc-chip" style={{ background: colors.get(s) }} />{s}</li>)}
          </ul>
          <div class={`trace-body${selected ? ' with-detail' : ''}`}>
            <Waterfall trace={trace} rows={rows} colors={colors} collapsed={collapsed} onToggle={toggle}
              selected={selected} onSelect={(s) => select(s)} matches={matches} showCritical={showCritical} />
            {selected && <SpanDetail span={selected} trace={trace} onClose={() => select(null)} />}
          </div>
        </>
      )}
    </main>
  );
}

const RAW_LIMIT = 4_000_000;

function RawJson({ text, json, id }: { text: string; json: unknown; id: string }) {
  // Past a few MB a <pre> gets slow to lay out: show the start, download for the rest.
  const full = useMemo(() => JSON.stringify(json, null, 2), [json]);
  const pretty = full.length > RAW_LIMIT ? full.slice(0, RAW_LIMIT) : full;
  const href = useMemo(() => URL.createObjectURL(new Blob([text], { type: 'application/json' })), [text]);
  useEffect(() => () => URL.revokeObjectURL(href), [href]);
  const [copied, setCopied] = useState(false);
  return (
    <section class="raw" aria-label="Raw OTLP JSON">
      <div class="raw-tools">
        <span class="muted">As <span class="mono">/api/v2/traces/{id}</span> answers: OTLP in protobuf's canonical JSON (IDs in base64). {Math.round(text.length / 1024)} KiB.</span>
        <a href={href} download={`trace-${id}.json`}>Download</a>
        <button type="button" onClick={() => navigator.clipboard?.writeText(text).then(() => setCopied(true), () => {})}>{copied ? 'Copied' : 'Copy'}</button>
      </div>
      {pretty !== full && <p class="state empty" role="status">Showing the first {RAW_LIMIT / 1e6} MB of {(full.length / 1e6).toFixed(1)} MB: download for the whole trace.</p>}
      <pre class="raw-json" tabIndex={0} data-testid="raw-json">{pretty}</pre>
    </section>
  );
}
