#include "webhook/static_cluster_source.h"

#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "webhook/json_text.h"

namespace strand::webhook {
namespace {

// Lower-case plural of a kind as the API spells resource names (enough for the kinds the
// webhook reads).
std::string Plural(std::string_view kind) {
  std::string k = absl::AsciiStrToLower(std::string(kind));
  if (!k.empty() && k.back() == 's') return k + "es";
  return k + "s";
}

}  // namespace

std::string StaticClusterSource::ObjectPath(std::string_view api_version, std::string_view kind,
                                            std::string_view ns, std::string_view name) {
  const bool core = api_version.find('/') == std::string_view::npos;
  std::string path = core ? absl::StrCat("/api/", std::string(api_version))
                          : absl::StrCat("/apis/", std::string(api_version));
  if (kind == "Namespace") return absl::StrCat(path, "/namespaces/", std::string(name));
  if (!ns.empty()) absl::StrAppend(&path, "/namespaces/", std::string(ns));
  absl::StrAppend(&path, "/", Plural(kind));
  if (!name.empty()) absl::StrAppend(&path, "/", std::string(name));
  return path;
}

absl::Status StaticClusterSource::Add(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  auto items = doc.FindMember("items");
  if (items != doc.MemberEnd() && items->value.IsArray()) {
    for (const auto& item : items->value.GetArray()) {
      absl::Status s = Add(JsonText(item));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  const std::string api_version = StringMember(doc, "apiVersion");
  const std::string kind = StringMember(doc, "kind");
  auto meta = doc.FindMember("metadata");
  if (api_version.empty() || kind.empty() || meta == doc.MemberEnd() ||
      StringMember(meta->value, "name").empty()) {
    return absl::InvalidArgumentError(
        "not a Kubernetes object: apiVersion, kind and metadata.name are required");
  }
  const std::string ns = StringMember(meta->value, "namespace");
  const std::string name = StringMember(meta->value, "name");
  std::string object = JsonText(doc);
  if (kind != "Namespace") lists_[ObjectPath(api_version, kind, ns, "")].push_back(object);
  objects_[ObjectPath(api_version, kind, ns, name)] = std::move(object);
  return absl::OkStatus();
}

absl::Status StaticClusterSource::LoadDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return absl::NotFoundError(absl::StrCat("cannot read ", dir, ": ", ec.message()));
  for (const auto& entry : it) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    absl::Status s = Add(ss.str());
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(entry.path().string(), ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> StaticClusterSource::Get(const std::string& path) {
  if (auto it = objects_.find(path); it != objects_.end()) return it->second;
  // Lists answer for any collection path the API would serve, empty or not.
  if (auto it = lists_.find(path); it != lists_.end()) {
    return absl::StrCat("{\"kind\":\"List\",\"items\":[", absl::StrJoin(it->second, ","), "]}");
  }
  if (path.size() > 17 && path.substr(path.size() - 17) == "/instrumentations") {
    return std::string("{\"kind\":\"List\",\"items\":[]}");
  }
  return absl::NotFoundError(absl::StrCat("no object at ", path));
}

}  // namespace strand::webhook
