// The service map of a time range: services as nodes laid out in columns by call depth,
// calls as edges labelled with rate, error rate and median latency, and the same data as
// tables. URL: /map?range=1h or /map?start=&end=.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { serviceMap, type ServiceMap, type MapEdge } from '../api';
import { TimeRangePicker } from '../components/TimeRangePicker';
import { assignColors, resolveRange } from '../format';
import { Link, navigate, urlOf, type Location } from '../router';

const NODE_W = 180;
const NODE_H = 58;
const COL_GAP = 210;
const ROW_GAP = 44;
const PAD = 24;

interface Placed {
  service: string;
  x: number;
  y: number;
  depth: number;
}

/**
 * Layered layout: a service's column is the length of the longest call chain that reaches
 * it from a service nobody calls (cycles are cut: no chain is longer than the number of
 * services). Within a column, services are ordered by the mean row of their callers.
 */
export function layout(m: ServiceMap): { nodes: Map<string, Placed>; width: number; height: number } {
  const names = new Set(m.nodes.map((n) => n.service));
  for (const e of m.edges) { names.add(e.client); names.add(e.server); }
  const all = [...names].sort();
  const incoming = new Map<string, string[]>(all.map((n) => [n, []]));
  const outgoing = new Map<string, string[]>(all.map((n) => [n, []]));
  for (const e of m.edges) {
    if (e.client === e.server) continue;
    outgoing.get(e.client)!.push(e.server);
    incoming.get(e.server)!.push(e.client);
  }
  const depth = new Map<string, number>(all.map((n) => [n, 0]));
  let sources = all.filter((n) => incoming.get(n)!.length === 0);
  if (!sources.length) sources = all.slice(0, 1);
  const queue = [...sources];
  const limit = all.length;
  while (queue.length) {
    const u = queue.shift()!;
    for (const v of outgoing.get(u)!) {
      const d = depth.get(u)! + 1;
      if (d > depth.get(v)! && d < limit) { depth.set(v, d); queue.push(v); }
    }
  }
  const columns: string[][] = [];
  for (const n of all) (columns[depth.get(n)!] ??= []).push(n);
  const row = new Map<string, number>();
  const nodes = new Map<string, Placed>();
  let maxRows = 0;
  columns.forEach((col, c) => {
    if (!col) return;
    const key = (n: string) => {
      const ps = incoming.get(n)!.filter((p) => row.has(p));
      return ps.length ? ps.reduce((a, p) => a + row.get(p)!, 0) / ps.length : Infinity;
    };
    col.sort((a, b) => key(a) - key(b) || a.localeCompare(b));
    col.forEach((n, r) => {
      row.set(n, r);
      nodes.set(n, { service: n, depth: c, x: PAD + c * (NODE_W + COL_GAP), y: PAD + r * (NODE_H + ROW_GAP) });
    });
    maxRows = Math.max(maxRows, col.length);
  });
  return {
    nodes,
    width: PAD * 2 + columns.length * NODE_W + Math.max(0, columns.length - 1) * COL_GAP,
    height: PAD * 2 + maxRows * NODE_H + Math.max(0, maxRows - 1) * ROW_GAP + 20,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0)}%`;
/** Calls per second, or per minute when under one every 100 s. */
const rate = (x: number) => (x >= 10 ? `${x.toFixed(0)}/s` : x >= 1 ? `${x.toFixed(1)}/s` : x >= 0.01 ? `${x.toFixed(2)}/s`
  : `${(x * 60).toFixed(x * 60 >= 1 ? 1 : 2)}/min`);
const ms = (x: number) => (x >= 100 ? `${x.toFixed(0)} ms` : x >= 1 ? `${x.toFixed(1)} ms` : `${(x * 1000).toFixed(0)} µs`);

export function edgeLabel(e: MapEdge): string {
  return `${rate(e.rate_per_second)} · ${pct(e.error_rate)} err · p50 ${ms(e.latency_ms.p50)}`;
}

type Loaded = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; map: ServiceMap };

export function MapPage({ loc }: { loc: Location }) {
  const rangeKey = ['range', 'start', 'end'].map((k) => loc.params.get(k)).join('|');
  const range = useMemo(() => resolveRange(loc.params), [rangeKey]);
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  useEffect(() => {
    const ac = new AbortController();
    setLoaded({ state: 'loading' });
    serviceMap(range.start, range.end, ac.signal)
      .then((map) => setLoaded({ state: 'done', map }))
      .catch((e) => { if ((e as Error).name !== 'AbortError') setLoaded({ state: 'error', message: (e as Error).message }); });
    return () => ac.abort();
  }, [range]);

  return (
    <main class="page map-page">
      <header class="map-head">
        <h1>Service map</h1>
        <TimeRangePicker loc={loc} />
      </header>
      {loaded.state === 'loading' && <p class="state loading" role="status">Building the service map for {range.label.toLowerCase()}…</p>}
      {loaded.state === 'error' && <div class="state error" role="alert"><strong>Could not load the service map</strong><pre>{loaded.message}</pre></div>}
      {loaded.state === 'done' && <MapView map={loaded.map} range={range} />}
    </main>
  );
}

function MapView({ map, range }: { map: ServiceMap; range: { start: number; end: number; label: string } }) {
  const { nodes, width, height } = useMemo(() => layout(map), [map]);
  const colors = useMemo(() => assignColors([...nodes.keys()]), [nodes]);
  const stats = new Map(map.nodes.map((n) => [n.service, n]));
  if (nodes.size === 0) {
    return <div class="state empty" role="status"><strong>No traces in {range.label.toLowerCase()}.</strong> Send some spans, or pick a wider range.</div>;
  }
  const searchOf = (service: string) => urlOf('/search', { q: `{ resource.service.name = "${service.replace(/"/g, '\\"')}" }`, start: range.start, end: range.end });
  const maxCalls = Math.max(1, ...map.edges.map((e) => e.calls));
  return (
    <>
      <p class="summary">
        {map.nodes.length} services, {map.edges.length} calls between them, from {map.traces} traces
        {map.truncated && <strong class="warn"> (a sample: the map stopped at {map.traces} traces)</strong>}.
      </p>
      {map.edges.length === 0 && <p class="state empty" role="status">No calls between services in this range: each trace stays within one service.</p>}
      <div class="map-scroll">
        <svg class="map" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img"
          aria-label={`Service map: ${map.nodes.length} services, ${map.edges.length} edges`}>
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" fill="#475569" />
            </marker>
            <marker id="arrow-err" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" fill="#b91c1c" />
            </marker>
          </defs>
          {map.edges.map((e) => {
            const a = nodes.get(e.client)!;
            const b = nodes.get(e.server)!;
            const err = e.error_rate > 0;
            const w = 1.5 + 3 * Math.log1p(e.calls) / Math.log1p(maxCalls);
            let d: string;
            let lx: number;
            let ly: number;
            if (a === b) {
              const x = a.x + NODE_W - 30;
              d = `M${x},${a.y} C${x},${a.y - 40} ${x + 50},${a.y - 40} ${x + 30},${a.y + 2}`;
              lx = x + 10; ly = a.y - 34;
            } else if (b.depth > a.depth) {
              const x1 = a.x + NODE_W; const y1 = a.y + NODE_H / 2; const x2 = b.x - 2; const y2 = b.y + NODE_H / 2;
              const mx = (x1 + x2) / 2;
              d = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
              // Just above the arrow's end, where the curve runs level: labels of edges
              // from one service to several stay apart.
              lx = x2 - 12; ly = y2 - 8;
            } else {
              // A call back to the same or an earlier column goes around below.
              const x1 = a.x + NODE_W / 2; const y1 = a.y + NODE_H; const x2 = b.x + NODE_W / 2 + 12; const y2 = b.y + NODE_H + 2;
              const low = Math.max(y1, y2) + 40;
              d = `M${x1},${y1} C${x1},${low} ${x2},${low} ${x2},${y2}`;
              lx = (x1 + x2) / 2; ly = low - 4;
            }
            const label = edgeLabel(e);
            return (
              <g class={`edge${err ? ' edge-err' : ''}`} data-edge={`${e.client}->${e.server}`}>
                <title>{`${e.client} → ${e.server}: ${e.calls} calls, ${e.errors} errors (${pct(e.error_rate)}), ${rate(e.rate_per_second)}, p50 ${ms(e.latency_ms.p50)}, p90 ${ms(e.latency_ms.p90)}, p99 ${ms(e.latency_ms.p99)}`}</title>
                <path d={d} fill="none" stroke={err ? '#b91c1c' : '#475569'} stroke-width={w} marker-end={`url(#${err ? 'arrow-err' : 'arrow'})`} />
                <text x={lx} y={ly} text-anchor={b.depth > a.depth ? 'end' : 'middle'} class="edge-label" paint-order="stroke">{label}</text>
              </g>
            );
          })}
          {[...nodes.values()].map((n) => {
            const s = stats.get(n.service);
            return (
              <a href={searchOf(n.service)} class="node" data-node={n.service} aria-label={`${n.service}: search its traces`}
                onClick={(ev: MouseEvent) => { if (ev.button === 0 && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey) { ev.preventDefault(); navigate(searchOf(n.service)); } }}>
                <rect x={n.x} y={n.y} width={NODE_W} height={NODE_H} rx="8" fill="#fff" stroke={colors.get(n.service)} stroke-width="2" />
                <rect x={n.x} y={n.y} width="8" height={NODE_H} rx="4" fill={colors.get(n.service)} />
                <text x={n.x + 18} y={n.y + 24} class="node-name">{n.service.length > 20 ? `${n.service.slice(0, 19)}…` : n.service}</text>
                <text x={n.x + 18} y={n.y + 44} class="node-stats">
                  {s ? `${s.spans} spans` : 'no spans'}{s && s.errors > 0 ? ` · ${s.errors} errors` : ''}
                </text>
              </a>
            );
          })}
        </svg>
      </div>
      <div class="map-tables">
        <section>
          <h2>Calls</h2>
          <table class="data-table" data-testid="edges-table">
            <thead><tr><th scope="col">Client</th><th scope="col">Server</th><th class="num" scope="col">Calls</th><th class="num" scope="col">Rate</th><th class="num" scope="col">Errors</th><th class="num" scope="col">p50</th><th class="num" scope="col">p90</th><th class="num" scope="col">p99</th></tr></thead>
            <tbody>
              {[...map.edges].sort((x, y) => y.calls - x.calls).map((e) => (
                <tr>
                  <td>{e.client}</td><td>{e.server}</td><td class="num">{e.calls}</td>
                  <td class="num">{rate(e.rate_per_second)}</td>
                  <td class={`num${e.errors ? ' status-error' : ''}`}>{e.errors} ({pct(e.error_rate)})</td>
                  <td class="num">{ms(e.latency_ms.p50)}</td><td class="num">{ms(e.latency_ms.p90)}</td><td class="num">{ms(e.latency_ms.p99)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section>
          <h2>Services</h2>
          <table class="data-table" data-testid="nodes-table">
            <thead><tr><th scope="col">Service</th><th class="num" scope="col">Spans</th><th class="num" scope="col">Errors</th></tr></thead>
            <tbody>
              {[...map.nodes].sort((x, y) => x.service.localeCompare(y.service)).map((n) => (
                <tr>
                  <td><span class="svc-chip" style={{ background: colors.get(n.service) }} /><Link href={searchOf(n.service)}>{n.service}</Link></td>
                  <td class="num">{n.spans}</td><td class={`num${n.errors ? ' status-error' : ''}`}>{n.errors}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
    </>
  );
}
