// The waterfall: one row per visible span (a collapsible tree on the left, a timing bar on
// the right). Virtualized: only the rows in view (plus a margin) are in the DOM, so a
// trace of 10,000 spans or more opens and scrolls at once.
//
// Keys on the focused list: ↑/↓ select, → expands (or steps to the first child), ← collapses
// (or steps to the parent), Home/End, PageUp/PageDown, Enter opens the selected span.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Span, Trace } from '../trace/model';
import { formatDuration } from '../format';

export const ROW_HEIGHT = 26;
const OVERSCAN = 10;

interface Props {
  trace: Trace;
  rows: Span[];
  colors: Map<string, string>;
  collapsed: Set<Span>;
  onToggle: (s: Span) => void;
  selected: Span | null;
  onSelect: (s: Span | null, open?: boolean) => void;
  matches: Set<Span> | null;
  showCritical: boolean;
}

export function Waterfall({ trace, rows, colors, collapsed, onToggle, selected, onSelect, matches, showCritical }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  // Keep the selected row in view when it changes.
  const selIndex = selected ? rows.indexOf(selected) : -1;
  useEffect(() => {
    const el = box.current;
    if (!el || selIndex < 0) return;
    const top = selIndex * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
  }, [selIndex, selected]);

  const total = Math.max(trace.durationNs, 1);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);

  const onKeyDown = (e: KeyboardEvent) => {
    const i = selIndex;
    const page = Math.max(1, Math.floor(height / ROW_HEIGHT) - 1);
    const go = (k: number) => { e.preventDefault(); if (rows.length) onSelect(rows[Math.max(0, Math.min(rows.length - 1, k))]); };
    switch (e.key) {
      case 'ArrowDown': go(i < 0 ? 0 : i + 1); break;
      case 'ArrowUp': go(i < 0 ? 0 : i - 1); break;
      case 'Home': go(0); break;
      case 'End': go(rows.length - 1); break;
      case 'PageDown': go(i + page); break;
      case 'PageUp': go(i - page); break;
      case 'ArrowRight':
        if (selected && selected.children.length) {
          e.preventDefault();
          if (collapsed.has(selected)) onToggle(selected);
          else go(i + 1);
        }
        break;
      case 'ArrowLeft':
        if (selected) {
          e.preventDefault();
          if (selected.children.length && !collapsed.has(selected)) onToggle(selected);
          else if (selected.parent) onSelect(selected.parent);
        }
        break;
      case 'Enter':
        if (selected) { e.preventDefault(); onSelect(selected, true); }
        break;
    }
  };

  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const out = [];
  for (let k = first; k < last; k++) {
    const s = rows[k];
    const left = (s.startNs / total) * 100;
    const width = Math.max((s.durationNs / total) * 100, 0.15);
    const color = colors.get(s.service) ?? '#555';
    // The duration label goes after the bar, or before it when the bar ends near the
    // right edge, or inside it when the bar spans nearly everything.
    const endPct = left + width;
    const inside = endPct > 88 && left < 12;
    const labelStyle = endPct <= 88 ? { left: `calc(${endPct}% + 4px)` }
      : inside ? { right: `calc(${100 - endPct}% + 4px)` } : { right: `calc(${100 - left}% + 4px)` };
    const isSel = s === selected;
    const crit = showCritical && trace.criticalPath.has(s);
    const cls = ['row', isSel && 'selected', matches?.has(s) && 'match', s.statusCode === 'error' && 'err', crit && 'crit']
      .filter(Boolean).join(' ');
    out.push(
      <div key={s.id} id={`row-${s.id}`} class={cls} role="treeitem" aria-level={s.depth + 1}
        aria-selected={isSel} aria-expanded={s.children.length ? !collapsed.has(s) : undefined}
        data-span={s.id}
        style={{ transform: `translateY(${k * ROW_HEIGHT}px)` }}
        onClick={() => onSelect(s, true)}>
        <div class="row-name" style={{ paddingLeft: `${6 + Math.min(s.depth, 40) * 14}px` }}>
          {s.children.length > 0
            ? <button type="button" class="toggle" tabIndex={-1} aria-label={collapsed.has(s) ? 'Expand' : 'Collapse'}
                onClick={(e) => { e.stopPropagation(); onToggle(s); }}>{collapsed.has(s) ? '▸' : '▾'}</button>
            : <span class="toggle-space" />}
          <span class="svc-chip" style={{ background: color }} />
          <span class="svc">{s.service}</span>
          <span class="name" title={s.name}>{s.name}</span>
          {s.statusCode === 'error' && <span class="err-badge" title={s.statusMessage || 'error'}>error</span>}
          {collapsed.has(s) && <span class="hidden-count">+{s.subtreeEnd - s.index - 1}</span>}
        </div>
        <div class="row-bar">
          <div class="bar" style={{ left: `${left}%`, width: `${width}%`, background: color }} />
          <span class={`bar-label${inside ? ' inside' : ''}`} style={labelStyle}>
            {formatDuration(s.durationNs)}
          </span>
        </div>
      </div>,
    );
  }

  return (
    <div class="waterfall">
      <div class="wf-header" aria-hidden="true">
        <div class="row-name">Service · span</div>
        <div class="row-bar">
          {ticks.map((t) => (
            <span class="tick" style={t === 1 ? { right: 0 } : { left: `${t * 100}%` }}>{formatDuration(t * trace.durationNs)}</span>
          ))}
        </div>
      </div>
      <div ref={box} class="wf-body" tabIndex={0} role="tree" aria-label="Spans"
        aria-activedescendant={selected && selIndex >= first && selIndex < last ? `row-${selected.id}` : undefined}
        onScroll={(e) => setScrollTop((e.target as HTMLDivElement).scrollTop)} onKeyDown={onKeyDown}>
        <div class="wf-inner" style={{ height: `${rows.length * ROW_HEIGHT}px` }}>{out}</div>
      </div>
    </div>
  );
}
