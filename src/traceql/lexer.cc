#include "traceql/lexer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "traceql/parse_error.h"

namespace strand::traceql {
namespace {

struct IntrinsicSpelling {
  std::string_view text;
  Intrinsic intrinsic;
};

// The unscoped spellings first: IntrinsicName returns the first match.
constexpr IntrinsicSpelling kIntrinsics[] = {
    {"name", Intrinsic::kSpanName},
    {"status", Intrinsic::kSpanStatus},
    {"statusMessage", Intrinsic::kSpanStatusMessage},
    {"kind", Intrinsic::kSpanKind},
    {"duration", Intrinsic::kSpanDuration},
    {"traceDuration", Intrinsic::kTraceDuration},
    {"rootName", Intrinsic::kTraceRootName},
    {"rootServiceName", Intrinsic::kTraceRootService},
    {"span:name", Intrinsic::kSpanName},
    {"span:status", Intrinsic::kSpanStatus},
    {"span:statusMessage", Intrinsic::kSpanStatusMessage},
    {"span:kind", Intrinsic::kSpanKind},
    {"span:duration", Intrinsic::kSpanDuration},
    {"span:id", Intrinsic::kSpanId},
    {"span:parentID", Intrinsic::kSpanParentId},
    {"trace:duration", Intrinsic::kTraceDuration},
    {"trace:rootName", Intrinsic::kTraceRootName},
    {"trace:rootService", Intrinsic::kTraceRootService},
    {"trace:id", Intrinsic::kTraceId},
    {"event:name", Intrinsic::kEventName},
    {"event:timeSinceStart", Intrinsic::kEventTimeSinceStart},
    {"link:spanID", Intrinsic::kLinkSpanId},
    {"link:traceID", Intrinsic::kLinkTraceId},
    {"instrumentation:name", Intrinsic::kInstrumentationName},
    {"instrumentation:version", Intrinsic::kInstrumentationVersion},
};

struct Keyword {
  std::string_view text;
  TokenKind kind;
  int64_t number = 0;  // kStatus / kKind value, kAggregate function
};

constexpr Keyword kKeywords[] = {
    {"true", TokenKind::kTrue},
    {"false", TokenKind::kFalse},
    {"nil", TokenKind::kNil},
    {"ok", TokenKind::kStatus, static_cast<int64_t>(StatusValue::kOk)},
    {"error", TokenKind::kStatus, static_cast<int64_t>(StatusValue::kError)},
    {"unset", TokenKind::kStatus, static_cast<int64_t>(StatusValue::kUnset)},
    {"unspecified", TokenKind::kKind, static_cast<int64_t>(KindValue::kUnspecified)},
    {"internal", TokenKind::kKind, static_cast<int64_t>(KindValue::kInternal)},
    {"server", TokenKind::kKind, static_cast<int64_t>(KindValue::kServer)},
    {"client", TokenKind::kKind, static_cast<int64_t>(KindValue::kClient)},
    {"producer", TokenKind::kKind, static_cast<int64_t>(KindValue::kProducer)},
    {"consumer", TokenKind::kKind, static_cast<int64_t>(KindValue::kConsumer)},
    {"by", TokenKind::kBy},
    {"select", TokenKind::kSelect},
    {"coalesce", TokenKind::kCoalesce},
    {"with", TokenKind::kWith},
    {"count", TokenKind::kAggregate, static_cast<int64_t>(AggregateFn::kCount)},
    {"avg", TokenKind::kAggregate, static_cast<int64_t>(AggregateFn::kAvg)},
    {"min", TokenKind::kAggregate, static_cast<int64_t>(AggregateFn::kMin)},
    {"max", TokenKind::kAggregate, static_cast<int64_t>(AggregateFn::kMax)},
    {"sum", TokenKind::kAggregate, static_cast<int64_t>(AggregateFn::kSum)},
    {"rate", TokenKind::kMetricsFn},
    {"count_over_time", TokenKind::kMetricsFn},
    {"sum_over_time", TokenKind::kMetricsFn},
    {"min_over_time", TokenKind::kMetricsFn},
    {"max_over_time", TokenKind::kMetricsFn},
    {"avg_over_time", TokenKind::kMetricsFn},
    {"quantile_over_time", TokenKind::kMetricsFn},
    {"histogram_over_time", TokenKind::kMetricsFn},
    {"compare", TokenKind::kMetricsFn},
    {"topk", TokenKind::kSecondStage},
    {"bottomk", TokenKind::kSecondStage},
};

struct Operator {
  std::string_view text;
  TokenKind kind;
};

// Longest first, so the first prefix match is the longest.
constexpr Operator kOperators[] = {
    {"!>>", TokenKind::kNotDescendant},
    {"!<<", TokenKind::kNotAncestor},
    {"&>>", TokenKind::kUnionDescendant},
    {"&<<", TokenKind::kUnionAncestor},
    {"!=", TokenKind::kNeq},
    {"=~", TokenKind::kRegex},
    {"!~", TokenKind::kNotRegex},
    {">=", TokenKind::kGte},
    {"<=", TokenKind::kLte},
    {"&&", TokenKind::kAnd},
    {"||", TokenKind::kOr},
    {">>", TokenKind::kDescendant},
    {"<<", TokenKind::kAncestor},
    {"!>", TokenKind::kNotChild},
    {"!<", TokenKind::kNotParent},
    {"&>", TokenKind::kUnionChild},
    {"&<", TokenKind::kUnionParent},
    {"&~", TokenKind::kUnionSibling},
    {"=", TokenKind::kEq},
    {">", TokenKind::kGt},
    {"<", TokenKind::kLt},
    {"!", TokenKind::kNot},
    {"~", TokenKind::kTilde},
    {"+", TokenKind::kPlus},
    {"-", TokenKind::kMinus},
    {"*", TokenKind::kStar},
    {"/", TokenKind::kSlash},
    {"%", TokenKind::kPercent},
    {"^", TokenKind::kCaret},
    {"|", TokenKind::kPipe},
    {"{", TokenKind::kLBrace},
    {"}", TokenKind::kRBrace},
    {"(", TokenKind::kLParen},
};

constexpr int64_t kNanosPerUnit[] = {
    1, 1000, 1000'000, 1000'000'000, 60'000'000'000, 3600'000'000'000};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsWordChar(char c) { return IsWordStart(c) || IsDigit(c); }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Reads one duration unit at the front of `s`: its length and nanoseconds, or nullopt.
std::optional<std::pair<size_t, int64_t>> DurationUnit(std::string_view s) {
  if (s.starts_with("ns")) return std::pair<size_t, int64_t>{2, kNanosPerUnit[0]};
  if (s.starts_with("us")) return std::pair<size_t, int64_t>{2, kNanosPerUnit[1]};
  if (s.starts_with("\xC2\xB5s") || s.starts_with("\xCE\xBCs")) {  // µs, μs
    return std::pair<size_t, int64_t>{3, kNanosPerUnit[1]};
  }
  if (s.starts_with("ms")) return std::pair<size_t, int64_t>{2, kNanosPerUnit[2]};
  if (s.starts_with("s")) return std::pair<size_t, int64_t>{1, kNanosPerUnit[3]};
  if (s.starts_with("m")) return std::pair<size_t, int64_t>{1, kNanosPerUnit[4]};
  if (s.starts_with("h")) return std::pair<size_t, int64_t>{1, kNanosPerUnit[5]};
  return std::nullopt;
}

struct DurationParse {
  enum class Result { kNotDuration, kOk, kOverflow };
  Result result = Result::kNotDuration;
  int64_t nanos = 0;
};

// Parses Go-style durations: one or more (digits[.digits] unit), e.g. `1h30m`, `1.5s`.
DurationParse ParseDuration(std::string_view s) {
  using Result = DurationParse::Result;
  __int128 total = 0;
  size_t i = 0;
  if (s.empty()) return {};
  while (i < s.size()) {
    __int128 whole = 0;
    size_t digits = 0;
    while (i < s.size() && IsDigit(s[i])) {
      if (whole < (static_cast<__int128>(1) << 80)) whole = whole * 10 + (s[i] - '0');
      ++i;
      ++digits;
    }
    __int128 frac = 0;
    __int128 scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && IsDigit(s[i])) {
        if (scale < 1000'000'000'000'000'000) {
          frac = frac * 10 + (s[i] - '0');
          scale *= 10;
        }
        ++i;
        ++digits;
      }
    }
    if (digits == 0) return {};
    auto unit = DurationUnit(s.substr(i));
    if (!unit) return {};
    i += unit->first;
    total += whole * unit->second + frac * unit->second / scale;
    if (total > std::numeric_limits<int64_t>::max()) return {Result::kOverflow, 0};
  }
  return {Result::kOk, static_cast<int64_t>(total)};
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Scans the query left to right. Invariant: pos_ is the position of text_[pos_.offset].
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  std::vector<Token> Run() {
    std::vector<Token> tokens;
    while (true) {
      SkipSpace();
      Token token = Next();
      const TokenKind kind = token.kind;
      tokens.push_back(std::move(token));
      if (kind == TokenKind::kEnd || kind == TokenKind::kError) return tokens;
    }
  }

