#include "pipeline/ottl/ottl_parser.h"

#include <cctype>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pipeline/ottl/ottl_lexer.h"
#include "re2/re2.h"

namespace strand::pipeline::ottl {
namespace {

// Parentheses and `not` may nest this deep (bounds the recursion).
constexpr int kMaxDepth = 100;

class Parser {
 public:
  Parser(std::vector<Token> tokens, Context context)
      : tokens_(std::move(tokens)), context_(context) {}

  absl::StatusOr<std::unique_ptr<Expr>> Run() {
    auto e = ParseOr(0);
    if (!e.ok()) return e;
    if (Peek().kind != Tok::kEnd) return Unexpected("`and`, `or` or the end of the condition");
    return e;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Take() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }
  bool IsKeyword(const Token& t, std::string_view word) const {
    return t.kind == Tok::kIdent && t.text == word;
  }
  absl::Status Unexpected(std::string_view expected) const {
    const Token& t = Peek();
    std::string got = t.kind == Tok::kEnd ? "the end of the condition" : "\"" + t.text + "\"";
    if (t.kind == Tok::kMath) return ErrorAt(t.column, "not supported: math expressions");
    if (t.kind == Tok::kAssign) return ErrorAt(t.column, "expected a comparison; equality is ==");
    return ErrorAt(t.column, absl::StrCat("expected ", std::string(expected), ", got ", got));
  }

  static std::unique_ptr<Expr> Node(Expr::Kind kind, uint32_t column) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->column = column;
    return e;
  }

  // or / and chains: left to right, `and` binding tighter.
  absl::StatusOr<std::unique_ptr<Expr>> ParseOr(int depth) {
    return ParseChain(depth, "or", Expr::Kind::kOr);
  }
  absl::StatusOr<std::unique_ptr<Expr>> ParseChain(int depth, std::string_view word,
                                                   Expr::Kind kind) {
    auto first =
        kind == Expr::Kind::kOr ? ParseChain(depth, "and", Expr::Kind::kAnd) : ParseNot(depth);
    if (!first.ok() || !IsKeyword(Peek(), word)) return first;
    auto chain = Node(kind, (*first)->column);
    chain->args.push_back(std::move(*first));
    while (IsKeyword(Peek(), word)) {
      Take();
      auto next =
          kind == Expr::Kind::kOr ? ParseChain(depth, "and", Expr::Kind::kAnd) : ParseNot(depth);
      if (!next.ok()) return next;
      chain->args.push_back(std::move(*next));
    }
    return chain;
  }

  absl::StatusOr<std::unique_ptr<Expr>> ParseNot(int depth) {
    if (depth > kMaxDepth) return ErrorAt(Peek().column, "condition nested too deeply");
    if (!IsKeyword(Peek(), "not")) return ParseBoolPrimary(depth);
    auto e = Node(Expr::Kind::kNot, Take().column);
    auto operand = ParseNot(depth + 1);
    if (!operand.ok()) return operand;
    e->args.push_back(std::move(*operand));
    return e;
  }

  absl::StatusOr<std::unique_ptr<Expr>> ParseBoolPrimary(int depth) {
    if (Peek().kind == Tok::kLParen) {
      Take();
      auto e = ParseOr(depth + 1);
      if (!e.ok()) return e;
      if (Peek().kind != Tok::kRParen) return Unexpected("\")\"");
      Take();
      return e;
    }
    auto lhs = ParseValue();
    if (!lhs.ok()) return lhs;
    if (Peek().kind != Tok::kCompare) {
      if ((*lhs)->IsBoolean()) return lhs;
      return Unexpected("a comparison operator (==, !=, <, <=, >, >=)");
    }
    const Token& op = Take();
    auto rhs = ParseValue();
    if (!rhs.ok()) return rhs;
    auto e = Node(Expr::Kind::kCompare, (*lhs)->column);
    e->op = op.op;
    e->args.push_back(std::move(*lhs));
    e->args.push_back(std::move(*rhs));
    return e;
  }

  absl::StatusOr<std::unique_ptr<Expr>> ParseValue() {
    auto v = ParseValueInner();
    if (v.ok() && Peek().kind == Tok::kMath) {
      return ErrorAt(Peek().column, "not supported: math expressions");
    }
    return v;
  }

