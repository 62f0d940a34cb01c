// Helpers that append one OTLP attribute to a protobuf attribute list; shared by the
// service catalog and the trace generator.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "opentelemetry/proto/common/v1/common.pb.h"

namespace strand::testdata {

using Attributes = google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>;

inline void Str(Attributes* attrs, std::string_view key, std::string_view value) {
  auto* kv = attrs->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_string_value(std::string(value));
}
inline void Int(Attributes* attrs, std::string_view key, int64_t value) {
  auto* kv = attrs->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_int_value(value);
}
inline void Double(Attributes* attrs, std::string_view key, double value) {
  auto* kv = attrs->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_double_value(value);
}
inline void Bool(Attributes* attrs, std::string_view key, bool value) {
  auto* kv = attrs->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_bool_value(value);
}
inline void StrArray(Attributes* attrs, std::string_view key,
                     const std::vector<std::string>& values) {
  auto* kv = attrs->Add();
  kv->set_key(std::string(key));
  auto* array = kv->mutable_value()->mutable_array_value();
  for (const std::string& v : values) array->add_values()->set_string_value(v);
}

}  // namespace strand::testdata
