#include "ctrl/crd/k8s_kinds.h"

#include "ctrl/crd/k8s_names.h"
#include "ctrl/crd/objectmeta.h"
#include "ctrl/crd/schema_model.h"

#include <map>
#include <set>
#include <utility>

namespace lg::ctrl {
namespace {

namespace fe = fielderr;

// Shapes of the core/v1 and discovery.k8s.io/v1 types
// (https://kubernetes.io/docs/reference/kubernetes-api/), written as OpenAPI
// so the CRD validator checks types, enums and unknown fields; the rules
// Kubernetes writes in Go (k8s.io/kubernetes/pkg/apis/core/validation) follow
// in code below, with its messages.
constexpr const char* kObjectReference = R"({"type":"object","properties":{
  "apiVersion":{"type":"string"},"fieldPath":{"type":"string"},"kind":{"type":"string"},"name":{"type":"string"},
  "namespace":{"type":"string"},"resourceVersion":{"type":"string"},"uid":{"type":"string"}}})";

std::string service_schema() {
  return R"({"type":"object","properties":{"spec":{"type":"object","properties":{
    "allocateLoadBalancerNodePorts":{"type":"boolean"},
    "clusterIP":{"type":"string"},
    "clusterIPs":{"type":"array","items":{"type":"string"}},
    "externalIPs":{"type":"array","items":{"type":"string"}},
    "externalName":{"type":"string"},
    "externalTrafficPolicy":{"type":"string","enum":["Cluster","Local"]},
    "healthCheckNodePort":{"type":"integer"},
    "internalTrafficPolicy":{"type":"string","enum":["Cluster","Local"]},
    "ipFamilies":{"type":"array","items":{"type":"string","enum":["IPv4","IPv6"]}},
    "ipFamilyPolicy":{"type":"string","enum":["SingleStack","PreferDualStack","RequireDualStack"]},
    "loadBalancerClass":{"type":"string"},
    "loadBalancerIP":{"type":"string"},
    "loadBalancerSourceRanges":{"type":"array","items":{"type":"string"}},
    "ports":{"type":"array","items":{"type":"object","required":["port"],"properties":{
      "appProtocol":{"type":"string"},"name":{"type":"string"},"nodePort":{"type":"integer"},
      "port":{"type":"integer"},"protocol":{"type":"string","enum":["SCTP","TCP","UDP"]},
      "targetPort":{"x-kubernetes-int-or-string":true}}}},
    "publishNotReadyAddresses":{"type":"boolean"},
    "selector":{"type":"object","additionalProperties":{"type":"string"}},
    "sessionAffinity":{"type":"string","enum":["ClientIP","None"]},
    "sessionAffinityConfig":{"type":"object","properties":{"clientIP":{"type":"object","properties":{
      "timeoutSeconds":{"type":"integer"}}}}},
    "trafficDistribution":{"type":"string"},
    "type":{"type":"string","enum":["ClusterIP","ExternalName","LoadBalancer","NodePort"]}}}}})";
}

std::string endpoints_schema() {
  const std::string address = std::string(R"({"type":"object","required":["ip"],"properties":{
    "hostname":{"type":"string"},"ip":{"type":"string"},"nodeName":{"type":"string"},"targetRef":)") +
                              kObjectReference + "}}";
  return R"({"type":"object","properties":{"subsets":{"type":"array","items":{"type":"object","properties":{
    "addresses":{"type":"array","items":)" + address + R"(},
    "notReadyAddresses":{"type":"array","items":)" + address + R"(},
    "ports":{"type":"array","items":{"type":"object","required":["port"],"properties":{
      "appProtocol":{"type":"string"},"name":{"type":"string"},"port":{"type":"integer"},
      "protocol":{"type":"string","enum":["SCTP","TCP","UDP"]}}}}}}}}})";
}

std::string endpointslice_schema() {
  return std::string(R"({"type":"object","required":["addressType","endpoints"],"properties":{
    "addressType":{"type":"string","enum":["IPv4","IPv6","FQDN"]},
    "endpoints":{"type":"array","maxItems":1000,"items":{"type":"object","required":["addresses"],"properties":{
      "addresses":{"type":"array","minItems":1,"maxItems":100,"items":{"type":"string"}},
      "conditions":{"type":"object","properties":{"ready":{"type":"boolean","nullable":true},
        "serving":{"type":"boolean","nullable":true},"terminating":{"type":"boolean","nullable":true}}},
      "deprecatedTopology":{"type":"object","additionalProperties":{"type":"string"}},
      "hints":{"type":"object","properties":{
        "forZones":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}}}},
        "forNodes":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}}}}}},
      "hostname":{"type":"string"},"nodeName":{"type":"string"},"zone":{"type":"string"},
      "targetRef":)") + kObjectReference + R"(}}},
    "ports":{"type":"array","maxItems":20000,"items":{"type":"object","properties":{
      "appProtocol":{"type":"string"},"name":{"type":"string"},"port":{"type":"integer","nullable":true},
      "protocol":{"type":"string","enum":["SCTP","TCP","UDP"]}}}}}})";
}

