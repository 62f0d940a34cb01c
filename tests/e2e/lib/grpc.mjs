// A raw OTLP/gRPC client: sends exact bytes to TraceService/Export and returns the status,
// so tests can send what no SDK would (invalid IDs, garbage, oversized messages).

import { createRequire } from 'node:module';
import { pb } from './proto.mjs';

const require = createRequire(import.meta.url);
export const grpc = require('@grpc/grpc-js');

export const EXPORT_METHOD = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

export class RawGrpcClient {
  /** `address` is host:port; options are grpc-js channel options. */
  constructor(address, options = {}) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': -1,
      ...options,
    });
  }

  /**
   * Calls Export with a protobufjs message, an OTLP request's bytes, or any bytes.
   * Resolves to {ok, code, codeName, details, response (decoded ExportTraceServiceResponse
   * as a plain object), metadata}; never rejects on gRPC errors.
   */
  export(msgOrBytes, { metadata = {}, deadlineMs = 30_000 } = {}) {
    const bytes = Buffer.isBuffer(msgOrBytes) || msgOrBytes instanceof Uint8Array
      ? Buffer.from(msgOrBytes)
      : Buffer.from(pb.ExportTraceServiceRequest.encode(msgOrBytes).finish());
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        EXPORT_METHOD,
        (b) => b,
        (b) => b,
        bytes,
        md,
        { deadline: Date.now() + deadlineMs },
        (err, responseBytes) => {
          if (err) {
            resolve({
              ok: false, code: err.code, codeName: grpc.status[err.code], details: err.details,
              metadata: err.metadata,
            });
            return;
          }
          let response;
          try {
            response = pb.ExportTraceServiceResponse.toObject(
              pb.ExportTraceServiceResponse.decode(responseBytes), { longs: String });
          } catch (e) {
            response = { decodeError: e.message };
          }
          resolve({ ok: true, code: 0, codeName: 'OK', response });
        });
    });
  }

  close() { this.client.close(); }
}