  absl::StatusOr<std::unique_ptr<Expr>> ParseValueInner() {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kString:
      case Tok::kBytes: {
        auto e = Node(t.kind == Tok::kString ? Expr::Kind::kString : Expr::Kind::kBytes, t.column);
        e->s = Take().text;
        return e;
      }
      case Tok::kInt:
      case Tok::kFloat:
        return Number("");
      case Tok::kMath:
        if ((t.text == "-" || t.text == "+") &&
            (Peek(1).kind == Tok::kInt || Peek(1).kind == Tok::kFloat) && Peek(1).offset == t.end) {
          std::string sign = Take().text;
          return Number(sign);
        }
        return ErrorAt(t.column, "not supported: math expressions");
      case Tok::kLBracket:
        return ErrorAt(t.column, "not supported: list literals");
      case Tok::kLBrace:
        return ErrorAt(t.column, "not supported: map literals");
      case Tok::kIdent:
        break;
      default:
        return Unexpected("a value");
    }
    if (t.text == "true" || t.text == "false") {
      auto e = Node(Expr::Kind::kBool, t.column);
      e->b = Take().text == "true";
      return e;
    }
    if (t.text == "nil") return Node(Expr::Kind::kNil, Take().column);
    if (t.text == "and" || t.text == "or" || t.text == "not") return Unexpected("a value");
    if (Peek(1).kind == Tok::kLParen) return Converter();
    if (std::isupper(static_cast<unsigned char>(t.text[0]))) return Enum();
    return Path();
  }

  absl::StatusOr<std::unique_ptr<Expr>> Number(const std::string& sign) {
    const Token& t = Take();
    std::string text = sign + t.text;
    uint32_t column = sign.empty() ? t.column : t.column - 1;
    auto e = Node(t.kind == Tok::kInt ? Expr::Kind::kInt : Expr::Kind::kFloat, column);
    bool ok = t.kind == Tok::kInt ? absl::SimpleAtoi(text, &e->i) : absl::SimpleAtod(text, &e->f);
    if (!ok) return ErrorAt(column, absl::StrCat("invalid number ", text));
    return e;
  }

  absl::StatusOr<std::unique_ptr<Expr>> Enum() {
    const Token& t = Take();
    static constexpr std::pair<std::string_view, int64_t> kEnums[] = {
        {"SPAN_KIND_UNSPECIFIED", 0}, {"SPAN_KIND_INTERNAL", 1}, {"SPAN_KIND_SERVER", 2},
        {"SPAN_KIND_CLIENT", 3},      {"SPAN_KIND_PRODUCER", 4}, {"SPAN_KIND_CONSUMER", 5},
        {"STATUS_CODE_UNSET", 0},     {"STATUS_CODE_OK", 1},     {"STATUS_CODE_ERROR", 2},
    };
    for (const auto& [name, value] : kEnums) {
      if (t.text == name) {
        auto e = Node(Expr::Kind::kInt, t.column);
        e->i = value;
        return e;
      }
    }
    return ErrorAt(t.column, absl::StrCat("unknown OTTL enum \"", t.text, "\""));
  }

  // Converters: IsMatch(value, "regex"), TraceID(0x...), SpanID(0x...).
  absl::StatusOr<std::unique_ptr<Expr>> Converter() {
    const Token& name = Take();
    if (name.text != "IsMatch" && name.text != "TraceID" && name.text != "SpanID") {
      return ErrorAt(name.column, absl::StrCat("not supported: OTTL function ", name.text));
    }
    Take();  // (
    std::vector<std::unique_ptr<Expr>> args;
    while (Peek().kind != Tok::kRParen) {
      if (!args.empty()) {
        if (Peek().kind != Tok::kComma) return Unexpected("\",\" or \")\"");
        Take();
      }
      auto arg = ParseValue();
      if (!arg.ok()) return arg;
      args.push_back(std::move(*arg));
    }
    Take();  // )
    if (Peek().kind == Tok::kLBracket) {
      return ErrorAt(Peek().column, "not supported: indexing the result of a converter");
    }
    const size_t want = name.text == "IsMatch" ? 2 : 1;
    if (args.size() != want) {
      return ErrorAt(name.column, absl::StrCat(name.text, " takes ", want, " argument",
                                               want == 1 ? "" : "s", ", got ", args.size()));
    }
    if (name.text != "IsMatch") {
      const size_t bytes = name.text == "TraceID" ? 16 : 8;
      if (args[0]->kind != Expr::Kind::kBytes || args[0]->s.size() != bytes) {
        return ErrorAt(args[0]->column,
                       absl::StrCat(name.text, " takes a ", bytes, "-byte literal (0x and ",
                                    2 * bytes, " hex digits)"));
      }
      args[0]->column = name.column;
      return std::move(args[0]);
    }
    if (args[1]->kind != Expr::Kind::kString) {
      return ErrorAt(args[1]->column, "not supported: an IsMatch pattern other than a string");
    }
    auto re = std::make_shared<const re2::RE2>(args[1]->s, re2::RE2::Quiet);
    if (!re->ok()) {
      return ErrorAt(args[1]->column, absl::StrCat("invalid regular expression \"", args[1]->s,
                                                   "\": ", re->error()));
    }
    auto e = Node(Expr::Kind::kIsMatch, name.column);
    e->regex = std::move(re);
    e->args.push_back(std::move(args[0]));
    return e;
  }

