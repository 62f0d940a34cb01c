// The detail panel of one span: status, timing, IDs, attributes, resource, scope, events
// and links. Esc or the close button closes it.
import type { KeyValue } from '../api';
import { valueText, type Span, type Trace } from '../trace/model';
import { formatDate, formatDuration } from '../format';
import { Link, withParams } from '../router';

function Attrs({ list, empty }: { list: KeyValue[]; empty: string }) {
  if (!list.length) return <p class="muted">{empty}</p>;
  return (
    <table class="kv">
      <tbody>
        {[...list].sort((a, b) => a.key.localeCompare(b.key)).map((a) => (
          <tr><th scope="row">{a.key}</th><td>{valueText(a.value)}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

export function SpanDetail({ span, trace, onClose }: { span: Span; trace: Trace; onClose: () => void }) {
  const absMs = Number((trace.startNs + BigInt(span.startNs)) / 1000000n);
  const crit = trace.criticalPath.has(span);
  return (
    <aside class="detail" aria-label="Span detail" tabIndex={-1} id="span-detail">
      <header class="detail-head">
        <h2 title={span.name}>{span.name || <em>unnamed span</em>}</h2>
        <button type="button" class="close" aria-label="Close span detail (Esc)" onClick={onClose}>×</button>
      </header>
      <dl class="facts">
        <dt>Service</dt><dd>{span.service}</dd>
        <dt>Status</dt>
        <dd class={`status-${span.statusCode}`} data-testid="detail-status">
          {span.statusCode}{span.statusMessage && `: ${span.statusMessage}`}
        </dd>
        <dt>Kind</dt><dd>{span.kind}</dd>
        <dt>Duration</dt><dd>{formatDuration(span.durationNs)}{crit && <span class="crit-badge">critical path</span>}</dd>
        <dt>Start</dt><dd>{formatDate(absMs)} (+{formatDuration(span.startNs)})</dd>
        <dt>Span ID</dt><dd class="mono">{span.id}</dd>
        <dt>Parent</dt>
        <dd class="mono">
          {span.parent
            ? <Link href={withParams({ span: span.parent.id })} replace>{span.parent.id}</Link>
            : span.parentId ? <span title="not in this trace">{span.parentId} (missing)</span> : 'none (root)'}
        </dd>
        {span.traceState && <><dt>Trace state</dt><dd class="mono">{span.traceState}</dd></>}
        {span.scope.name && <><dt>Scope</dt><dd>{span.scope.name}{span.scope.version && ` ${span.scope.version}`}</dd></>}
      </dl>
      <section>
        <h3>Attributes <span class="count">{span.attributes.length}</span></h3>
        <Attrs list={span.attributes} empty="No attributes." />
        {span.dropped.attributes > 0 && <p class="muted">{span.dropped.attributes} attributes dropped by the SDK.</p>}
      </section>
      <section>
        <h3>Resource <span class="count">{span.resource.length}</span></h3>
        <Attrs list={span.resource} empty="No resource attributes." />
      </section>
      <section>
        <h3>Events <span class="count">{span.events.length}</span></h3>
        {span.events.length === 0 && <p class="muted">No events.</p>}
        {span.events.map((e) => (
          <div class="event">
            <div><strong>{e.name}</strong> <span class="muted">at +{formatDuration(e.offsetNs - span.startNs)}</span></div>
            {e.attributes.length > 0 && <Attrs list={e.attributes} empty="" />}
          </div>
        ))}
        {span.dropped.events > 0 && <p class="muted">{span.dropped.events} events dropped by the SDK.</p>}
      </section>
      <section>
        <h3>Links <span class="count">{span.links.length}</span></h3>
        {span.links.length === 0 && <p class="muted">No links.</p>}
        {span.links.map((l) => (
          <div class="event">
            <Link class="mono" href={l.traceId === trace.traceId ? withParams({ span: l.spanId }) : `/trace/${l.traceId}?span=${l.spanId}`}>
              {l.traceId === trace.traceId ? `span ${l.spanId} (this trace)` : `${l.traceId} / ${l.spanId}`}
            </Link>
            {l.attributes.length > 0 && <Attrs list={l.attributes} empty="" />}
          </div>
        ))}
        {span.dropped.links > 0 && <p class="muted">{span.dropped.links} links dropped by the SDK.</p>}
      </section>
    </aside>
  );
}
