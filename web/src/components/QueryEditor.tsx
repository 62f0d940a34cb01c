// The TraceQL editor: a textarea over a highlighted copy of its text (same font and
// box, the textarea's own text transparent), with autocomplete of attribute names (tags
// API), operators and values (tag values API). Keys: Enter runs the query (Shift+Enter
// for a new line), Ctrl+Space opens suggestions, ↑/↓ move, Enter/Tab accept, Esc closes.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { lex, completionAt, literalOf, COMPARISONS, type Completion } from '../traceql/lexer';
import { tagNames, tagValues, type TagScope } from '../api';

interface Suggestion {
  label: string;
  insert: string;
  detail: string;
}

interface Props {
  value: string;
  onChange: (v: string) => void;
  onRun: () => void;
  start: number;
  end: number;
}

const INTRINSIC_SCOPE = 'intrinsic';

function fieldName(scope: string, tag: string): string {
  if (scope === INTRINSIC_SCOPE) return tag;
  return /^[A-Za-z0-9_.\-/:]+$/.test(tag) ? `${scope}.${tag}` : `${scope}."${tag.replace(/"/g, '\\"')}"`;
}


let idCounter = 0;

export function QueryEditor({ value, onChange, onRun, start, end }: Props) {
  const ta = useRef<HTMLTextAreaElement>(null);
  const pre = useRef<HTMLPreElement>(null);
  const [items, setItems] = useState<Suggestion[]>([]);
  const [active, setActive] = useState(0);
  const [ctx, setCtx] = useState<Completion>({ kind: 'none' });
  const [loading, setLoading] = useState(false);
  const tags = useRef<{ key: string; scopes: Promise<TagScope[]> } | null>(null);
  const values = useRef(new Map<string, Promise<{ type: string; value: string }[]>>());
  const req = useRef(0);
  const [listId] = useState(() => `ac-${++idCounter}`);

  // Grow with the text; the highlighted copy keeps the same box.
  useLayoutEffect(() => {
    const t = ta.current;
    if (!t) return;
    t.style.height = 'auto';
    t.style.height = `${Math.max(t.scrollHeight, 38)}px`;
  }, [value]);

  const rangeKey = `${Math.floor(start / 300)}-${Math.floor(end / 300)}`;
  const scopes = () => {
    if (!tags.current || tags.current.key !== rangeKey) {
      tags.current = { key: rangeKey, scopes: tagNames(start, end).catch(() => []) };
      values.current.clear();
    }
    return tags.current.scopes;
  };

  const suggest = async (text: string, cursor: number, explicit: boolean) => {
    const c = completionAt(text, cursor);
    const my = ++req.current;
    setCtx(c);
    setLoading(false);
    if (c.kind === 'none' || (c.kind === 'field' && !c.prefix && !explicit && !/[{(]\s*$/.test(text.slice(0, cursor)))) {
      setItems([]);
      return;
    }
    let out: Suggestion[] = [];
    if (c.kind === 'operator') {
      out = [...COMPARISONS].map((op) => ({ label: op, insert: `${op} `, detail: 'operator' }));
    } else if (c.kind === 'field') {
      setLoading(true);
      const all = await scopes();
      const p = c.prefix.toLowerCase();
      const cands: Suggestion[] = [];
      for (const s of all) {
        for (const t of s.tags) {
          const f = fieldName(s.name, t);
          if (!p || f.toLowerCase().includes(p)) cands.push({ label: f, insert: `${f} `, detail: s.name });
        }
      }
      cands.sort((a, b) => Number(!a.label.toLowerCase().startsWith(p)) - Number(!b.label.toLowerCase().startsWith(p)));
      out = cands.slice(0, 60);
    } else if (c.kind === 'value') {
      setLoading(true);
      const tag = c.field; // as written: scoped, unscoped (.x) or intrinsic
      if (!values.current.has(tag)) values.current.set(tag, tagValues(tag, start, end).catch(() => []));
      const vals = await values.current.get(tag)!;
      const p = c.prefix.toLowerCase();
      out = vals.filter((v) => !p || v.value.toLowerCase().includes(p)).slice(0, 60)
        .map((v) => ({ label: v.value, insert: `${literalOf(v.type, v.value)} `, detail: v.type }));
    }
    if (my !== req.current) return;
    setLoading(false);
    setItems(out);
    setActive(0);
  };

  const accept = (sug: Suggestion) => {
    if (ctx.kind === 'none') return;
    const before = value.slice(0, ctx.from);
    let after = value.slice(ctx.to);
    // Replace the rest of a partly typed word or string too.
    const tail = /^[^\s{}()&|,]*/.exec(after);
    if (tail) after = after.slice(tail[0].length);
    let ins = sug.insert;
    if (after.startsWith(' ')) ins = ins.trimEnd();
    const next = before + ins + after;
    onChange(next);
    setItems([]);
    const pos = before.length + ins.length;
    requestAnimationFrame(() => {
      const t = ta.current;
      if (!t) return;
      t.focus();
      t.setSelectionRange(pos, pos);
      void suggest(next, pos, false);
    });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const open = items.length > 0;
    if (open && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      e.preventDefault();
      setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length);
    } else if (open && (e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey) {
      e.preventDefault();
      accept(items[active]);
    } else if (open && e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      setItems([]);
    } else if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      onRun();
    } else if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault();
      const t = e.target as HTMLTextAreaElement;
      void suggest(t.value, t.selectionStart, true);
    }
  };

  const onInput = (e: Event) => {
    const t = e.target as HTMLTextAreaElement;
    onChange(t.value);
    void suggest(t.value, t.selectionStart, false);
  };

  const onScroll = () => {
    if (pre.current && ta.current) pre.current.scrollTop = ta.current.scrollTop;
  };

  useEffect(() => {
    const el = document.getElementById(`${listId}-${active}`);
    el?.scrollIntoView({ block: 'nearest' });
  }, [active, items, listId]);

  const tokens = lex(value);
  const open = items.length > 0;
  return (
    <div class="editor">
      <pre ref={pre} class="editor-hl" aria-hidden="true">
        {tokens.map((t) => <span class={`tk tk-${t.type}`}>{t.text}</span>)}{'\n'}
      </pre>
      <textarea
        ref={ta}
        class="editor-input"
        value={value}
        spellcheck={false}
        autocomplete="off"
        autocapitalize="off"
        rows={1}
        role="combobox"
        aria-label="TraceQL query"
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={listId}
        aria-activedescendant={open ? `${listId}-${active}` : undefined}
        placeholder='{ resource.service.name = "frontend" && duration > 100ms }'
        onInput={onInput}
        onKeyDown={onKeyDown}
        onScroll={onScroll}
        onBlur={() => setTimeout(() => setItems([]), 150)}
        onClick={(e) => { const t = e.target as HTMLTextAreaElement; void suggest(t.value, t.selectionStart, false); }}
      />
      {open && (
        <ul class="ac-list" id={listId} role="listbox" aria-label="Suggestions">
          {items.map((s, i) => (
            <li id={`${listId}-${i}`} role="option" aria-selected={i === active}
              class={i === active ? 'active' : ''}
              onMouseDown={(e) => { e.preventDefault(); accept(s); }}>
              <span class="ac-label">{s.label}</span><span class="ac-detail">{s.detail}</span>
            </li>
          ))}
        </ul>
      )}
      {loading && !open && <span class="ac-loading" aria-live="polite">…</span>}
    </div>
  );
}
