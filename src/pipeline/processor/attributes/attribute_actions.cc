#include "pipeline/processor/attributes/attribute_actions.h"

#include <openssl/evp.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"

namespace strand::pipeline {

using otlp::AnyValue;
using otlp::ValueType;

namespace {

std::shared_ptr<const RE2> Compile(ConfigMap& item, const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const RE2>(pattern, options);
  if (!re->ok()) {
    item.Fail("pattern", absl::StrCat("invalid regular expression: ", re->error()));
    return nullptr;
  }
  return re;
}

AnyValue StringValue(std::string_view s) {
  AnyValue v;
  v.type = ValueType::kString;
  v.str = s;
  return v;
}

void AppendLittleEndian(std::string& out, uint64_t bits) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

// Go's int64(float64) on amd64: out-of-range and NaN give the minimum int64.
int64_t TruncateToInt(double d) {
  if (std::isnan(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(d);
}

// strconv.ParseInt(s, 10, 64): an optional sign, then decimal digits only.
std::optional<int64_t> ParseDecimalInt(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || s[0] == '+') return std::nullopt;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

std::optional<double> ParseDouble(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || s[0] == '+') return std::nullopt;
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (end != s.data() + s.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Go returns ±Inf (overflow) or the rounded value (underflow) with an error.
    return std::nullopt;
  }
  if (ec != std::errc()) return std::nullopt;
  return d;
}

// The conversions of otelcol's `convert` action; nullopt leaves the value as it is.
std::optional<int64_t> AsInt(const AnyValue& v) {
  switch (v.type) {
    case ValueType::kDouble:
      return TruncateToInt(v.double_value);
    case ValueType::kBool:
      return v.bool_value ? 1 : 0;
    case ValueType::kString:
      return ParseDecimalInt(v.str);
    default:
      return std::nullopt;
  }
}

std::optional<double> AsDouble(const AnyValue& v) {
  switch (v.type) {
    case ValueType::kInt:
      return static_cast<double>(v.int_value);
    case ValueType::kBool:
      return v.bool_value ? 1.0 : 0.0;
    case ValueType::kString:
      return ParseDouble(v.str);
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), static_cast<size_t>(len)));
}

AttributeActions AttributeActions::Parse(ConfigMap& map, const std::string& key) {
  AttributeActions out;
  for (ConfigMap& item : map.SubList(key)) {
    std::optional<Action> a = ParseAction(item);
    if (!item.Finish().ok() || !a) return AttributeActions();
    out.actions_.push_back(std::move(*a));
  }
  return out;
}

std::optional<AttributeActions::Action> AttributeActions::ParseAction(ConfigMap& item) {
  Action a;
  std::string name, pattern, converted;
  item.Read("key", a.key);
  item.Read("action", name);
  a.value = ReadConfigValue(item, "value");
  item.Read("from_attribute", a.from_attribute);
  item.Read("from_context", a.from_context);
  item.Read("pattern", pattern);
  item.Read("converted_type", converted);
  if (!item.status().ok()) return std::nullopt;

  name = absl::AsciiStrToLower(name);
  if (name.empty()) {
    item.Fail("", "missing required field \"action\"");
    return std::nullopt;
  }
  static const std::pair<const char*, Type> kTypes[] = {
      {"insert", Type::kInsert},  {"update", Type::kUpdate}, {"upsert", Type::kUpsert},
      {"delete", Type::kDelete},  {"hash", Type::kHash},     {"extract", Type::kExtract},
      {"convert", Type::kConvert}};
  bool known = false;
  for (const auto& [n, t] : kTypes) {
    if (name == n) {
      a.type = t;
      known = true;
    }
  }
  if (!known) {
    item.Fail("action", absl::StrCat("unknown action \"", name,
                                     "\" (want insert, update, upsert, delete, hash, extract "
                                     "or convert)"));
    return std::nullopt;
  }

  const int sources =
      (a.value ? 1 : 0) + (a.from_attribute.empty() ? 0 : 1) + (a.from_context.empty() ? 0 : 1);
  auto not_used = [&](const std::string& field) {
    item.Fail(field, absl::StrCat("not used by action \"", name, "\""));
  };
  const bool takes_key_or_pattern = a.type == Type::kDelete || a.type == Type::kHash;
  if (takes_key_or_pattern ? a.key.empty() && pattern.empty() : a.key.empty()) {
    item.Fail("", takes_key_or_pattern ? "at least one of \"key\" and \"pattern\" is required"
                                       : "missing required field \"key\"");
    return std::nullopt;
  }
  if (a.type != Type::kConvert && !converted.empty()) {
    not_used("converted_type");
    return std::nullopt;
  }

  switch (a.type) {
    case Type::kInsert:
    case Type::kUpdate:
    case Type::kUpsert: {
      if (sources != 1) {
        item.Fail("", sources == 0
                          ? "one of \"value\", \"from_attribute\" or \"from_context\" is required"
                          : "only one of \"value\", \"from_attribute\" and \"from_context\" may "
                            "be set");
        return std::nullopt;
      }
      if (!pattern.empty()) {
        not_used("pattern");
        return std::nullopt;
      }
      std::string& ctx_key = a.from_context;
      ctx_key = absl::AsciiStrToLower(ctx_key);
      if (ctx_key == "client.address" || absl::StartsWith(ctx_key, "auth.")) {
        item.Fail("from_context", absl::StrCat("not supported: \"", ctx_key,
                                               "\" (Strand keeps only request metadata; use "
                                               "metadata.<name>)"));
        return std::nullopt;
      }
      if (absl::StartsWith(ctx_key, "metadata.")) ctx_key.erase(0, std::strlen("metadata."));
      return a;
    }
    case Type::kDelete:
    case Type::kHash:
      if (sources != 0) {
        not_used(a.value ? "value" : a.from_attribute.empty() ? "from_context" : "from_attribute");
        return std::nullopt;
      }
      if (!pattern.empty()) {
        a.pattern = Compile(item, pattern);
        if (!a.pattern) return std::nullopt;
      }
      return a;
    case Type::kExtract: {
      if (sources != 0) {
        not_used(a.value ? "value" : a.from_attribute.empty() ? "from_context" : "from_attribute");
        return std::nullopt;
      }
      if (pattern.empty()) {
        item.Fail("", "missing required field \"pattern\" for action \"extract\"");
        return std::nullopt;
      }
      a.pattern = Compile(item, pattern);
      if (!a.pattern) return std::nullopt;
      const int groups = a.pattern->NumberOfCapturingGroups();
      const std::map<int, std::string>& names = a.pattern->CapturingGroupNames();
      if (groups == 0) {
        item.Fail("pattern", "contains no named capture groups");
        return std::nullopt;
      }
      for (int i = 1; i <= groups; ++i) {
        auto it = names.find(i);
        if (it == names.end()) {
          item.Fail("pattern", "every capture group must be named: (?P<name>...)");
          return std::nullopt;
        }
        a.group_names.push_back(it->second);
      }
      return a;
    }
    case Type::kConvert:
      if (sources != 0 || !pattern.empty()) {
        item.Fail("", "action \"convert\" takes only \"key\" and \"converted_type\"");
        return std::nullopt;
      }
      if (converted == "string") {
        a.target = Target::kString;
      } else if (converted == "int") {
        a.target = Target::kInt;
      } else if (converted == "double") {
        a.target = Target::kDouble;
      } else {
        item.Fail("converted_type", converted.empty()
                                        ? "required for action \"convert\" (string, int or double)"
                                        : absl::StrCat("invalid value \"", converted,
                                                       "\" (want string, int or double)"));
        return std::nullopt;
      }
      return a;
  }
  return std::nullopt;
}

std::optional<AnyValue> AttributeActions::Source(const Action& a, AttributeEditor& editor,
                                                 const RequestContext& ctx) const {
  if (a.value) {
    AnyValue v = a.value->ToAnyValue();
    if (v.type == ValueType::kString) v.str = editor.Intern(a.value->str);
    return v;
  }
  if (!a.from_attribute.empty()) {
    const size_t i = editor.IndexOf(a.from_attribute);
    if (i == AttributeEditor::kNotFound) return std::nullopt;
    return editor.entries()[i].value;
  }
  std::string joined;
  bool found = false;
  for (const auto& [k, v] : ctx.metadata) {
    if (k != a.from_context) continue;
    if (found) joined += ';';
    joined += v;
    found = true;
  }
  if (!found) return std::nullopt;
  return StringValue(editor.Intern(joined));
}

void AttributeActions::Hash(AttributeEditor& editor, size_t index) {
  const AnyValue& v = editor.entries()[index].value;
  std::string bytes;
  switch (v.type) {
    case ValueType::kString:
      bytes = std::string(v.str);
      break;
    case ValueType::kBool:
      bytes.push_back(v.bool_value ? 1 : 0);
      break;
    case ValueType::kInt:
      AppendLittleEndian(bytes, static_cast<uint64_t>(v.int_value));
      break;
    case ValueType::kDouble:
      AppendLittleEndian(bytes, std::bit_cast<uint64_t>(v.double_value));
      break;
    default:
      break;
  }
  editor.SetValue(index,
                  StringValue(bytes.empty() ? std::string_view() : editor.Copy(Sha256Hex(bytes))));
}

void AttributeActions::Extract(const Action& a, AttributeEditor& editor) {
  const size_t i = editor.IndexOf(a.key);
  if (i == AttributeEditor::kNotFound) return;
  const AnyValue source = editor.entries()[i].value;
  if (source.type != ValueType::kString) return;
  const size_t n = a.group_names.size() + 1;
  std::vector<re2::StringPiece> groups(n);
  const re2::StringPiece text(source.str.data(), source.str.size());
  if (!a.pattern->Match(text, 0, text.size(), RE2::UNANCHORED, groups.data(),
                        static_cast<int>(n))) {
    return;
  }
  for (size_t g = 1; g < n; ++g) {
    // A group views the source string, which the batch owns; an unmatched group is "".
    editor.Put(editor.Intern(a.group_names[g - 1]),
               StringValue(std::string_view(groups[g].data(), groups[g].size())));
  }
}

void AttributeActions::Convert(const Action& a, AttributeEditor& editor) {
  const size_t i = editor.IndexOf(a.key);
  if (i == AttributeEditor::kNotFound) return;
  const AnyValue v = editor.entries()[i].value;
  AnyValue out;
  switch (a.target) {
    case Target::kString: {
      if (v.type == ValueType::kString) return;
      std::optional<std::string> text =
          v.type == ValueType::kBytes
              ? absl::Base64Escape(absl::string_view(v.str.data(), v.str.size()))
              : ScalarToString(v);
      if (!text) return;  // arrays and maps stay as they are
      out = StringValue(editor.Copy(*text));
      break;
    }
    case Target::kInt:
      if (v.type == ValueType::kInt || !AsInt(v)) return;
      out.type = ValueType::kInt;
      out.int_value = *AsInt(v);
      break;
    case Target::kDouble:
      if (v.type == ValueType::kDouble || !AsDouble(v)) return;
      out.type = ValueType::kDouble;
      out.double_value = *AsDouble(v);
      break;
  }
  editor.SetValue(i, out);
}

void AttributeActions::Apply(AttributeEditor& editor, const RequestContext& ctx) const {
  std::vector<std::string_view> matched;
  auto matching_keys = [&](const RE2& re) {
    matched.clear();
    for (const otlp::KeyValue& kv : editor.entries()) {
      if (RE2::PartialMatch(re2::StringPiece(kv.key.data(), kv.key.size()), re)) {
        matched.push_back(kv.key);  // views the batch's storage, not the working copy
      }
    }
  };
  for (const Action& a : actions_) {
    switch (a.type) {
      case Type::kInsert:
      case Type::kUpdate:
      case Type::kUpsert: {
        std::optional<AnyValue> v = Source(a, editor, ctx);
        if (!v) break;
        const size_t i = editor.IndexOf(a.key);
        if (a.type == Type::kInsert && i == AttributeEditor::kNotFound) {
          editor.Put(editor.Intern(a.key), *v);
        } else if (a.type == Type::kUpdate && i != AttributeEditor::kNotFound) {
          editor.SetValue(i, *v);
        } else if (a.type == Type::kUpsert) {
          editor.Put(editor.Intern(a.key), *v);
        }
        break;
      }
      case Type::kDelete:
        if (!a.key.empty()) editor.Remove(a.key);
        if (a.pattern) {
          matching_keys(*a.pattern);
          for (std::string_view k : matched) editor.Remove(k);
        }
        break;
      case Type::kHash:
        // Like otelcol, a key that `key` names and `pattern` matches is hashed twice.
        if (!a.key.empty()) {
          const size_t i = editor.IndexOf(a.key);
          if (i != AttributeEditor::kNotFound) Hash(editor, i);
        }
        if (a.pattern) {
          matching_keys(*a.pattern);
          for (std::string_view k : matched) Hash(editor, editor.IndexOf(k));
        }
        break;
      case Type::kExtract:
        Extract(a, editor);
        break;
      case Type::kConvert:
        Convert(a, editor);
        break;
    }
  }
}

}  // namespace strand::pipeline
