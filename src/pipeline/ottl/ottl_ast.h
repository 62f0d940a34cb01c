// The syntax tree of an OTTL condition (the boolean expressions of the filter processor),
// as ottl_parser.cc builds it and OttlCondition evaluates it. Immutable once parsed;
// shared by threads through const access only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "traceql/ast.h"

namespace re2 {
class RE2;
}

namespace strand::pipeline::ottl {

// The OTTL context a condition is written for: which record the bare paths (`name`,
// `attributes`) refer to.
enum class Context { kSpan, kSpanEvent };

// A telemetry field a path resolves to. Span fields are read from the span (in the
// spanevent context: the event's span, written `span.<field>`).
enum class Field {
  kSpanName,
  kSpanKind,                  // int
  kSpanKindString,            // kind.string: "Server"
  kSpanKindDeprecatedString,  // kind.deprecated_string: "SPAN_KIND_SERVER"
  kSpanStatusCode,
  kSpanStatusMessage,
  kSpanTraceId,  // bytes
  kSpanTraceIdString,
  kSpanId,
  kSpanIdString,
  kSpanParentSpanId,
  kSpanParentSpanIdString,
  kSpanTraceState,  // the whole string, or one entry with a key
  kSpanStartTime,   // start_time_unix_nano
  kSpanEndTime,     // end_time_unix_nano
  kSpanDroppedAttributes,
  kSpanDroppedEvents,
  kSpanDroppedLinks,
  kSpanAttributes,
  kResourceAttributes,
  kResourceDroppedAttributes,
  kScopeName,
  kScopeVersion,
  kScopeDroppedAttributes,
  kScopeAttributes,
  kEventName,
  kEventTime,  // time_unix_nano
  kEventDroppedAttributes,
  kEventAttributes,
};

// A path's index: `["key"]` or `[0]`.
struct PathKey {
  bool is_int = false;
  std::string str;
  int64_t index = 0;
};

// Comparison operators are TraceQL's (kEq, kNeq, kLt, kLte, kGt, kGte), so that the two
// languages share CompareOrdered.
using Op = traceql::Op;

struct Expr {
  enum class Kind {
    kNil,
    kBool,
    kInt,
    kFloat,
    kString,
    kBytes,
    kPath,
    kIsMatch,  // IsMatch(args[0], regex)
    kCompare,  // args[0] op args[1]
    kAnd,      // args...
    kOr,       // args...
    kNot,      // args[0]
  };
  Kind kind = Kind::kNil;
  uint32_t column = 1;  // 1-based, in characters of the condition's text
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;  // kString, kBytes (raw bytes)
  Field field = Field::kSpanName;
  std::vector<PathKey> keys;              // kPath
  Op op = Op::kEq;                        // kCompare
  std::shared_ptr<const re2::RE2> regex;  // kIsMatch
  std::vector<std::unique_ptr<Expr>> args;

  // Whether the expression yields a bool (so it can stand as a condition by itself).
  bool IsBoolean() const {
    return kind == Kind::kBool || kind == Kind::kIsMatch || kind == Kind::kCompare ||
           kind == Kind::kAnd || kind == Kind::kOr || kind == Kind::kNot;
  }
};

}  // namespace strand::pipeline::ottl
