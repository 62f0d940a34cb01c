// Test-only: the SpanBatch the filter processor's tests evaluate conditions on, decoded
// from a real OTLP protobuf request.
//
//   resource 0 {service.name=checkout, host.name=pod-7}, scope io.opentelemetry.http 1.2.0
//     span 0 "GET /healthz" SERVER, trace 01.., id a1.., no parent, UNSET, start 1000,
//            end 2000, trace_state "vendor=abc, other=xyz", attributes http.route,
//            http.status_code=200, ratio=0.5, ok=true, blob=0x0102, tags=[a, b],
//            nested={inner: x, deep: {z: 1}}; events "debug" {level=v}, "exception"
//     span 1 "GET /ping" INTERNAL, trace 01.., parent span 0, ERROR "boom",
//            http.status_code=503; event "debug"
//   resource 1 {service.name=noisy}, scope db 0.1
//     span 2 "SELECT" CLIENT, trace 02.., OK, http.status_code=500
#pragma once

#include <string>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/proto_decoder.h"
#include "otlp/span_batch.h"

namespace strand::pipeline::testing {

namespace pb = opentelemetry::proto;

inline void SetString(pb::common::v1::KeyValue* kv, const std::string& key,
                      const std::string& value) {
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

inline void SetInt(pb::common::v1::KeyValue* kv, const std::string& key, int64_t value) {
  kv->set_key(key);
  kv->mutable_value()->set_int_value(value);
}

inline pb::collector::trace::v1::ExportTraceServiceRequest FilterTestRequest() {
  pb::collector::trace::v1::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  SetString(rs->mutable_resource()->add_attributes(), "service.name", "checkout");
  SetString(rs->mutable_resource()->add_attributes(), "host.name", "pod-7");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("io.opentelemetry.http");
  ss->mutable_scope()->set_version("1.2.0");

  auto* s0 = ss->add_spans();
  s0->set_trace_id(std::string(15, '\0') + "\x01");
  s0->set_span_id(std::string(7, '\0') + "\xa1");
  s0->set_name("GET /healthz");
  s0->set_kind(pb::trace::v1::Span::SPAN_KIND_SERVER);
  s0->set_start_time_unix_nano(1000);
  s0->set_end_time_unix_nano(2000);
  s0->set_trace_state("vendor=abc, other=xyz");
  SetString(s0->add_attributes(), "http.route", "/healthz");
  SetInt(s0->add_attributes(), "http.status_code", 200);
  auto* ratio = s0->add_attributes();
  ratio->set_key("ratio");
  ratio->mutable_value()->set_double_value(0.5);
  auto* ok = s0->add_attributes();
  ok->set_key("ok");
  ok->mutable_value()->set_bool_value(true);
  auto* blob = s0->add_attributes();
  blob->set_key("blob");
  blob->mutable_value()->set_bytes_value("\x01\x02");
  auto* tags = s0->add_attributes();
  tags->set_key("tags");
  tags->mutable_value()->mutable_array_value()->add_values()->set_string_value("a");
  tags->mutable_value()->mutable_array_value()->add_values()->set_string_value("b");
  auto* nested = s0->add_attributes();
  nested->set_key("nested");
  auto* kvs = nested->mutable_value()->mutable_kvlist_value();
  SetString(kvs->add_values(), "inner", "x");
  auto* deep = kvs->add_values();
  deep->set_key("deep");
  SetInt(deep->mutable_value()->mutable_kvlist_value()->add_values(), "z", 1);
  auto* e0 = s0->add_events();
  e0->set_name("debug");
  e0->set_time_unix_nano(1500);
  SetString(e0->add_attributes(), "level", "v");
  s0->add_events()->set_name("exception");

  auto* s1 = ss->add_spans();
  s1->set_trace_id(s0->trace_id());
  s1->set_span_id(std::string(7, '\0') + "\xa2");
  s1->set_parent_span_id(s0->span_id());
  s1->set_name("GET /ping");
  s1->set_kind(pb::trace::v1::Span::SPAN_KIND_INTERNAL);
  s1->mutable_status()->set_code(pb::trace::v1::Status::STATUS_CODE_ERROR);
  s1->mutable_status()->set_message("boom");
  SetInt(s1->add_attributes(), "http.status_code", 503);
  s1->add_events()->set_name("debug");

  auto* rs2 = req.add_resource_spans();
  SetString(rs2->mutable_resource()->add_attributes(), "service.name", "noisy");
  auto* ss2 = rs2->add_scope_spans();
  ss2->mutable_scope()->set_name("db");
  ss2->mutable_scope()->set_version("0.1");
  auto* s2 = ss2->add_spans();
  s2->set_trace_id(std::string(15, '\0') + "\x02");
  s2->set_span_id(std::string(7, '\0') + "\xb1");
  s2->set_name("SELECT");
  s2->set_kind(pb::trace::v1::Span::SPAN_KIND_CLIENT);
  s2->mutable_status()->set_code(pb::trace::v1::Status::STATUS_CODE_OK);
  SetInt(s2->add_attributes(), "http.status_code", 500);
  return req;
}

inline otlp::SpanBatch FilterTestBatch() {
  auto decoded = otlp::DecodeProtoRequest(FilterTestRequest().SerializeAsString());
  return std::move(decoded->batch);
}

}  // namespace strand::pipeline::testing
