// The structured query builder: service, span name, status, duration range and attribute
// conditions, written as one TraceQL spanset filter into the editor on every change.
import { useEffect, useState } from 'preact/hooks';
import { tagValues, tagNames } from '../api';
import { literalOf } from '../traceql/lexer';

export interface BuilderState {
  service: string;
  name: string;
  status: string;
  minDuration: string;
  maxDuration: string;
  attrs: { key: string; op: string; value: string }[];
}

export const EMPTY_BUILDER: BuilderState = {
  service: '', name: '', status: '', minDuration: '', maxDuration: '', attrs: [],
};

const DURATION = /^\d+(\.\d+)?(ns|us|µs|ms|s|m|h)$/;
const ATTR_OPS = ['=', '!=', '=~', '!~', '>', '>=', '<', '<='];

function valueLiteral(op: string, v: string): string {
  if (op === '=~' || op === '!~') return literalOf('string', v);
  if (/^-?\d+(\.\d+)?$/.test(v) || v === 'true' || v === 'false' || v === 'nil' || DURATION.test(v)) return v;
  return literalOf('string', v);
}

/** Attribute keys as typed: `span.x`/`resource.x`/`.x` kept, a bare `x` becomes `.x`. */
function fieldOf(key: string): string {
  const k = key.trim();
  if (/^(span|resource|event|link|instrumentation)\./.test(k) || k.startsWith('.')) return k;
  return `.${k}`;
}

/** The TraceQL of a builder state; `{ }` (every trace) when nothing is set. */
export function builderQuery(b: BuilderState): string {
  const c: string[] = [];
  if (b.service) c.push(`resource.service.name = ${literalOf('string', b.service)}`);
  if (b.name) c.push(`name = ${literalOf('string', b.name)}`);
  if (b.status) c.push(`status = ${b.status}`);
  if (DURATION.test(b.minDuration.trim())) c.push(`duration >= ${b.minDuration.trim()}`);
  if (DURATION.test(b.maxDuration.trim())) c.push(`duration <= ${b.maxDuration.trim()}`);
  for (const a of b.attrs) {
    if (a.key.trim() && a.value.trim() !== '') c.push(`${fieldOf(a.key)} ${a.op} ${valueLiteral(a.op, a.value.trim())}`);
  }
  return c.length ? `{ ${c.join(' && ')} }` : '{ }';
}

interface Props {
  start: number;
  end: number;
  onQuery: (q: string) => void;
}

export function Builder({ start, end, onQuery }: Props) {
  const [b, setB] = useState<BuilderState>(EMPTY_BUILDER);
  const [services, setServices] = useState<string[]>([]);
  const [names, setNames] = useState<string[]>([]);
  const [keys, setKeys] = useState<string[]>([]);

  useEffect(() => {
    const ac = new AbortController();
    tagValues('resource.service.name', start, end, undefined, ac.signal).then((v) => setServices(v.map((x) => x.value))).catch(() => {});
    tagValues('name', start, end, undefined, ac.signal).then((v) => setNames(v.map((x) => x.value))).catch(() => {});
    tagNames(start, end, ac.signal).then((scopes) => setKeys(scopes.filter((s) => s.name === 'span' || s.name === 'resource')
      .flatMap((s) => s.tags.map((t) => `${s.name}.${t}`)))).catch(() => {});
    return () => ac.abort();
  }, [Math.floor(start / 300), Math.floor(end / 300)]);

  const update = (change: Partial<BuilderState>) => {
    const next = { ...b, ...change };
    setB(next);
    onQuery(builderQuery(next));
  };
  const setAttr = (i: number, change: Partial<BuilderState['attrs'][number]>) =>
    update({ attrs: b.attrs.map((a, k) => (k === i ? { ...a, ...change } : a)) });
  const val = (e: Event) => (e.target as HTMLInputElement).value;
  const badMin = b.minDuration.trim() !== '' && !DURATION.test(b.minDuration.trim());
  const badMax = b.maxDuration.trim() !== '' && !DURATION.test(b.maxDuration.trim());

  return (
    <fieldset class="builder">
      <legend>Query builder</legend>
      <div class="builder-row">
        <label>Service
          <select value={b.service} onChange={(e) => update({ service: val(e) })} data-testid="builder-service">
            <option value="">any</option>
            {services.map((s) => <option value={s}>{s}</option>)}
          </select>
        </label>
        <label>Span name
          <input list="builder-names" value={b.name} onInput={(e) => update({ name: val(e) })} placeholder="any" data-testid="builder-name" />
          <datalist id="builder-names">{names.slice(0, 500).map((n) => <option value={n} />)}</datalist>
        </label>
        <label>Status
          <select value={b.status} onChange={(e) => update({ status: val(e) })} data-testid="builder-status">
            <option value="">any</option>
            <option value="error">error</option>
            <option value="ok">ok</option>
            <option value="unset">unset</option>
          </select>
        </label>
        <label>Min duration
          <input class={badMin ? 'invalid' : ''} aria-invalid={badMin} value={b.minDuration} size={7}
            onInput={(e) => update({ minDuration: val(e) })} placeholder="100ms" data-testid="builder-min" />
        </label>
        <label>Max duration
          <input class={badMax ? 'invalid' : ''} aria-invalid={badMax} value={b.maxDuration} size={7}
            onInput={(e) => update({ maxDuration: val(e) })} placeholder="2s" data-testid="builder-max" />
        </label>
        <button type="button" onClick={() => update({ attrs: [...b.attrs, { key: '', op: '=', value: '' }] })}>
          + Attribute
        </button>
        <button type="button" onClick={() => update(EMPTY_BUILDER)}>Reset</button>
      </div>
      {(badMin || badMax) && <p class="field-error">Durations are written like 250ms, 1.5s or 2m.</p>}
      {b.attrs.map((a, i) => (
        <div class="builder-row">
          <label>Attribute
            <input list="builder-keys" value={a.key} onInput={(e) => setAttr(i, { key: val(e) })} placeholder="span.http.route" data-testid={`builder-attr-key-${i}`} />
          </label>
          <label>Operator
            <select value={a.op} onChange={(e) => setAttr(i, { op: val(e) })}>
              {ATTR_OPS.map((o) => <option value={o}>{o}</option>)}
            </select>
          </label>
          <label>Value
            <input value={a.value} onInput={(e) => setAttr(i, { value: val(e) })} placeholder="/checkout" data-testid={`builder-attr-value-${i}`} />
          </label>
          <button type="button" aria-label={`Remove attribute ${i + 1}`} onClick={() => update({ attrs: b.attrs.filter((_, k) => k !== i) })}>Remove</button>
        </div>
      ))}
      <datalist id="builder-keys">{keys.map((k) => <option value={k} />)}</datalist>
    </fieldset>
  );
}