 private:
  size_t Offset() const { return pos_.offset; }
  bool AtEnd() const { return Offset() >= text_.size(); }
  char PeekChar(size_t ahead = 0) const {
    return Offset() + ahead < text_.size() ? text_[Offset() + ahead] : '\0';
  }
  std::string_view Rest() const { return text_.substr(Offset()); }

  void Advance(size_t n) {
    for (size_t k = 0; k < n && !AtEnd(); ++k) {
      const char c = text_[pos_.offset++];
      if (c == '\n') {
        ++pos_.line;
        pos_.column = 1;
      } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
        ++pos_.column;
      }
    }
  }

  void SkipSpace() {
    while (!AtEnd() && IsSpace(PeekChar())) Advance(1);
  }

  Token Make(TokenKind kind, const Pos& start) const {
    Token token;
    token.kind = kind;
    token.pos = start;
    token.source = text_.substr(start.offset, Offset() - start.offset);
    return token;
  }

  Token Error(const Pos& at, std::string message) const {
    Token token;
    token.kind = TokenKind::kError;
    token.pos = at;
    token.text = std::move(message);
    return token;
  }

  Token Next() {
    const Pos start = pos_;
    if (AtEnd()) return Make(TokenKind::kEnd, start);
    const char c = PeekChar();
    if (c == '"' || c == '`') return LexString(start);
    if (IsDigit(c)) return LexNumber(start);
    if (c == '.') {
      Advance(1);
      return LexAttribute(start, AttributeScope::kNone);
    }
    if (IsWordStart(c)) return LexWord(start);
    if (c == ',') {
      Advance(1);
      return Make(TokenKind::kComma, start);
    }
    if (c == ')') {
      Advance(1);
      return Make(TokenKind::kRParen, start);
    }
    for (const Operator& op : kOperators) {
      if (Rest().starts_with(op.text)) {
        Advance(op.text.size());
        return Make(op.kind, start);
      }
    }
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return Error(start, absl::StrFormat("unexpected character '%c'", c));
    return Error(start, absl::StrFormat("unexpected character \\x%02X", u));
  }

