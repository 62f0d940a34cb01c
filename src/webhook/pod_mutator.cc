#include "webhook/pod_mutator.h"

#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "webhook/json_text.h"

namespace strand::webhook {
namespace {

using rapidjson::Value;
using Doc = rapidjson::Document;
using Alloc = Doc::AllocatorType;
using StringMap = std::map<std::string, std::string>;

constexpr char kAnnotationPrefix[] = "instrumentation.opentelemetry.io/";
constexpr std::string_view kPodNameEnv = "OTEL_RESOURCE_ATTRIBUTES_POD_NAME";
constexpr std::string_view kNodeNameEnv = "OTEL_RESOURCE_ATTRIBUTES_NODE_NAME";
constexpr std::string_view kResourceAttributesEnv = "OTEL_RESOURCE_ATTRIBUTES";

// What differs between the languages Strand injects.
struct Language {
  std::string_view name;          // annotation suffix and Instrumentation spec key
  std::string_view variable;      // the variable that loads the agent
  std::vector<std::string> copy;  // the init container's command
};

const std::vector<Language>& Languages() {
  static const auto* kLanguages = new std::vector<Language>{
      {"java",
       "JAVA_TOOL_OPTIONS",
       {"cp", "/javaagent.jar", "/otel-auto-instrumentation-java/javaagent.jar"}},
      {"nodejs",
       "NODE_OPTIONS",
       {"cp", "-r", "/autoinstrumentation/.", "/otel-auto-instrumentation-nodejs"}},
      {"python",
       "PYTHONPATH",
       {"cp", "-r", "/autoinstrumentation/.", "/otel-auto-instrumentation-python"}},
  };
  return *kLanguages;
}

std::string MountPath(std::string_view lang) {
  return absl::StrCat("/otel-auto-instrumentation-", std::string(lang));
}
std::string VolumeName(std::string_view lang) {
  return absl::StrCat("opentelemetry-auto-instrumentation-", std::string(lang));
}

const Value* Member(const Value* v, const char* key) {
  if (v == nullptr || !v->IsObject()) return nullptr;
  auto it = v->FindMember(key);
  return it == v->MemberEnd() ? nullptr : &it->value;
}
std::string Str(const Value* v) { return v != nullptr && v->IsString() ? v->GetString() : ""; }

Value StrValue(std::string_view s, Alloc& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// The member `key` of object `v` as an array, created empty when missing.
Value& ArrayMember(Value& v, const char* key, Alloc& a) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsArray()) {
    if (it != v.MemberEnd()) v.RemoveMember(it);
    v.AddMember(StrValue(key, a), Value(rapidjson::kArrayType), a);
    it = v.FindMember(key);
  }
  return it->value;
}

StringMap Annotations(const Value* object) {
  StringMap out;
  const Value* ann = Member(Member(object, "metadata"), "annotations");
  if (ann == nullptr || !ann->IsObject()) return out;
  for (const auto& m : ann->GetObject()) {
    if (m.value.IsString()) out[m.name.GetString()] = m.value.GetString();
  }
  return out;
}

std::string Get(const StringMap& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

// The pod's annotation unless it is empty or "true" and the namespace names something
// more specific (an Instrumentation) than "true"; "false" on the pod always wins.
std::string AnnotationValue(const StringMap& ns, const StringMap& pod, const std::string& key) {
  const std::string p = Get(pod, key), n = Get(ns, key);
  if (n.empty()) return p;
  if (p.empty()) return n;
  if (!absl::EqualsIgnoreCase(p, "true")) return p;
  if (absl::EqualsIgnoreCase(n, "false")) return p;
  return n;
}

int EnvIndex(const Value& env, std::string_view name) {
  for (rapidjson::SizeType i = 0; i < env.Size(); ++i) {
    if (Str(Member(&env[i], "name")) == name) return static_cast<int>(i);
  }
  return -1;
}

void AddEnv(Value& env, std::string_view name, std::string_view value, Alloc& a) {
  Value e(rapidjson::kObjectType);
  e.AddMember("name", StrValue(name, a), a);
  e.AddMember("value", StrValue(value, a), a);
  env.PushBack(e, a);
}

void AddFieldRefEnv(Value& env, std::string_view name, std::string_view field, Alloc& a) {
  Value ref(rapidjson::kObjectType);
  ref.AddMember("fieldPath", StrValue(field, a), a);
  Value from(rapidjson::kObjectType);
  from.AddMember("fieldRef", ref, a);
  Value e(rapidjson::kObjectType);
  e.AddMember("name", StrValue(name, a), a);
  e.AddMember("valueFrom", from, a);
  env.PushBack(e, a);
}

// Copies the entries of `from` (an Instrumentation's env list) whose names `env` lacks.
void AddMissingEnv(Value& env, const Value* from, Alloc& a) {
  if (from == nullptr || !from->IsArray()) return;
  for (const auto& e : from->GetArray()) {
    const std::string name = Str(Member(&e, "name"));
    if (name.empty() || EnvIndex(env, name) >= 0) continue;
    env.PushBack(Value(e, a), a);
  }
}

bool HasInitContainer(const Value& pod, const std::string& name) {
  const Value* inits = Member(Member(&pod, "spec"), "initContainers");
  if (inits == nullptr || !inits->IsArray()) return false;
  for (const auto& c : inits->GetArray()) {
    if (Str(Member(&c, "name")) == name) return true;
  }
  return false;
}

class Mutator {
 public:
  Mutator(ClusterSource& source, const std::string& ns) : source_(source), ns_(ns) {}

  Mutation Run(const std::string& pod_json);

 private:
  // The Instrumentation an annotation value names, or null (with a warning).
  std::unique_ptr<Doc> FindInstrumentation(const std::string& value, std::string_view lang);
  std::unique_ptr<Doc> Fetch(const std::string& path, std::string* error);
  // k8s.<kind>.name attributes of the pod's owners, following ReplicaSet -> Deployment and
  // Job -> CronJob.
  StringMap OwnerAttributes();
  void AddOwners(const Value* meta, StringMap& attrs, int depth);
  bool InjectLanguage(const Language& lang, const Doc& inst, int container);
  void InjectCommon(const Doc& inst, int container);
  void Warn(std::string w) { warnings_.push_back(std::move(w)); }

  ClusterSource& source_;
  const std::string ns_;
  Doc pod_;
  StringMap owner_attributes_;
  std::vector<std::string> warnings_;
};

std::unique_ptr<Doc> Mutator::Fetch(const std::string& path, std::string* error) {
  auto json = source_.Get(path);
  if (!json.ok()) {
    *error = std::string(json.status().message());
    return nullptr;
  }
  auto doc = std::make_unique<Doc>();
  doc->Parse(json->data(), json->size());
  if (doc->HasParseError() || !doc->IsObject()) {
    *error = absl::StrCat(path, ": not a JSON object");
    return nullptr;
  }
  return doc;
}

std::unique_ptr<Doc> Mutator::FindInstrumentation(const std::string& value, std::string_view lang) {
  const std::string annotation = absl::StrCat(kAnnotationPrefix, "inject-", std::string(lang));
  std::string error;
  if (absl::EqualsIgnoreCase(value, "true")) {
    auto list =
        Fetch(absl::StrCat("/apis/opentelemetry.io/v1alpha1/namespaces/", ns_, "/instrumentations"),
              &error);
    const Value* items = list ? Member(list.get(), "items") : nullptr;
    if (items == nullptr || !items->IsArray()) {
      Warn(absl::StrCat(annotation, ": cannot list Instrumentations in ", ns_, ": ", error));
      return nullptr;
    }
    if (items->Size() != 1) {
      Warn(absl::StrCat(annotation, "=true needs exactly one Instrumentation in namespace ", ns_,
                        "; found ", items->Size(), ": name one instead"));
      return nullptr;
    }
    auto doc = std::make_unique<Doc>();
    doc->CopyFrom((*items)[0], doc->GetAllocator());
    return doc;
  }
  std::string ns = ns_, name = value;
  if (auto slash = value.find('/'); slash != std::string::npos) {
    ns = value.substr(0, slash);
    name = value.substr(slash + 1);
  }
  auto doc = Fetch(
      absl::StrCat("/apis/opentelemetry.io/v1alpha1/namespaces/", ns, "/instrumentations/", name),
      &error);
  if (doc == nullptr) {
    Warn(absl::StrCat(annotation, ": Instrumentation ", ns, "/", name, ": ", error));
  }
  return doc;
}

void Mutator::AddOwners(const Value* meta, StringMap& attrs, int depth) {
  const Value* owners = Member(meta, "ownerReferences");
  if (owners == nullptr || !owners->IsArray() || depth > 2) return;
  for (const auto& o : owners->GetArray()) {
    const std::string kind = Str(Member(&o, "kind")), name = Str(Member(&o, "name"));
    if (name.empty()) continue;
    std::string path;
    if (kind == "ReplicaSet") {
      attrs["k8s.replicaset.name"] = name;
      path = absl::StrCat("/apis/apps/v1/namespaces/", ns_, "/replicasets/", name);
    } else if (kind == "Job") {
      attrs["k8s.job.name"] = name;
      path = absl::StrCat("/apis/batch/v1/namespaces/", ns_, "/jobs/", name);
    } else if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" ||
               kind == "CronJob") {
      std::string lower = kind;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      attrs[absl::StrCat("k8s.", lower, ".name")] = name;
    }
    if (path.empty()) continue;
    std::string error;
    if (auto parent = Fetch(path, &error)) {
      AddOwners(Member(parent.get(), "metadata"), attrs, depth + 1);
    } else if (kind == "ReplicaSet") {
      // A Deployment names its ReplicaSets <deployment>-<pod-template-hash>.
      const std::string hash =
          Str(Member(Member(Member(&pod_, "metadata"), "labels"), "pod-template-hash"));
      if (!hash.empty() && absl::EndsWith(name, absl::StrCat("-", hash))) {
        attrs["k8s.deployment.name"] = name.substr(0, name.size() - hash.size() - 1);
      }
    }
  }
}

StringMap Mutator::OwnerAttributes() {
  StringMap attrs;
  AddOwners(Member(&pod_, "metadata"), attrs, 0);
  return attrs;
}

bool Mutator::InjectLanguage(const Language& lang, const Doc& inst, int index) {
  Alloc& a = pod_.GetAllocator();
  Value& container = pod_["spec"]["containers"][index];
  const std::string cname = Str(Member(&container, "name"));
  Value& env = ArrayMember(container, "env", a);
  const Value* spec = Member(Member(&inst, "spec"), std::string(lang.name).c_str());
  const std::string mount = MountPath(lang.name);
  int idx = EnvIndex(env, lang.variable);
  if (idx >= 0 && Member(&env[idx], "valueFrom") != nullptr) {
    Warn(absl::StrCat("container ", cname, " sets ", std::string(lang.variable),
                      " with valueFrom: ", std::string(lang.name), " not injected"));
    return false;
  }
  AddMissingEnv(env, Member(spec, "env"), a);
  idx = EnvIndex(env, lang.variable);
  std::string value;
  if (lang.name == "nodejs") {
    value = absl::StrCat(" --require ", mount, "/autoinstrumentation.js");
    if (idx >= 0) value = absl::StrCat(Str(Member(&env[idx], "value")), value);
  } else if (lang.name == "java") {
    value = absl::StrCat(" -javaagent:", mount, "/javaagent.jar");
    if (idx >= 0) value = absl::StrCat(Str(Member(&env[idx], "value")), value);
  } else {
    const std::string prefix =
        absl::StrCat(mount, "/opentelemetry/instrumentation/auto_instrumentation");
    value = idx >= 0 ? absl::StrCat(prefix, ":", Str(Member(&env[idx], "value")), ":", mount)
                     : absl::StrCat(prefix, ":", mount);
  }
  if (idx >= 0) {
    Value& e = env[idx];
    auto v = e.FindMember("value");
    if (v != e.MemberEnd()) e.RemoveMember(v);
    e.AddMember("value", StrValue(value, a), a);
  } else {
    AddEnv(env, lang.variable, value, a);
  }
  if (lang.name == "python") {
    // The Python distro exports OTLP over HTTP/protobuf; it reads these unless set.
    for (auto [name, v] : {std::pair{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
                           {"OTEL_TRACES_EXPORTER", "otlp"},
                           {"OTEL_METRICS_EXPORTER", "otlp"},
                           {"OTEL_LOGS_EXPORTER", "otlp"}}) {
      if (EnvIndex(env, name) < 0) AddEnv(env, name, v, a);
    }
  }
  Value m(rapidjson::kObjectType);
  m.AddMember("name", StrValue(VolumeName(lang.name), a), a);
  m.AddMember("mountPath", StrValue(mount, a), a);
  ArrayMember(container, "volumeMounts", a).PushBack(m, a);

  // The volume and the init container, once per language.
  if (HasInitContainer(pod_, VolumeName(lang.name))) return true;
  Value empty_dir(rapidjson::kObjectType);
  const Value* limit = Member(spec, "volumeLimitSize");
  if (limit != nullptr && (limit->IsString() || limit->IsNumber())) {
    empty_dir.AddMember("sizeLimit", Value(*limit, a), a);
  } else {
    empty_dir.AddMember("sizeLimit", "200Mi", a);
  }
  Value volume(rapidjson::kObjectType);
  volume.AddMember("name", StrValue(VolumeName(lang.name), a), a);
  volume.AddMember("emptyDir", empty_dir, a);
  ArrayMember(pod_["spec"], "volumes", a).PushBack(volume, a);

  Value init(rapidjson::kObjectType);
  init.AddMember("name", StrValue(VolumeName(lang.name), a), a);
  init.AddMember("image", StrValue(Str(Member(spec, "image")), a), a);
  Value command(rapidjson::kArrayType);
  for (const auto& arg : lang.copy) command.PushBack(StrValue(arg, a), a);
  init.AddMember("command", command, a);
  if (const Value* res = Member(spec, "resources"); res != nullptr && res->IsObject()) {
    init.AddMember("resources", Value(*res, a), a);
  }
  Value init_mount(rapidjson::kObjectType);
  init_mount.AddMember("name", StrValue(VolumeName(lang.name), a), a);
  init_mount.AddMember("mountPath", StrValue(mount, a), a);
  Value init_mounts(rapidjson::kArrayType);
  init_mounts.PushBack(init_mount, a);
  init.AddMember("volumeMounts", init_mounts, a);
  // The copy runs as the application does, so it passes the same admission policies.
  if (const Value* sc = Member(&container, "securityContext"); sc != nullptr && sc->IsObject()) {
    init.AddMember("securityContext", Value(*sc, a), a);
  }
  // Looked up only now: adding a member to spec (volumes above) moves spec's members.
  ArrayMember(pod_["spec"], "initContainers", a).PushBack(init, a);
  return true;
}

void Mutator::InjectCommon(const Doc& inst, int index) {
  Alloc& a = pod_.GetAllocator();
  Value& container = pod_["spec"]["containers"][index];
  const std::string cname = Str(Member(&container, "name"));
  Value& env = ArrayMember(container, "env", a);
  const Value* spec = Member(&inst, "spec");
  AddMissingEnv(env, Member(spec, "env"), a);

  const Value* meta = Member(&pod_, "metadata");
  const std::string pod_name = Str(Member(meta, "name"));
  if (EnvIndex(env, "OTEL_SERVICE_NAME") < 0) {
    std::string service;
    for (const char* key : {"k8s.deployment.name", "k8s.replicaset.name", "k8s.statefulset.name",
                            "k8s.daemonset.name", "k8s.cronjob.name", "k8s.job.name"}) {
      service = Get(owner_attributes_, key);
      if (!service.empty()) break;
    }
    if (service.empty()) service = pod_name.empty() ? cname : pod_name;
    AddEnv(env, "OTEL_SERVICE_NAME", service, a);
  }
  const std::string endpoint = Str(Member(Member(spec, "exporter"), "endpoint"));
  if (!endpoint.empty() && EnvIndex(env, "OTEL_EXPORTER_OTLP_ENDPOINT") < 0) {
    AddEnv(env, "OTEL_EXPORTER_OTLP_ENDPOINT", endpoint, a);
  }
  if (EnvIndex(env, kPodNameEnv) < 0) AddFieldRefEnv(env, kPodNameEnv, "metadata.name", a);
  if (EnvIndex(env, kNodeNameEnv) < 0) AddFieldRefEnv(env, kNodeNameEnv, "spec.nodeName", a);
  const Value* propagators = Member(spec, "propagators");
  if (propagators != nullptr && propagators->IsArray() && propagators->Size() > 0 &&
      EnvIndex(env, "OTEL_PROPAGATORS") < 0) {
    std::vector<std::string> names;
    for (const auto& p : propagators->GetArray()) names.push_back(Str(&p));
    AddEnv(env, "OTEL_PROPAGATORS", absl::StrJoin(names, ","), a);
  }
  const Value* sampler = Member(spec, "sampler");
  const std::string sampler_type = Str(Member(sampler, "type"));
  if (!sampler_type.empty() && EnvIndex(env, "OTEL_TRACES_SAMPLER") < 0 &&
      EnvIndex(env, "OTEL_TRACES_SAMPLER_ARG") < 0) {
    AddEnv(env, "OTEL_TRACES_SAMPLER", sampler_type, a);
    const std::string arg = Str(Member(sampler, "argument"));
    if (!arg.empty()) AddEnv(env, "OTEL_TRACES_SAMPLER_ARG", arg, a);
  }

  // Resource attributes: the Instrumentation's, then Kubernetes', then the pod's
  // resource.opentelemetry.io/* annotations; keys the container already sets are kept.
  int res_idx = EnvIndex(env, kResourceAttributesEnv);
  std::set<std::string> existing;
  std::string existing_value;
  if (res_idx >= 0) {
    existing_value = Str(Member(&env[res_idx], "value"));
    for (absl::string_view kv : absl::StrSplit(existing_value, ',', absl::SkipWhitespace())) {
      std::vector<std::string> parts = absl::StrSplit(kv, absl::MaxSplits('=', 1));
      if (parts.size() == 2) existing.insert(std::string(absl::StripAsciiWhitespace(parts[0])));
    }
  }
  StringMap attrs;
  if (const Value* ra = Member(Member(spec, "resource"), "attributes"); ra && ra->IsObject()) {
    for (const auto& m : ra->GetObject()) {
      if (m.value.IsString()) attrs[m.name.GetString()] = m.value.GetString();
    }
  }
  attrs["k8s.namespace.name"] = ns_;
  attrs["k8s.container.name"] = cname;
  attrs["k8s.pod.name"] = absl::StrCat("$(", std::string(kPodNameEnv), ")");
  attrs["k8s.node.name"] = absl::StrCat("$(", std::string(kNodeNameEnv), ")");
  attrs["service.instance.id"] = absl::StrCat(ns_, ".$(", std::string(kPodNameEnv), ").", cname);
  for (const auto& [k, v] : owner_attributes_) attrs[k] = v;
  for (const auto& [k, v] : Annotations(&pod_)) {
    if (absl::StartsWith(k, "resource.opentelemetry.io/")) {
      const std::string key = k.substr(26);
      if (key != "service.name") attrs[key] = v;
    }
  }
  std::vector<std::string> pairs;
  for (const auto& [k, v] : attrs) {
    if (!existing.contains(k)) pairs.push_back(absl::StrCat(k, "=", v));
  }
  std::string value = absl::StrJoin(pairs, ",");
  Value entry(rapidjson::kObjectType);
  if (res_idx >= 0) {
    if (!existing_value.empty() && !absl::EndsWith(existing_value, ",") && !value.empty()) {
      existing_value += ",";
    }
    value = existing_value + value;
    env.Erase(env.Begin() + res_idx);
  }
  // Last, so the $(VAR) references above are defined before it.
  AddEnv(env, kResourceAttributesEnv, value, a);
}

Mutation Mutator::Run(const std::string& pod_json) {
  Mutation out;
  pod_.Parse(pod_json.data(), pod_json.size());
  const Value* containers = Member(Member(&pod_, "spec"), "containers");
  if (pod_.HasParseError() || !pod_.IsObject() || containers == nullptr || !containers->IsArray() ||
      containers->Empty()) {
    out.warnings.push_back("request.object is not a pod with containers: not instrumented");
    return out;
  }
  const StringMap pod_ann = Annotations(&pod_);
  StringMap ns_ann;
  if (!ns_.empty()) {
    std::string error;
    auto ns = Fetch(absl::StrCat("/api/v1/namespaces/", ns_), &error);
    if (ns) {
      ns_ann = Annotations(ns.get());
    } else {
      Warn(absl::StrCat("namespace ", ns_, ": ", error, " (its annotations are not used)"));
    }
  }
  std::set<std::string> taken;    // containers already given a language
  std::set<std::string> patched;  // containers whose env and mounts changed
  bool changed = false;
  bool owners_known = false;
  for (const Language& lang : Languages()) {
    const std::string lname(lang.name);
    const std::string value =
        AnnotationValue(ns_ann, pod_ann, absl::StrCat(kAnnotationPrefix, "inject-", lname));
    if (value.empty() || absl::EqualsIgnoreCase(value, "false")) continue;
    if (HasInitContainer(pod_, VolumeName(lname))) continue;  // already instrumented
    std::unique_ptr<Doc> inst = FindInstrumentation(value, lname);
    if (inst == nullptr) continue;
    if (Str(Member(Member(Member(inst.get(), "spec"), lname.c_str()), "image")).empty()) {
      Warn(absl::StrCat("Instrumentation ", Str(Member(Member(inst.get(), "metadata"), "name")),
                        " has no spec.", lname, ".image: ", lname, " not injected"));
      continue;
    }
    std::string names = AnnotationValue(ns_ann, pod_ann,
                                        absl::StrCat(kAnnotationPrefix, lname, "-container-names"));
    if (names.empty()) {
      names = AnnotationValue(ns_ann, pod_ann, absl::StrCat(kAnnotationPrefix, "container-names"));
    }
    std::vector<int> targets;
    const Value& list = pod_["spec"]["containers"];
    if (names.empty()) {
      targets.push_back(0);
    } else {
      for (absl::string_view n : absl::StrSplit(names, ',', absl::SkipWhitespace())) {
        const std::string name(absl::StripAsciiWhitespace(n));
        int found = -1;
        for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
          if (Str(Member(&list[i], "name")) == name) found = static_cast<int>(i);
        }
        if (found < 0) {
          Warn(absl::StrCat("container-names: the pod has no container ", name));
        } else {
          targets.push_back(found);
        }
      }
    }
    if (!owners_known) {
      owner_attributes_ = OwnerAttributes();
      owners_known = true;
    }
    for (int index : targets) {
      const std::string cname = Str(Member(&pod_["spec"]["containers"][index], "name"));
      if (!taken.insert(cname).second) {
        Warn(absl::StrCat("container ", cname, " is already instrumented for another language: ",
                          lname, " not injected"));
        continue;
      }
      if (InjectLanguage(lang, *inst, index)) {
        InjectCommon(*inst, index);
        patched.insert(cname);
        changed = true;
      }
    }
  }
  out.warnings = std::move(warnings_);
  if (!changed) return out;
  // The patch replaces each array the mutation touched with its new value ("add" on an
  // existing member replaces it), so it applies to the pod exactly as received.
  Doc patch(rapidjson::kArrayType);
  Alloc& a = patch.GetAllocator();
  auto add = [&](const std::string& path, const Value& v) {
    Value op(rapidjson::kObjectType);
    op.AddMember("op", "add", a);
    op.AddMember("path", StrValue(path, a), a);
    op.AddMember("value", Value(v, a), a);
    patch.PushBack(op, a);
  };
  const Value& spec = pod_["spec"];
  add("/spec/volumes", spec["volumes"]);
  add("/spec/initContainers", spec["initContainers"]);
  const Value& list = spec["containers"];
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    if (!patched.contains(Str(Member(&list[i], "name")))) continue;
    for (const char* key : {"env", "volumeMounts"}) {
      if (const Value* v = Member(&list[i], key))
        add(absl::StrCat("/spec/containers/", i, "/", key), *v);
    }
  }
  out.patch = JsonText(patch);
  return out;
}

}  // namespace

Mutation PodMutator::Mutate(const std::string& pod_json, const std::string& ns) const {
  return Mutator(source_, ns).Run(pod_json);
}

}  // namespace strand::webhook
