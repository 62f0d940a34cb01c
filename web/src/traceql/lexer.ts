// A TraceQL lexer for highlighting and autocomplete. It never fails: every character of
// the input lands in exactly one token (unknown characters become 'error' tokens), so the
// highlighted copy lines up with the text being edited. It follows docs/traceql.md.

export type TokenType =
  | 'space' | 'brace' | 'paren' | 'comma' | 'op' | 'string' | 'number' | 'duration'
  | 'keyword' | 'intrinsic' | 'attr' | 'func' | 'ident' | 'error';

export interface Token {
  type: TokenType;
  text: string;
  start: number;
  end: number;
  /** A string token without its closing quote. */
  open?: boolean;
}

export const KEYWORDS = new Set([
  'true', 'false', 'nil', 'ok', 'error', 'unset',
  'unspecified', 'internal', 'server', 'client', 'producer', 'consumer',
]);
export const INTRINSICS = new Set([
  'name', 'status', 'statusMessage', 'kind', 'duration', 'traceDuration', 'rootName',
  'rootServiceName', 'childCount',
]);
export const FUNCTIONS = new Set([
  'count', 'avg', 'min', 'max', 'sum', 'by', 'select', 'coalesce', 'with',
  'rate', 'count_over_time', 'min_over_time', 'max_over_time', 'avg_over_time', 'sum_over_time',
  'quantile_over_time', 'histogram_over_time', 'compare', 'topk', 'bottomk',
]);
const SCOPES = ['resource.', 'span.', 'event.', 'link.', 'instrumentation.', 'parent.'];
const SCOPED_INTRINSIC = /^(span|trace|event|link|instrumentation):[A-Za-z]+/;
// Longest first, so `!=` is not read as `!` then `=`.
const OPERATORS = [
  '&>>', '&<<', '!>>', '!<<',
  '&&', '||', '!=', '=~', '!~', '>=', '<=', '>>', '<<', '&>', '&<', '&~', '!>', '!<',
  '=', '>', '<', '!', '~', '+', '-', '*', '/', '%', '^', '|',
];
export const COMPARISONS = new Set(['=', '!=', '=~', '!~', '>', '>=', '<', '<=']);
const UNIT = '(?:ns|us|µs|ms|s|m|h)';
const DURATION = new RegExp(`^\\d+(?:\\.\\d+)?${UNIT}(?:\\d+(?:\\.\\d+)?${UNIT})*(?![A-Za-z0-9_])`);
const NUMBER = /^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
// Attribute names run until space or a character that ends an expression.
const ATTR_NAME = /^[^\s{}()=!<>&|~+*/%^,"`]+/;

function readQuoted(s: string, i: number): { end: number; open: boolean } {
  const q = s[i];
  let j = i + 1;
  while (j < s.length) {
    if (q === '"' && s[j] === '\\') { j += 2; continue; }
    if (s[j] === q) return { end: j + 1, open: false };
    j++;
  }
  return { end: s.length, open: true };
}

export function lex(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const push = (type: TokenType, end: number, open?: boolean) => {
    out.push({ type, text: s.slice(i, end), start: i, end, ...(open ? { open } : {}) });
    i = end;
  };
  while (i < s.length) {
    const c = s[i];
    const rest = s.slice(i);
    let m: RegExpExecArray | null;
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < s.length && /\s/.test(s[j])) j++;
      push('space', j);
    } else if (c === '{' || c === '}') {
      push('brace', i + 1);
    } else if (c === '(' || c === ')') {
      push('paren', i + 1);
    } else if (c === ',') {
      push('comma', i + 1);
    } else if (c === '"' || c === '`') {
      const r = readQuoted(s, i);
      push('string', r.end, r.open);
    } else if ((m = DURATION.exec(rest))) {
      push('duration', i + m[0].length);
    } else if ((m = NUMBER.exec(rest))) {
      push('number', i + m[0].length);
    } else if ((m = SCOPED_INTRINSIC.exec(rest))) {
      push('intrinsic', i + m[0].length);
    } else if (c === '.' || SCOPES.some((p) => rest.startsWith(p))) {
      // scope.name, .name, or scope."quoted name"
      let j = c === '.' ? i + 1 : i + rest.indexOf('.') + 1;
      if (s[j] === '"') j = readQuoted(s, j).end;
      else {
        const n = ATTR_NAME.exec(s.slice(j));
        if (n) j += n[0].length;
      }
      push('attr', j);
    } else if ((m = IDENT.exec(rest))) {
      const w = m[0];
      push(KEYWORDS.has(w) ? 'keyword' : INTRINSICS.has(w) ? 'intrinsic' : FUNCTIONS.has(w) ? 'func' : 'ident',
        i + w.length);
    } else {
      const op = OPERATORS.find((o) => rest.startsWith(o));
      push(op ? 'op' : 'error', i + (op ? op.length : 1));
    }
  }
  return out;
}