std::string secret_schema() {
  return R"({"type":"object","properties":{
    "data":{"type":"object","additionalProperties":{"type":"string"}},
    "immutable":{"type":"boolean"},
    "stringData":{"type":"object","additionalProperties":{"type":"string"}},
    "type":{"type":"string"}}})";
}

std::string configmap_schema() {
  return R"({"type":"object","properties":{
    "binaryData":{"type":"object","additionalProperties":{"type":"string"}},
    "data":{"type":"object","additionalProperties":{"type":"string"}},
    "immutable":{"type":"boolean"}}})";
}

struct Builtin {
  std::string group, kind;
  NameRule name_rule;
  std::unique_ptr<crdschema::Node> schema;
};

const std::vector<Builtin>& builtins() {
  static const std::vector<Builtin> all = [] {
    std::vector<Builtin> v;
    v.push_back({"", "Service", NameRule::dns1035_label, crdschema::build_node(Json::parse(service_schema()))});
    v.push_back({"", "Endpoints", NameRule::dns1123_subdomain, crdschema::build_node(Json::parse(endpoints_schema()))});
    v.push_back({"discovery.k8s.io", "EndpointSlice", NameRule::dns1123_subdomain,
                 crdschema::build_node(Json::parse(endpointslice_schema()))});
    v.push_back({"", "Secret", NameRule::dns1123_subdomain, crdschema::build_node(Json::parse(secret_schema()))});
    v.push_back({"", "ConfigMap", NameRule::dns1123_subdomain, crdschema::build_node(Json::parse(configmap_schema()))});
    return v;
  }();
  return all;
}

