// Picks the time range of a view and writes it into the URL: `range=1h` for a range
// relative to now, `start` and `end` (unix seconds) for a fixed one.
import { useState } from 'preact/hooks';
import { PRESETS, DEFAULT_RANGE, resolveRange, toLocalInput } from '../format';
import { navigate, withParams, type Location } from '../router';

export function TimeRangePicker({ loc }: { loc: Location }) {
  const custom = loc.params.has('start') && loc.params.has('end');
  const current = custom ? 'custom' : (loc.params.get('range') ?? DEFAULT_RANGE);
  const [editing, setEditing] = useState(false);
  const r = resolveRange(loc.params);
  const [from, setFrom] = useState(toLocalInput(r.start));
  const [to, setTo] = useState(toLocalInput(r.end));
  const [error, setError] = useState('');

  const onSelect = (e: Event) => {
    const v = (e.target as HTMLSelectElement).value;
    if (v === 'custom') {
      setFrom(toLocalInput(r.start));
      setTo(toLocalInput(r.end));
      setEditing(true);
      return;
    }
    setEditing(false);
    navigate(withParams({ range: v === DEFAULT_RANGE ? undefined : v, start: undefined, end: undefined, page: undefined }));
  };
  const apply = (e: Event) => {
    e.preventDefault();
    const s = Math.floor(new Date(from).getTime() / 1000);
    const en = Math.ceil(new Date(to).getTime() / 1000);
    if (!Number.isFinite(s) || !Number.isFinite(en) || s >= en) {
      setError('The start must be before the end.');
      return;
    }
    setError('');
    setEditing(false);
    navigate(withParams({ range: undefined, start: s, end: en, page: undefined }));
  };
  return (
    <div class="timerange">
      <label>
        <span class="label">Time range</span>
        <select value={editing ? 'custom' : current} onChange={onSelect} aria-label="Time range">
          {PRESETS.map((p) => <option key={p.key} value={p.key}>{p.label}</option>)}
          <option value="custom">{custom ? r.label : 'Custom…'}</option>
        </select>
      </label>
      {editing && (
        <form class="custom-range" onSubmit={apply}
          onKeyDown={(e) => { if (e.key === 'Escape') setEditing(false); }}>
          <label>From <input type="datetime-local" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} /></label>
          <label>To <input type="datetime-local" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} /></label>
          <button type="submit">Apply</button>
          <button type="button" onClick={() => setEditing(false)}>Cancel</button>
          {error && <span class="field-error" role="alert">{error}</span>}
        </form>
      )}
    </div>
  );
}
