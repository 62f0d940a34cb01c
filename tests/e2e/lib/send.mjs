// Sends one span through a real OpenTelemetry SDK exporter and reports how the export went.

import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Sends one span named `name` (service `service`) through `exporter`; resolves to
 * {code, traceId, error}: the export result code, the span's trace ID, and the error a
 * failed export reported (its `code` is the gRPC status over gRPC).
 */
export async function sendSpan(exporter, name, { service = 'e2e' } = {}) {
  let code;
  let exportError;
  const recording = {
    export: (spans, cb) => exporter.export(spans, (r) => {
      code = r.code;
      exportError = r.error;
      cb(r);
    }),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => Promise.resolve(),
  };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(recording)],
  });
  const span = provider.getTracer(service).startSpan(name);
  const traceId = span.spanContext().traceId;
  span.end();
  let error;
  try {
    await provider.forceFlush();
  } catch (err) {
    error = err; // a failed export also rejects the flush
  }
  await provider.shutdown().catch(() => {});
  return { code, traceId, error: exportError ?? error };
}
