// One normalized span model for every path in and out of Strand, and the comparison of two
// sets of spans field by field.
//
// A span record is a flat object: the span's own fields plus the resource and scope it came
// with. Values are normalized so that the same data read through any API compares equal:
//   IDs            lowercase hex ('' when absent)
//   64-bit ints    decimal strings (times, intValue)
//   enums          names ('SPAN_KIND_SERVER', 'STATUS_CODE_ERROR')
//   AnyValue       {stringValue} {boolValue} {intValue:'5'} {doubleValue:1.5}
//                  {bytesValue:'<hex>'} {arrayValue:[...]} {kvlistValue:[kv...]} or {} (empty)
//   attribute lists sorted by key (OTLP attributes are a map; order carries no meaning)
// Absent fields get their proto3 defaults, so "omitted" and "zero" compare equal; whether a
// JSON response *omits* defaults (canonical form) is checked separately via `issues`.

export const SPAN_KINDS = [
  'SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER',
];
export const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const ENUMS = { SpanKind: SPAN_KINDS, StatusCode: STATUS_CODES };

const SCHEMAS = {
  ResourceSpans: { resource: 'Resource', scopeSpans: ['ScopeSpans'], schemaUrl: 'string' },
  Resource: { attributes: ['KeyValue'], droppedAttributesCount: 'uint32' },
  ScopeSpans: { scope: 'Scope', spans: ['Span'], schemaUrl: 'string' },
  Scope: {
    name: 'string', version: 'string', attributes: ['KeyValue'], droppedAttributesCount: 'uint32',
  },
  Span: {
    traceId: 'id16', spanId: 'id8', traceState: 'string', parentSpanId: 'id8', flags: 'uint32',
    name: 'string', kind: 'SpanKind', startTimeUnixNano: 'uint64', endTimeUnixNano: 'uint64',
    attributes: ['KeyValue'], droppedAttributesCount: 'uint32', events: ['Event'],
    droppedEventsCount: 'uint32', links: ['Link'], droppedLinksCount: 'uint32', status: 'Status',
  },
  Event: {
    timeUnixNano: 'uint64', name: 'string', attributes: ['KeyValue'],
    droppedAttributesCount: 'uint32',
  },
  Link: {
    traceId: 'id16', spanId: 'id8', traceState: 'string', attributes: ['KeyValue'],
    droppedAttributesCount: 'uint32', flags: 'uint32',
  },
  Status: { message: 'string', code: 'StatusCode' },
  KeyValue: { key: 'string', value: 'AnyValue' },
};

/** Thrown when a response cannot be read as the expected message at all. */
export class ShapeError extends Error {}

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const BASE64_RE = /^[A-Za-z0-9+/\-_]*={0,2}$/;
const DIGITS_RE = /^\d+$/;
const INT_RE = /^-?\d+$/;

