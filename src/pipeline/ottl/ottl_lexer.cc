#include "pipeline/ottl/ottl_lexer.h"

#include <cctype>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/hex.h"

namespace strand::pipeline::ottl {
namespace {

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> out;
    for (;;) {
      while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      }
      Token t;
      t.offset = pos_;
      t.column = Column(pos_);
      if (pos_ >= text_.size()) {
        t.end = pos_;
        out.push_back(std::move(t));
        return out;
      }
      absl::Status s = Next(t);
      if (!s.ok()) return s;
      t.end = pos_;
      if (t.kind != Tok::kString && t.kind != Tok::kBytes) {
        t.text = std::string(text_.substr(t.offset, pos_ - t.offset));
      }
      out.push_back(std::move(t));
    }
  }

 private:
  // Columns count characters: UTF-8 continuation bytes do not start one.
  uint32_t Column(size_t offset) const {
    uint32_t col = 1;
    for (size_t i = 0; i < offset; ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++col;
    }
    return col;
  }

  absl::Status Next(Token& t) {
    const char c = text_[pos_];
    const char n = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    if (c == '"') return String(t);
    if (c == '0' && (n == 'x' || n == 'X')) return Bytes(t);
    if (IsDigit(c) || (c == '.' && IsDigit(n))) return Number(t);
    if (IsIdentStart(c)) {
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      t.kind = Tok::kIdent;
      return absl::OkStatus();
    }
    static constexpr std::pair<char, Tok> kSingle[] = {
        {'(', Tok::kLParen}, {')', Tok::kRParen}, {'[', Tok::kLBracket}, {']', Tok::kRBracket},
        {'{', Tok::kLBrace}, {',', Tok::kComma},  {'.', Tok::kDot},      {'+', Tok::kMath},
        {'-', Tok::kMath},   {'*', Tok::kMath},   {'/', Tok::kMath},
    };
    ++pos_;
    for (const auto& [ch, kind] : kSingle) {
      if (c == ch) {
        t.kind = kind;
        return absl::OkStatus();
      }
    }
    if (c == '=' || c == '!' || c == '<' || c == '>') return Compare(c, n, t);
    return ErrorAt(t.column, absl::StrCat("unexpected character '", std::string(1, c), "'"));
  }

  absl::Status Compare(char c, char n, Token& t) {
    t.kind = Tok::kCompare;
    if (n == '=') {
      ++pos_;
      t.op = c == '=' ? Op::kEq : c == '!' ? Op::kNeq : c == '<' ? Op::kLte : Op::kGte;
      return absl::OkStatus();
    }
    if (c == '<' || c == '>') {
      t.op = c == '<' ? Op::kLt : Op::kGt;
      return absl::OkStatus();
    }
    if (c == '=') {
      t.kind = Tok::kAssign;
      return absl::OkStatus();
    }
    return ErrorAt(t.column, "unexpected character '!' (negate with `not`)");
  }

  absl::Status String(Token& t) {
    t.kind = Tok::kString;
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c != '\\') {
        t.text += c;
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case 'n':
          t.text += '\n';
          break;
        case 't':
          t.text += '\t';
          break;
        case 'r':
          t.text += '\r';
          break;
        case '"':
        case '\\':
          t.text += e;
          break;
        default:  // kept as written, so regular expressions like "\d" survive
          t.text += '\\';
          t.text += e;
      }
    }
    if (pos_ >= text_.size()) return ErrorAt(t.column, "unterminated string");
    ++pos_;
    return absl::OkStatus();
  }

  absl::Status Bytes(Token& t) {
    t.kind = Tok::kBytes;
    pos_ += 2;
    size_t start = pos_;
    while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
    std::optional<std::string> bytes = HexDecode(text_.substr(start, pos_ - start));
    if (!bytes || pos_ == start) {
      return ErrorAt(t.column, "invalid byte slice literal (want 0x and pairs of hex digits)");
    }
    t.text = std::move(*bytes);
    return absl::OkStatus();
  }

  absl::Status Number(Token& t) {
    t.kind = Tok::kInt;
    while (pos_ < text_.size() && (IsDigit(text_[pos_]) || text_[pos_] == '.')) {
      if (text_[pos_] == '.') {
        if (t.kind == Tok::kFloat) break;
        t.kind = Tok::kFloat;
      }
      ++pos_;
    }
    if (pos_ < text_.size() && IsIdentChar(text_[pos_])) {
      return ErrorAt(t.column, "invalid number");
    }
    return absl::OkStatus();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

absl::Status ErrorAt(uint32_t column, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("at column ", column, ": ", std::string(message)));
}

absl::StatusOr<std::vector<Token>> Lex(std::string_view text) { return Lexer(text).Run(); }

}  // namespace strand::pipeline::ottl