  absl::StatusOr<std::unique_ptr<Expr>> Path() {
    const Token& first = Peek();
    if (std::isupper(static_cast<unsigned char>(first.text[0]))) return Unexpected("a value");
    std::vector<std::string> segments{Take().text};
    while (Peek().kind == Tok::kDot && Peek(1).kind == Tok::kIdent) {
      Take();
      segments.push_back(Take().text);
    }
    auto e = Node(Expr::Kind::kPath, first.column);
    while (Peek().kind == Tok::kLBracket) {
      Take();
      const Token& key = Take();
      PathKey k;
      if (key.kind == Tok::kString) {
        k.str = key.text;
      } else if (key.kind == Tok::kInt && absl::SimpleAtoi(key.text, &k.index)) {
        k.is_int = true;
      } else {
        return ErrorAt(key.column, "not supported: path keys other than string and int literals");
      }
      if (Peek().kind != Tok::kRBracket) return Unexpected("\"]\"");
      Take();
      e->keys.push_back(std::move(k));
    }
    auto field = Resolve(segments);
    if (!field) {
      return ErrorAt(
          first.column,
          absl::StrCat("not supported: OTTL path \"", absl::StrJoin(segments, "."), "\" in the ",
                       context_ == Context::kSpan ? "span" : "spanevent", " context"));
    }
    e->field = *field;
    const bool map = e->field == Field::kSpanAttributes || e->field == Field::kEventAttributes ||
                     e->field == Field::kResourceAttributes || e->field == Field::kScopeAttributes;
    const bool one_string_key =
        e->field == Field::kSpanTraceState && e->keys.size() == 1 && !e->keys[0].is_int;
    if (!e->keys.empty() && !map && !one_string_key) {
      return ErrorAt(first.column, absl::StrCat("path \"", absl::StrJoin(segments, "."),
                                                "\" cannot be indexed like that"));
    }
    if (map && !e->keys.empty() && e->keys[0].is_int) {
      return ErrorAt(first.column, "attributes are indexed by string keys");
    }
    return e;
  }

  // The field named by a path's segments in this context, or nullopt.
  std::optional<Field> Resolve(const std::vector<std::string>& segments) const {
    size_t i = 0;
    bool span_record = context_ == Context::kSpan;
    if (segments.size() > 1 && segments[0] == "span") {
      i = 1;
      span_record = true;
    } else if (segments.size() > 1 && segments[0] == "spanevent" &&
               context_ == Context::kSpanEvent) {
      i = 1;
    }
    std::string rest = absl::StrJoin(segments.begin() + i, segments.end(), ".");
    static const std::pair<std::string_view, Field> kCommon[] = {
        {"resource.attributes", Field::kResourceAttributes},
        {"resource.dropped_attributes_count", Field::kResourceDroppedAttributes},
        {"instrumentation_scope.name", Field::kScopeName},
        {"instrumentation_scope.version", Field::kScopeVersion},
        {"instrumentation_scope.dropped_attributes_count", Field::kScopeDroppedAttributes},
        {"instrumentation_scope.attributes", Field::kScopeAttributes},
    };
    static const std::pair<std::string_view, Field> kSpan[] = {
        {"name", Field::kSpanName},
        {"kind", Field::kSpanKind},
        {"kind.string", Field::kSpanKindString},
        {"kind.deprecated_string", Field::kSpanKindDeprecatedString},
        {"status.code", Field::kSpanStatusCode},
        {"status.message", Field::kSpanStatusMessage},
        {"trace_id", Field::kSpanTraceId},
        {"trace_id.string", Field::kSpanTraceIdString},
        {"span_id", Field::kSpanId},
        {"span_id.string", Field::kSpanIdString},
        {"parent_span_id", Field::kSpanParentSpanId},
        {"parent_span_id.string", Field::kSpanParentSpanIdString},
        {"trace_state", Field::kSpanTraceState},
        {"start_time_unix_nano", Field::kSpanStartTime},
        {"end_time_unix_nano", Field::kSpanEndTime},
        {"dropped_attributes_count", Field::kSpanDroppedAttributes},
        {"dropped_events_count", Field::kSpanDroppedEvents},
        {"dropped_links_count", Field::kSpanDroppedLinks},
        {"attributes", Field::kSpanAttributes},
    };
    static const std::pair<std::string_view, Field> kEvent[] = {
        {"name", Field::kEventName},
        {"time_unix_nano", Field::kEventTime},
        {"dropped_attributes_count", Field::kEventDroppedAttributes},
        {"attributes", Field::kEventAttributes},
    };
    for (const auto& [name, field] : kCommon) {
      if (rest == name) return field;
    }
    if (span_record) {
      for (const auto& [name, field] : kSpan) {
        if (rest == name) return field;
      }
    } else {
      for (const auto& [name, field] : kEvent) {
        if (rest == name) return field;
      }
    }
    return std::nullopt;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  Context context_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Expr>> ParseCondition(std::string_view text, Context context) {
  if (text.size() > kMaxConditionBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("condition longer than ", kMaxConditionBytes, " bytes"));
  }
  auto tokens = Lex(text);
  if (!tokens.ok()) return tokens.status();
  if (tokens->size() == 1) return ErrorAt(1, "empty condition");
  return Parser(std::move(*tokens), context).Run();
}

}  // namespace strand::pipeline::ottl
