// Loads Strand's own .proto files (src/otlp/proto) with protobufjs and offers the message
// types the tests encode requests with and decode responses with.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs');

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');
export const protoDir = path.join(repoRoot, 'src', 'otlp', 'proto');

const root = new protobuf.Root();
// google/protobuf/*.proto are bundled with protobufjs; everything else is ours.
root.resolvePath = (_origin, target) =>
  target.startsWith('google/protobuf/') ? target : path.join(protoDir, target);
root.loadSync([
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'google/rpc/status.proto',
  'strand/tempopb/tempo.proto',
]);
root.resolveAll();

export const pb = {
  root,
  ExportTraceServiceRequest: root.lookupType(
    'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
  ExportTraceServiceResponse: root.lookupType(
    'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  ResourceSpans: root.lookupType('opentelemetry.proto.trace.v1.ResourceSpans'),
  ScopeSpans: root.lookupType('opentelemetry.proto.trace.v1.ScopeSpans'),
  Span: root.lookupType('opentelemetry.proto.trace.v1.Span'),
  RpcStatus: root.lookupType('google.rpc.Status'),
  TraceV1: root.lookupType('strand.tempopb.TraceV1'),
  Trace: root.lookupType('strand.tempopb.Trace'),
  TraceByIDResponse: root.lookupType('strand.tempopb.TraceByIDResponse'),
};

// toObject options that turn a decoded message into (almost) protobuf canonical JSON:
// 64-bit ints as decimal strings, enums by name, bytes base64, NaN/Infinity as strings.
export const CANONICAL_TO_OBJECT = {
  longs: String,
  enums: String,
  bytes: String,
  defaults: false,
  arrays: false,
  objects: false,
  oneofs: false,
  json: true,
};

/** Decodes bytes as `type` and returns the canonical-JSON-like plain object. */
export function decodeToObject(type, bytes) {
  const msg = type.decode(bytes);
  return type.toObject(msg, CANONICAL_TO_OBJECT);
}

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

/**
 * Converts an OTLP/JSON-shaped request (hex IDs, enums as ints or names, 64-bit ints as
 * strings or numbers, bytes base64) into a protobufjs message. Unknown keys are dropped
 * by protobufjs. Hex IDs may be any length (to build invalid IDs on purpose).
 */
export function otlpJsonToMessage(req) {
  const convert = (v, key) => {
    if (Array.isArray(v)) return v.map((x) => convert(x, null));
    if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
      const out = {};
      for (const [k, x] of Object.entries(v)) out[k] = convert(x, k);
      return out;
    }
    if (ID_FIELDS.has(key) && typeof v === 'string') return Buffer.from(v, 'hex');
    return v;
  };
  return pb.ExportTraceServiceRequest.fromObject(convert(req, null));
}

/** Encodes an OTLP/JSON-shaped request as protobuf bytes. */
export function otlpJsonToProtobuf(req) {
  return Buffer.from(pb.ExportTraceServiceRequest.encode(otlpJsonToMessage(req)).finish());
}

/**
 * The canonical-JSON form of an OTLP/JSON-shaped request (base64 IDs, enum names), i.e.
 * what the Tempo API should give back for it. Goes through protobufjs, so unknown keys
 * vanish exactly as a conforming receiver must drop them.
 */
export function otlpJsonToCanonical(req) {
  return pb.ExportTraceServiceRequest.toObject(otlpJsonToMessage(req), CANONICAL_TO_OBJECT);
}

export { protobuf };