  Token LexString(const Pos& start) {
    const char quote = PeekChar();
    Advance(1);
    std::string out;
    while (true) {
      if (AtEnd()) return Error(start, "unterminated string");
      const char c = PeekChar();
      if (c == quote) {
        Advance(1);
        break;
      }
      if (quote == '`') {
        out += c;
        Advance(1);
        continue;
      }
      if (c == '\n') return Error(start, "unterminated string (newline in a \"...\" string)");
      if (c != '\\') {
        out += c;
        Advance(1);
        continue;
      }
      const Pos escape = pos_;
      const char e = PeekChar(1);
      Advance(2);
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            const int d = HexDigit(PeekChar());
            if (d < 0) return Error(escape, "invalid escape sequence in string");
            cp = cp * 16 + static_cast<uint32_t>(d);
            Advance(1);
          }
          if (e == 'x') {
            out += static_cast<char>(cp);
          } else if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return Error(escape, "invalid Unicode code point in string");
          } else {
            AppendUtf8(out, cp);
          }
          break;
        }
        default:
          return Error(escape, "invalid escape sequence in string");
      }
    }
    Token token = Make(TokenKind::kString, start);
    token.value.type = Value::Type::kString;
    token.value.s = out;
    token.text = std::move(out);
    return token;
  }

  Token LexNumber(const Pos& start) {
    size_t n = 0;
    std::string_view rest = Rest();
    while (n < rest.size() && IsDigit(rest[n])) ++n;
    bool is_float = false;
    if (n + 1 < rest.size() && rest[n] == '.' && IsDigit(rest[n + 1])) {
      is_float = true;
      ++n;
      while (n < rest.size() && IsDigit(rest[n])) ++n;
    }
    if (n < rest.size() && (rest[n] == 'e' || rest[n] == 'E')) {
      size_t m = n + 1;
      if (m < rest.size() && (rest[m] == '+' || rest[m] == '-')) ++m;
      if (m < rest.size() && IsDigit(rest[m])) {
        is_float = true;
        n = m;
        while (n < rest.size() && IsDigit(rest[n])) ++n;
      }
    }
    // A duration: the number and what follows it up to the first character that cannot
    // be part of one (`1h30m`, `1.5s`, `10µs`).
    size_t run = 0;
    while (run < rest.size()) {
      const char c = rest[run];
      if (IsDigit(c) || c == '.' || c == 'n' || c == 'u' || c == 'm' || c == 's' || c == 'h') {
        ++run;
      } else if (rest.substr(run).starts_with("\xC2\xB5") ||
                 rest.substr(run).starts_with("\xCE\xBC")) {
        run += 2;
      } else {
        break;
      }
    }
    if (run > n) {
      const DurationParse duration = ParseDuration(rest.substr(0, run));
      if (duration.result == DurationParse::Result::kOverflow) {
        return Error(start, "duration out of range");
      }
      if (duration.result == DurationParse::Result::kOk) {
        Advance(run);
        Token token = Make(TokenKind::kDuration, start);
        token.value.type = Value::Type::kDuration;
        token.value.i = duration.nanos;
        return token;
      }
    }
    const std::string_view digits = rest.substr(0, n);
    Advance(n);
    Token token = Make(is_float ? TokenKind::kFloat : TokenKind::kInt, start);
    if (is_float) {
      double f = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), f);
      if (ec != std::errc() || !std::isfinite(f)) return Error(start, "number out of range");
      token.value.type = Value::Type::kFloat;
      token.value.f = f;
    } else {
      int64_t i = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), i);
      if (ec != std::errc()) return Error(start, "integer out of range");
      token.value.type = Value::Type::kInt;
      token.value.i = i;
    }
    return token;
  }

  // After the scope prefix (`.`, `span.`, ...): the name, unquoted and quoted parts.
  Token LexAttribute(const Pos& start, AttributeScope scope) {
    const size_t prefix_end = Offset();
    std::string name;
    while (!AtEnd()) {
      const char c = PeekChar();
      if (c == '"') {
        const Pos quote = pos_;
        Advance(1);
        while (true) {
          if (AtEnd()) return Error(quote, "unterminated quoted attribute name");
          const char q = PeekChar();
          if (q == '"') break;
          if (q == '\\') {
            const char e = PeekChar(1);
            if (e != '"' && e != '\\') {
              return Error(pos_, "invalid escape sequence in attribute name");
            }
            name += e;
            Advance(2);
            continue;
          }
          name += q;
          Advance(1);
        }
        Advance(1);
      } else if (IsAttributeChar(c)) {
        name += c;
        Advance(1);
      } else {
        break;
      }
    }
    if (name.empty()) {
      return Error(start,
                   absl::StrCat("expected an attribute name after \"",
                                Sv(text_.substr(start.offset, prefix_end - start.offset)), "\""));
    }
    Token token = Make(TokenKind::kAttribute, start);
    token.scope = scope;
    token.text = std::move(name);
    return token;
  }

  Token LexWord(const Pos& start) {
    size_t n = 0;
    const std::string_view rest = Rest();
    while (n < rest.size() && IsWordChar(rest[n])) ++n;
    const std::string_view word = rest.substr(0, n);
    const char next = n < rest.size() ? rest[n] : '\0';
    if (next == '.') {
      static constexpr std::pair<std::string_view, AttributeScope> kScopes[] = {
          {"span", AttributeScope::kSpan},
          {"resource", AttributeScope::kResource},
          {"event", AttributeScope::kEvent},
          {"link", AttributeScope::kLink},
          {"instrumentation", AttributeScope::kInstrumentation}};
      for (const auto& [prefix, scope] : kScopes) {
        if (word == prefix) {
          Advance(n + 1);
          return LexAttribute(start, scope);
        }
      }
    }
    if (next == ':' && (word == "span" || word == "trace" || word == "event" || word == "link" ||
                        word == "instrumentation")) {
      size_t m = n + 1;
      while (m < rest.size() && IsWordChar(rest[m])) ++m;
      const std::string_view scoped = rest.substr(0, m);
      for (const IntrinsicSpelling& spelling : kIntrinsics) {
        if (spelling.text == scoped) {
          Advance(m);
          Token token = Make(TokenKind::kIntrinsic, start);
          token.intrinsic = spelling.intrinsic;
          return token;
        }
      }
      return Error(start, absl::StrCat("unknown intrinsic \"", Sv(scoped), "\""));
    }
    Advance(n);
    for (const IntrinsicSpelling& spelling : kIntrinsics) {  // only unscoped ones match
      if (spelling.text == word) {
        Token token = Make(TokenKind::kIntrinsic, start);
        token.intrinsic = spelling.intrinsic;
        return token;
      }
    }
    for (const Keyword& keyword : kKeywords) {
      if (keyword.text != word) continue;
      Token token = Make(keyword.kind, start);
      token.text = std::string(word);
      switch (keyword.kind) {
        case TokenKind::kTrue:
        case TokenKind::kFalse:
          token.value.type = Value::Type::kBool;
          token.value.b = keyword.kind == TokenKind::kTrue;
          break;
        case TokenKind::kStatus:
          token.value.type = Value::Type::kStatus;
          token.value.i = keyword.number;
          break;
        case TokenKind::kKind:
          token.value.type = Value::Type::kKind;
          token.value.i = keyword.number;
          break;
        case TokenKind::kAggregate:
          token.aggregate = static_cast<AggregateFn>(keyword.number);
          break;
        default:
          break;
      }
      return token;
    }
    Token token = Make(TokenKind::kIdentifier, start);
    token.text = std::string(word);
    return token;
  }

  std::string_view text_;
  Pos pos_;
};

}  // namespace

bool IsAttributeChar(char c) {
  static constexpr std::string_view kEnders("{}()=~!<>&|^,\"\0", 15);
  return kEnders.find(c) == std::string_view::npos && !IsSpace(c);
}

std::vector<Token> Tokenize(std::string_view query) { return Lexer(query).Run(); }

std::string Describe(const Token& token) {
  if (token.kind == TokenKind::kEnd) return "end of query";
  constexpr size_t kMaxShown = 40;
  if (token.source.size() > kMaxShown) {
    return absl::StrCat("\"", Sv(token.source.substr(0, kMaxShown)), "...\"");
  }
  return absl::StrCat("\"", Sv(token.source), "\"");
}

std::string_view IntrinsicName(Intrinsic intrinsic) {
  for (const IntrinsicSpelling& spelling : kIntrinsics) {
    if (spelling.intrinsic == intrinsic) return spelling.text;
  }
  return "?";
}

}  // namespace strand::traceql