const Json* field(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string str(const Json* v) { return v && v->is_string() ? v->get<std::string>() : std::string(); }

void port_number(const Json* v, const std::string& path, fe::List& errs) {
  if (v == nullptr || !v->is_number_integer()) return;  // the schema reports the type
  const long long p = v->get<long long>();
  if (p < 1 || p > 65535) errs.push_back(fe::invalid(path, *v, "must be between 1 and 65535, inclusive"));
}

// Port lists of Service and Endpoints: names are DNS labels, required and
// unique once there is more than one port.
void port_names(const Json& ports, const std::string& path, bool required_when_many, fe::List& errs) {
  std::set<std::string> seen;
  for (size_t i = 0; i < ports.size(); ++i) {
    const std::string at = path_index(path, i);
    const Json* name = field(ports[i], "name");
    const std::string n = str(name);
    if (n.empty()) {
      if (required_when_many && ports.size() > 1) errs.push_back(fe::required(path_field(at, "name")));
      continue;
    }
    if (std::string e = k8snames::dns1123_label(n); !e.empty()) errs.push_back(fe::invalid(path_field(at, "name"), *name, e));
    if (!seen.insert(n).second) errs.push_back(fe::duplicate(path_field(at, "name"), *name));
  }
}

void check_ip(const Json* v, const std::string& path, fe::List& errs) {
  if (v == nullptr || !v->is_string()) return;
  if (std::string e = k8snames::ip_address(v->get<std::string>()); !e.empty()) errs.push_back(fe::invalid(path, *v, e));
}

void service(const Json& obj, fe::List& errs) {
  const Json* spec = field(obj, "spec");
  if (spec == nullptr || !spec->is_object()) return;
  const std::string type = spec->contains("type") ? str(field(*spec, "type")) : "ClusterIP";
  const Json* ports = field(*spec, "ports");
  if (type == "ExternalName") {
    const Json* en = field(*spec, "externalName");
    if (str(en).empty()) {
      errs.push_back(fe::required("spec.externalName"));
    } else if (std::string e = k8snames::dns1123_subdomain(str(en)); !e.empty()) {
      errs.push_back(fe::invalid("spec.externalName", *en, e));
    }
  } else if (str(field(*spec, "clusterIP")) != "None" && (ports == nullptr || !ports->is_array() || ports->empty())) {
    errs.push_back(fe::required("spec.ports"));
  }
  if (ports && ports->is_array()) {
    std::set<std::pair<long long, std::string>> port_proto;
    for (size_t i = 0; i < ports->size(); ++i) {
      const Json& p = (*ports)[i];
      const std::string at = path_index("spec.ports", i);
      port_number(field(p, "port"), path_field(at, "port"), errs);
      if (const Json* np = field(p, "nodePort"); np && np->is_number_integer() && np->get<long long>() != 0)
        port_number(np, path_field(at, "nodePort"), errs);
      if (const Json* tp = field(p, "targetPort")) {
        if (tp->is_number_integer()) port_number(tp, path_field(at, "targetPort"), errs);
        else if (tp->is_string())
          if (std::string e = k8snames::iana_svc_name(tp->get<std::string>()); !e.empty())
            errs.push_back(fe::invalid(path_field(at, "targetPort"), *tp, e));
      }
      if (const Json* port = field(p, "port"); port && port->is_number_integer()) {
        std::string proto = str(field(p, "protocol"));
        if (proto.empty()) proto = "TCP";
        if (!port_proto.insert({port->get<long long>(), proto}).second)
          errs.push_back(fe::duplicate(at, Json{{"port", *port}, {"protocol", proto}}));
      }
    }
    port_names(*ports, "spec.ports", true, errs);
  }
  const std::string cip = str(field(*spec, "clusterIP"));
  if (!cip.empty() && cip != "None") check_ip(field(*spec, "clusterIP"), "spec.clusterIP", errs);
  for (const char* list : {"clusterIPs", "externalIPs"}) {
    const Json* ips = field(*spec, list);
    if (ips == nullptr || !ips->is_array()) continue;
    for (size_t i = 0; i < ips->size(); ++i)
      if (!(std::string(list) == "clusterIPs" && (*ips)[i] == "None"))
        check_ip(&(*ips)[i], path_index(std::string("spec.") + list, i), errs);
  }
  if (!str(field(*spec, "loadBalancerIP")).empty()) check_ip(field(*spec, "loadBalancerIP"), "spec.loadBalancerIP", errs);
  if (const Json* sel = field(*spec, "selector"); sel && sel->is_object()) {
    for (const auto& [k, v] : sel->items()) {
      if (std::string e = k8snames::qualified_name(k); !e.empty()) errs.push_back(fe::invalid("spec.selector", Json(k), e));
      if (v.is_string())
        if (std::string e = k8snames::label_value(v.get<std::string>()); !e.empty())
          errs.push_back(fe::invalid(path_key("spec.selector", k), v, e));
    }
  }
}

void endpoints(const Json& obj, fe::List& errs) {
  const Json* subsets = field(obj, "subsets");
  if (subsets == nullptr || !subsets->is_array()) return;
  for (size_t i = 0; i < subsets->size(); ++i) {
    const Json& ss = (*subsets)[i];
    const std::string at = path_index("subsets", i);
    for (const char* list : {"addresses", "notReadyAddresses"}) {
      const Json* addrs = field(ss, list);
      if (addrs == nullptr || !addrs->is_array()) continue;
      for (size_t j = 0; j < addrs->size(); ++j)
        check_ip(field((*addrs)[j], "ip"), path_field(path_index(path_field(at, list), j), "ip"), errs);
    }
    const Json* ports = field(ss, "ports");
    if (ports == nullptr || !ports->is_array()) continue;
    for (size_t j = 0; j < ports->size(); ++j)
      port_number(field((*ports)[j], "port"), path_field(path_index(path_field(at, "ports"), j), "port"), errs);
    port_names(*ports, path_field(at, "ports"), true, errs);
  }
}

void endpointslice(const Json& obj, fe::List& errs) {
  const std::string type = str(field(obj, "addressType"));
  if (const Json* eps = field(obj, "endpoints"); eps && eps->is_array()) {
    for (size_t i = 0; i < eps->size(); ++i) {
      const std::string at = path_field(path_index("endpoints", i), "addresses");
      const Json* addrs = field((*eps)[i], "addresses");
      if (addrs == nullptr || !addrs->is_array()) continue;
      for (size_t j = 0; j < addrs->size(); ++j) {
        const Json& a = (*addrs)[j];
        if (!a.is_string()) continue;
        const std::string s = a.get<std::string>();
        std::string e;
        if (type == "IPv4" && !k8snames::is_ipv4(s)) e = "must be a valid IPv4 address";
        if (type == "IPv6" && !k8snames::is_ipv6(s)) e = "must be a valid IPv6 address";
        if (type == "FQDN") e = k8snames::dns1123_subdomain(s);
        if (!e.empty()) errs.push_back(fe::invalid(path_index(at, j), a, e));
      }
    }
  }
  if (const Json* ports = field(obj, "ports"); ports && ports->is_array()) {
    for (size_t i = 0; i < ports->size(); ++i)
      port_number(field((*ports)[i], "port"), path_field(path_index("ports", i), "port"), errs);
    port_names(*ports, "ports", false, errs);
  }
}

// Keys of Secret and ConfigMap data (IsConfigMapKey); "" when valid.
std::string config_key_error(const std::string& k) {
  static const std::string kConfigKey = "[-._a-zA-Z0-9]+";
  bool ok = !k.empty() && k.size() <= 253 && k != "." && k != ".." && k.rfind("..", 0) != 0;
  for (char c : k) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_');
  if (ok) return {};
  return "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
         "'KEY_NAME',  or 'key-name', regex used for validation is '" + kConfigKey + "')";
}

// JSON []byte fields are standard base64 (RFC 4648 §4): the offset of the
// first byte that cannot be one, npos when `s` decodes.
size_t base64_error_at(const std::string& s) {
  size_t bad = std::string::npos;
  size_t pad = 0;
  for (size_t i = 0; i < s.size() && bad == std::string::npos; ++i) {
    const char c = s[i];
    if (c == '=') ++pad;
    else if (pad || !(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) bad = i;
  }
  if (bad == std::string::npos && (s.size() % 4 != 0 || pad > 2)) bad = s.size() - s.size() % 4;
  return bad;
}

// Secrets: never echo a value in a message; they hold keys.
void secret(const Json& obj, fe::List& errs) {
  size_t total = 0;
  std::set<std::string> keys;
  for (const char* map : {"data", "stringData"}) {
    const Json* m = field(obj, map);
    if (m == nullptr || !m->is_object()) continue;
    for (const auto& [k, v] : m->items()) {
      keys.insert(k);
      const std::string at = path_key(map, k);
      if (std::string e = config_key_error(k); !e.empty()) errs.push_back(fe::invalid(at, Json(k), e));
      if (!v.is_string()) continue;
      const std::string& s = v.get_ref<const std::string&>();
      total += s.size();
      if (std::string(map) == "data")
        if (const size_t bad = base64_error_at(s); bad != std::string::npos)
          errs.push_back(fe::invalid(at, std::string("<value not shown>"),
                                     "illegal base64 data at input byte " + std::to_string(bad)));
    }
  }
  if (total > (1u << 20)) errs.push_back(fe::too_long("data", 1 << 20));
  // https://kubernetes.io/docs/concepts/configuration/secret/#tls-secrets
  if (str(field(obj, "type")) == "kubernetes.io/tls") {
    for (const char* k : {"tls.crt", "tls.key"})
      if (!keys.count(k)) errs.push_back(fe::required(path_key("data", k)));
  }
}

// ValidateConfigMap: config keys, no key in both data and binaryData, 1 MiB in all.
void configmap(const Json& obj, fe::List& errs) {
  size_t total = 0;
  for (const auto& [map, other] : {std::pair{"data", "binaryData"}, std::pair{"binaryData", "data"}}) {
    const Json* m = field(obj, map);
    const Json* o = field(obj, other);
    if (m == nullptr || !m->is_object()) continue;
    for (const auto& [k, v] : m->items()) {
      const std::string at = path_key(map, k);
      if (std::string e = config_key_error(k); !e.empty()) errs.push_back(fe::invalid(at, Json(k), e));
      if (o && o->is_object() && o->contains(k))
        errs.push_back(fe::invalid(at, Json(k), std::string("duplicate of key present in ") + other));
      if (!v.is_string()) continue;
      const std::string& s = v.get_ref<const std::string&>();
      total += s.size();
      if (std::string(map) == "binaryData")
        if (const size_t bad = base64_error_at(s); bad != std::string::npos)
          errs.push_back(fe::invalid(at, std::string("<value not shown>"),
                                     "illegal base64 data at input byte " + std::to_string(bad)));
    }
  }
  // The API server names no field: the limit is on the whole object.
  if (total > (1u << 20)) errs.push_back(fe::too_long("", 1 << 20));
}

}  // namespace

bool validate_kubernetes_kind(const Resource& r, fe::List& errs) {
  const Builtin* b = nullptr;
  for (const Builtin& x : builtins())
    if (x.group == r.group && x.kind == r.kind) b = &x;
  if (b == nullptr || r.version != "v1") return false;
  validate_object_meta(r.obj, b->name_rule, errs);
  for (const auto& [key, value] : r.obj.items()) {
    if (key == "apiVersion" || key == "kind" || key == "metadata" || key == "status" || (!key.empty() && key.front() == '_')) continue;
    const auto p = b->schema->properties.find(key);
    if (p == b->schema->properties.end()) errs.push_back(fe::unknown_field(key));
    else crdschema::validate_openapi(*p->second, value, key, errs);
  }
  for (const std::string& key : b->schema->required)
    if (!r.obj.contains(key)) errs.push_back(fe::required(key));
  if (r.kind == "Service") service(r.obj, errs);
  else if (r.kind == "Endpoints") endpoints(r.obj, errs);
  else if (r.kind == "EndpointSlice") endpointslice(r.obj, errs);
  else if (r.kind == "Secret") secret(r.obj, errs);
  else if (r.kind == "ConfigMap") configmap(r.obj, errs);
  return true;
}

}  // namespace lg::ctrl