/** What the cursor is on, for autocomplete. */
export type Completion =
  | { kind: 'field'; from: number; to: number; prefix: string }
  | { kind: 'operator'; from: number; to: number; field: string }
  | { kind: 'value'; from: number; to: number; prefix: string; field: string }
  | { kind: 'none' };

const FIELD_TYPES = new Set<TokenType>(['attr', 'intrinsic', 'ident', 'keyword', 'func']);

/** The completion wanted at `cursor` in `s`: which text to replace and what to offer. */
export function completionAt(s: string, cursor: number): Completion {
  const tokens = lex(s.slice(0, cursor));
  let last = tokens.length - 1;
  // The word being typed is the last token if it touches the cursor and is not space.
  let word: Token | null = null;
  if (last >= 0 && tokens[last].type !== 'space' && tokens[last].end === cursor &&
      (FIELD_TYPES.has(tokens[last].type) || tokens[last].type === 'string' ||
       tokens[last].type === 'number' || tokens[last].type === 'duration')) {
    word = tokens[last];
    last--;
  }
  // A closed string right at the cursor is finished: offer nothing.
  if (word?.type === 'string' && !word.open) return { kind: 'none' };
  while (last >= 0 && tokens[last].type === 'space') last--;
  const prev = last >= 0 ? tokens[last] : null;
  let before = last - 1;
  while (before >= 0 && tokens[before].type === 'space') before--;
  const prev2 = before >= 0 ? tokens[before] : null;
  const from = word ? word.start : cursor;
  if (prev && prev.type === 'op' && COMPARISONS.has(prev.text) && prev2 &&
      (prev2.type === 'attr' || prev2.type === 'intrinsic')) {
    let prefix = word ? word.text : '';
    if (prefix.startsWith('"') || prefix.startsWith('`')) prefix = prefix.slice(1);
    return { kind: 'value', from, to: cursor, prefix, field: prev2.text };
  }
  if (!word && prev && (prev.type === 'attr' || prev.type === 'intrinsic') && cursor > prev.end) {
    return { kind: 'operator', from: cursor, to: cursor, field: prev.text };
  }
  if (word && word.type === 'string') return { kind: 'none' };
  const opensField = !prev || prev.text === '{' || prev.text === '(' || prev.text === ',' ||
    prev.text === '&&' || prev.text === '||' || prev.text === '!' ||
    (prev.type === 'op' && !COMPARISONS.has(prev.text) && prev.text !== '|');
  if (opensField && (word === null || FIELD_TYPES.has(word.type)) && insideBraces(tokens, last)) {
    return { kind: 'field', from, to: cursor, prefix: word ? word.text : '' };
  }
  return { kind: 'none' };
}

/** Whether token index `i` lies inside a `{ }` or a function's parentheses. */
function insideBraces(tokens: Token[], i: number): boolean {
  let depth = 0;
  for (let k = 0; k <= i && k < tokens.length; k++) {
    const t = tokens[k].text;
    if (t === '{' || t === '(') depth++;
    else if (t === '}' || t === ')') depth--;
  }
  return depth > 0;
}

/** A value as a TraceQL literal: strings quoted and escaped, others as they are. */
export function literalOf(type: string, value: string): string {
  if (type === 'string') return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return value;
}