function sortKvs(kvs) {
  return [...kvs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Reads protobuf canonical JSON (or protobufjs' toObject output of a decoded message) into
 * the normalized model. `canonicalChecks` records deviations from canonical form (default
 * values emitted, 64-bit ints as numbers, enums as numbers, ...) in `issues`; unknown keys
 * and values of the wrong type throw ShapeError.
 */
export class CanonicalReader {
  constructor({ canonicalChecks = true } = {}) {
    this.canonicalChecks = canonicalChecks;
    this.issues = [];
  }

  issue(path, what) {
    if (this.canonicalChecks) this.issues.push(`${path}: ${what}`);
  }

  message(obj, type, path) {
    if (!isPlainObject(obj)) throw new ShapeError(`${path}: expected a ${type} object, got ${fmt(obj)}`);
    const schema = SCHEMAS[type];
    for (const k of Object.keys(obj)) {
      if (!(k in schema)) throw new ShapeError(`${path}: unknown key ${JSON.stringify(k)} in ${type}`);
    }
    const out = {};
    for (const [k, kind] of Object.entries(schema)) {
      out[k] = this.field(obj[k], kind, `${path}.${k}`);
    }
    if (out.attributes) out.attributes = sortKvs(out.attributes);
    return out;
  }

  field(v, kind, path) {
    if (Array.isArray(kind)) {
      if (v === undefined) return [];
      if (!Array.isArray(v)) throw new ShapeError(`${path}: expected an array, got ${fmt(v)}`);
      if (v.length === 0) this.issue(path, 'empty repeated field emitted');
      return v.map((x, i) => this.field(x, kind[0], `${path}[${i}]`));
    }
    if (kind === 'AnyValue') return v === undefined ? {} : this.anyValue(v, path);
    if (SCHEMAS[kind]) return this.message(v === undefined ? {} : v, kind, path);
    if (ENUMS[kind]) return this.enumValue(v, ENUMS[kind], path);
    switch (kind) {
      case 'string':
        if (v === undefined) return '';
        if (typeof v !== 'string') throw new ShapeError(`${path}: expected a string, got ${fmt(v)}`);
        if (v === '') this.issue(path, 'default value "" emitted');
        return v;
      case 'uint32':
        if (v === undefined) return 0;
        if (typeof v === 'string' && DIGITS_RE.test(v)) {
          this.issue(path, `32-bit integer as a string ${fmt(v)} (canonical JSON uses a number)`);
          v = Number(v);
        }
        if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${path}: expected a uint32, got ${fmt(v)}`);
        if (v === 0) this.issue(path, 'default value 0 emitted');
        return v;
      case 'uint64': {
        if (v === undefined) return '0';
        const s = this.int64(v, path, false);
        if (s === '0') this.issue(path, 'default value "0" emitted');
        return s;
      }
      case 'id16':
      case 'id8': {
        if (v === undefined) return '';
        if (typeof v !== 'string' || !BASE64_RE.test(v)) {
          throw new ShapeError(`${path}: expected a base64 ID, got ${fmt(v)}`);
        }
        if (v === '') this.issue(path, 'default value "" emitted');
        const bytes = Buffer.from(v, 'base64');
        const want = kind === 'id16' ? 16 : 8;
        if (v !== '' && bytes.length !== want) {
          this.issue(path, `ID ${fmt(v)} decodes to ${bytes.length} bytes, not ${want}` +
            (/^[0-9a-fA-F]+$/.test(v) ? ' (hex instead of base64?)' : ''));
        }
        return bytes.toString('hex');
      }
      default:
        throw new Error(`schema kind ${kind}`);
    }
  }

  int64(v, path, signed) {
    const re = signed ? INT_RE : DIGITS_RE;
    if (typeof v === 'string' && re.test(v)) return BigInt(v).toString();
    if (typeof v === 'number' && Number.isInteger(v) && (signed || v >= 0)) {
      this.issue(path, `64-bit integer as a JSON number ${v} (canonical JSON uses a string)`);
      if (!Number.isSafeInteger(v)) this.issue(path, `64-bit integer ${v} beyond 2^53 lost precision`);
      return BigInt(v).toString();
    }
    throw new ShapeError(`${path}: expected a ${signed ? '' : 'u'}int64, got ${fmt(v)}`);
  }

  enumValue(v, names, path) {
    if (v === undefined) return names[0];
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length) {
      this.issue(path, `enum as a number ${v} (canonical JSON uses the name ${names[v]})`);
      v = names[v];
    }
    if (typeof v !== 'string' || !names.includes(v)) {
      throw new ShapeError(`${path}: expected one of ${names.join('|')}, got ${fmt(v)}`);
    }
    if (v === names[0]) this.issue(path, `default value ${v} emitted`);
    return v;
  }

  anyValue(v, path) {
    if (!isPlainObject(v)) throw new ShapeError(`${path}: expected an AnyValue object, got ${fmt(v)}`);
    const keys = Object.keys(v);
    if (keys.length === 0) return {};
    if (keys.length > 1) throw new ShapeError(`${path}: AnyValue with several members ${fmt(v)}`);
    const [k] = keys;
    const x = v[k];
    const p = `${path}.${k}`;
    switch (k) {
      case 'stringValue':
        if (typeof x !== 'string') throw new ShapeError(`${p}: expected a string, got ${fmt(x)}`);
        return { stringValue: x };
      case 'boolValue':
        if (typeof x !== 'boolean') throw new ShapeError(`${p}: expected a bool, got ${fmt(x)}`);
        return { boolValue: x };
      case 'intValue':
        return { intValue: this.int64(x, p, true) };
      case 'doubleValue':
        if (typeof x === 'number') return { doubleValue: x };
        if (x === 'NaN') return { doubleValue: NaN };
        if (x === 'Infinity') return { doubleValue: Infinity };
        if (x === '-Infinity') return { doubleValue: -Infinity };
        if (typeof x === 'string' && x.trim() !== '' && !Number.isNaN(Number(x))) {
          this.issue(p, `finite double as a string ${fmt(x)}`);
          return { doubleValue: Number(x) };
        }
        throw new ShapeError(`${p}: expected a double, got ${fmt(x)}`);
      case 'bytesValue':
        if (typeof x !== 'string' || !BASE64_RE.test(x)) {
          throw new ShapeError(`${p}: expected base64, got ${fmt(x)}`);
        }
        return { bytesValue: Buffer.from(x, 'base64').toString('hex') };
      case 'arrayValue':
      case 'kvlistValue': {
        if (!isPlainObject(x)) throw new ShapeError(`${p}: expected an object, got ${fmt(x)}`);
        for (const kk of Object.keys(x)) {
          if (kk !== 'values') throw new ShapeError(`${p}: unknown key ${JSON.stringify(kk)}`);
        }
        const values = x.values ?? [];
        if (!Array.isArray(values)) throw new ShapeError(`${p}.values: expected an array`);
        if (x.values !== undefined && values.length === 0) this.issue(`${p}.values`, 'empty repeated field emitted');
        if (k === 'arrayValue') {
          return { arrayValue: values.map((e, i) => this.anyValue(e, `${p}.values[${i}]`)) };
        }
        return {
          kvlistValue: sortKvs(values.map((e, i) => this.message(e, 'KeyValue', `${p}.values[${i}]`))),
        };
      }
      default:
        throw new ShapeError(`${path}: unknown AnyValue member ${JSON.stringify(k)}`);
    }
  }

  /** A list of ResourceSpans → flat span records. */
  resourceSpansList(list, path) {
    if (list === undefined) return [];
    if (!Array.isArray(list)) throw new ShapeError(`${path}: expected an array, got ${fmt(list)}`);
    if (list.length === 0) this.issue(path, 'empty repeated field emitted');
    const spans = [];
    list.forEach((rsObj, i) => {
      const rs = this.message(rsObj, 'ResourceSpans', `${path}[${i}]`);
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          spans.push({
            resource: rs.resource,
            resourceSchemaUrl: rs.schemaUrl,
            scope: ss.scope,
            scopeSchemaUrl: ss.schemaUrl,
            ...s,
          });
        }
      }
    });
    return spans;
  }
}

/** Tempo v1 trace body {"batches":[ResourceSpans...]} → {spans, issues}. */
export function readV1Body(obj, opts) {
  const r = new CanonicalReader(opts);
  if (!isPlainObject(obj)) throw new ShapeError(`v1 body: expected an object, got ${fmt(obj)}`);
  for (const k of Object.keys(obj)) {
    if (k !== 'batches') throw new ShapeError(`v1 body: unknown key ${JSON.stringify(k)}`);
  }
  const spans = r.resourceSpansList(obj.batches, 'batches');
  return { spans, issues: r.issues };
}

/** Tempo v2 TraceByIDResponse body → {spans, issues, status, message}. */
export function readV2Body(obj, opts) {
  const r = new CanonicalReader(opts);
  if (!isPlainObject(obj)) throw new ShapeError(`v2 body: expected an object, got ${fmt(obj)}`);
  for (const k of Object.keys(obj)) {
    if (!['trace', 'metrics', 'status', 'message'].includes(k)) {
      throw new ShapeError(`v2 body: unknown key ${JSON.stringify(k)}`);
    }
  }
  let spans = [];
  if (obj.trace !== undefined) {
    if (!isPlainObject(obj.trace)) throw new ShapeError(`trace: expected an object, got ${fmt(obj.trace)}`);
    for (const k of Object.keys(obj.trace)) {
      if (k !== 'resourceSpans') throw new ShapeError(`trace: unknown key ${JSON.stringify(k)}`);
    }
    spans = r.resourceSpansList(obj.trace.resourceSpans, 'trace.resourceSpans');
  } else {
    r.issues.push('trace: missing');
  }
  if (obj.metrics !== undefined) {
    if (!isPlainObject(obj.metrics)) throw new ShapeError(`metrics: expected an object`);
    if (obj.metrics.inspectedBytes !== undefined) {
      r.int64(obj.metrics.inspectedBytes, 'metrics.inspectedBytes', false);
    }
  }
  const status = obj.status === undefined ? 'COMPLETE' : obj.status;
  if (!['COMPLETE', 'PARTIAL', 0, 1].includes(status)) throw new ShapeError(`status: ${fmt(status)}`);
  if (obj.status !== undefined && (status === 'COMPLETE' || status === 0)) r.issue('status', 'default value emitted');
  const message = obj.message === undefined ? '' : obj.message;
  return { spans, issues: r.issues, status: status === 1 ? 'PARTIAL' : status === 0 ? 'COMPLETE' : status, message };
}

// ---------------------------------------------------------------------------------------
// Expected records from the OpenTelemetry JS SDK's ReadableSpan. These mirror what the
// OTLP exporters (@opentelemetry/otlp-transformer) put on the wire: API span kinds are
// offset by one, integral numbers become intValue and others doubleValue, and span/link
// flags carry the W3C trace flags plus the OTLP "has is_remote" (0x100) and "is_remote"
// (0x200) bits.

const FLAG_HAS_IS_REMOTE = 0x100;
const FLAG_IS_REMOTE = 0x200;

export function hrTimeToNanos(hr) {
  return (BigInt(Math.trunc(hr[0])) * 1_000_000_000n + BigInt(Math.trunc(hr[1]))).toString();
}

/**
 * `jsonWire`: the value travelled as OTLP/JSON written by JSON.stringify, which prints an
 * integral number beyond 2^53 with its shortest round-trip digits (2**62 is written
 * 4611686018427388000, not 4611686018427387904); a receiver then rightly stores the
 * integer that the text says.
 */
export function jsValueToAnyValue(v, { jsonWire = false } = {}) {
  if (v === null || v === undefined) return {};
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return { doubleValue: v };
    const text = String(v);
    return { intValue: (jsonWire && /^-?\d+$/.test(text) ? BigInt(text) : BigInt(v)).toString() };
  }
  if (v instanceof Uint8Array) return { bytesValue: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return { arrayValue: v.map((x) => jsValueToAnyValue(x, { jsonWire })) };
  if (typeof v === 'object') return { kvlistValue: jsAttributesToKvs(v, { jsonWire }) };
  throw new Error(`cannot express ${typeof v} as AnyValue`);
}

export function jsAttributesToKvs(attrs, opts = {}) {
  return sortKvs(Object.entries(attrs ?? {}).map(([key, v]) => ({ key, value: jsValueToAnyValue(v, opts) })));
}

function flagsOf(traceFlags, isRemote) {
  return (traceFlags & 0xff) | FLAG_HAS_IS_REMOTE | (isRemote ? FLAG_IS_REMOTE : 0);
}

/**
 * The normalized record of an SDK ReadableSpan, as the OTLP exporters send it. Pass
 * `{jsonWire: true}` for spans sent by the OTLP/JSON exporter (see jsValueToAnyValue).
 */
export function readableSpanToRecord(span, opts = {}) {
  const ctx = span.spanContext();
  const scope = span.instrumentationScope;
  return {
    resource: { attributes: jsAttributesToKvs(span.resource.attributes, opts), droppedAttributesCount: 0 },
    resourceSchemaUrl: span.resource.schemaUrl ?? '',
    scope: {
      name: scope.name,
      version: scope.version ?? '',
      attributes: jsAttributesToKvs(scope.attributes ?? {}, opts),
      droppedAttributesCount: 0,
    },
    scopeSchemaUrl: scope.schemaUrl ?? '',
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    traceState: ctx.traceState?.serialize() ?? '',
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    flags: flagsOf(ctx.traceFlags, span.parentSpanContext?.isRemote),
    name: span.name,
    kind: SPAN_KINDS[span.kind + 1],
    startTimeUnixNano: hrTimeToNanos(span.startTime),
    endTimeUnixNano: hrTimeToNanos(span.endTime),
    attributes: jsAttributesToKvs(span.attributes, opts),
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map((e) => ({
      timeUnixNano: hrTimeToNanos(e.time),
      name: e.name,
      attributes: jsAttributesToKvs(e.attributes ?? {}, opts),
      droppedAttributesCount: e.droppedAttributesCount ?? 0,
    })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      traceState: l.context.traceState?.serialize() ?? '',
      attributes: jsAttributesToKvs(l.attributes ?? {}, opts),
      droppedAttributesCount: l.droppedAttributesCount ?? 0,
      flags: flagsOf(l.context.traceFlags, l.context.isRemote),
    })),
    droppedLinksCount: span.droppedLinksCount,
    status: { message: span.status.message ?? '', code: STATUS_CODES[span.status.code] },
  };
}

// ---------------------------------------------------------------------------------------
// Comparison.

export function fmt(v, max = 160) {
  let s;
  if (typeof v === 'bigint') s = `${v}n`;
  else if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) s = Object.is(v, -0) ? '-0' : String(v);
  else if (v === undefined) s = 'undefined';
  else {
    try { s = JSON.stringify(v); } catch { s = String(v); }
  }
  if (s !== undefined && s.length > max) s = `${s.slice(0, max)}... (${s.length} chars)`;
  return s;
}

const isKvList = (a) => Array.isArray(a) && a.every((x) => isPlainObject(x) && 'key' in x && 'value' in x);

/** Differences between two normalized values as "path: expected X, got Y" lines. */
export function diff(exp, act, path = '', out = []) {
  if (Object.is(exp, act)) return out;
  const bothObjects = exp !== null && act !== null && typeof exp === 'object' && typeof act === 'object';
  if (!bothObjects || Array.isArray(exp) !== Array.isArray(act)) {
    out.push(`${path || '.'}: expected ${fmt(exp)}, got ${fmt(act)}`);
    return out;
  }
  if (Array.isArray(exp)) {
    if (exp.length > 0 && act.length > 0 && isKvList(exp) && isKvList(act)) {
      const am = new Map();
      for (const kv of act) am.set(kv.key, [...(am.get(kv.key) ?? []), kv.value]);
      const em = new Map();
      for (const kv of exp) em.set(kv.key, [...(em.get(kv.key) ?? []), kv.value]);
      for (const [k, vs] of em) {
        const avs = am.get(k);
        if (!avs) out.push(`${path}[${fmt(k, 60)}]: missing (expected ${fmt(vs[0])})`);
        else if (avs.length !== vs.length) out.push(`${path}[${fmt(k, 60)}]: expected ${vs.length} entries, got ${avs.length}`);
        else vs.forEach((v, i) => diff(v, avs[i], `${path}[${fmt(k, 60)}]`, out));
      }
      for (const [k, avs] of am) {
        if (!em.has(k)) out.push(`${path}[${fmt(k, 60)}]: unexpected (got ${fmt(avs[0])})`);
      }
      return out;
    }
    if (exp.length !== act.length) out.push(`${path}: expected ${exp.length} items, got ${act.length}`);
    const n = Math.min(exp.length, act.length);
    for (let i = 0; i < n; i++) diff(exp[i], act[i], `${path}[${i}]`, out);
    return out;
  }
  const keys = new Set([...Object.keys(exp), ...Object.keys(act)]);
  for (const k of keys) {
    if (!(k in exp)) out.push(`${path}.${k}: unexpected (got ${fmt(act[k])})`);
    else if (!(k in act)) out.push(`${path}.${k}: missing (expected ${fmt(exp[k])})`);
    else diff(exp[k], act[k], `${path}.${k}`, out);
  }
  return out;
}

/**
 * Compares expected and actual span records of one or more traces. Every expected span
 * must be there exactly once and equal field by field; no other span may be there.
 * Returns a list of problems (empty when equal).
 */
export function compareSpans(expected, actual) {
  const problems = [];
  const key = (s) => `${s.traceId}/${s.spanId}`;
  const actualByKey = new Map();
  for (const s of actual) actualByKey.set(key(s), [...(actualByKey.get(key(s)) ?? []), s]);
  const seen = new Set();
  for (const e of expected) {
    const k = key(e);
    if (seen.has(k)) throw new Error(`test bug: expected span ${k} listed twice`);
    seen.add(k);
    const got = actualByKey.get(k);
    const label = `span ${fmt(e.name, 60)} (${k})`;
    if (!got) {
      problems.push(`${label}: missing`);
      continue;
    }
    if (got.length > 1) problems.push(`${label}: returned ${got.length} times`);
    for (const d of diff(e, got[0])) problems.push(`${label}${d}`);
  }
  for (const [k, got] of actualByKey) {
    if (!seen.has(k)) problems.push(`span ${fmt(got[0].name, 60)} (${k}): unexpected span returned`);
  }
  return problems;
}

export function formatProblems(problems, limit = 40) {
  const shown = problems.slice(0, limit).map((p) => `  - ${p}`);
  if (problems.length > limit) shown.push(`  ... and ${problems.length - limit} more`);
  return shown.join('\n');
}
