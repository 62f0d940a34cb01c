// What the Node.js language image's init container copies into
// /otel-auto-instrumentation-nodejs: the entry point NODE_OPTIONS requires. It starts the
// OpenTelemetry Node.js SDK with every auto-instrumentation, configured from OTEL_* env.
require('@opentelemetry/auto-instrumentations-node/register');
