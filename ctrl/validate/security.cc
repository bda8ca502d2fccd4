// PeerAuthentication, AuthorizationPolicy, RequestAuthentication and
// Telemetry checks beyond the CRD schema, after Istio's webhook
// (pkg/config/validation: ValidateAuthorizationPolicy, validateJwtRule,
// ValidatePeerAuthentication, ValidateTelemetry, pkg/config/security).
#include "ctrl/cel/cel.h"
#include "ctrl/validate/checks.h"
#include "l7/access_log/filter_attributes.h"
#include "ctrl/validate/hosts.h"

#include <cctype>
#include <charconv>

namespace lg::ctrl::validate {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// selector, targetRef and targetRefs are mutually exclusive.
void check_policy_target(const Ctx& c, const Json* spec) {
  int set = 0;
  set += has(spec, "selector");
  set += has(spec, "targetRef");
  const Json* refs = get_arr(spec, "targetRefs");
  set += refs != nullptr && !refs->empty();
  if (set > 1) c.error("spec", "only one of targetRefs or workloadSelector can be set");
  check_workload_selector(c, get_obj(spec, "selector"), "matchLabels", "spec.selector");
  auto check_ref = [&](const Json& r, const std::string& p) {
    if (!r.is_object()) return;
    if (get_str(&r, "name").empty()) c.error(p, "targetRef name must be set");
    if (!get_str(&r, "namespace").empty())
      c.error(path_field(p, "namespace"), "targetRef namespace must not be set; cross namespace referencing is not supported");
    const std::string kind = get_str(&r, "kind"), group = get_str(&r, "group");
    const bool ok = (kind == "Service" && group.empty()) || (kind == "ServiceEntry" && group == "networking.istio.io") ||
                    (kind == "Gateway" && group == "gateway.networking.k8s.io");
    if (!ok)
      c.error(p, "targetRef must be to one of Service, networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway "
                 "but was " + group + "/" + kind);
  };
  if (const Json* r = get_obj(spec, "targetRef")) check_ref(*r, "spec.targetRef");
  each(spec, "targetRefs", "spec", [&](size_t, const Json& r, const std::string& p) { check_ref(r, p); });
}

void check_non_empty_values(const Ctx& c, const Json* o, const char* key, const std::string& base, const char* what) {
  each(o, key, base, [&](size_t, const Json& v, const std::string& p) {
    if (v.is_string() && v.get<std::string>().empty()) c.error(p, std::string("empty value not allowed, found in ") + what);
  });
}

bool valid_auth_port(const std::string& s) {
  uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size() && v <= 65535;
}

// Condition keys of AuthorizationPolicy (istio.io/latest/docs/reference/config/security/conditions/).
std::optional<std::string> check_condition(const std::string& key, const Json& values) {
  auto each_value = [&](auto fn) -> std::optional<std::string> {
    if (!values.is_array()) return std::nullopt;
    for (const Json& v : values)
      if (v.is_string())
        if (auto e = fn(v.get<std::string>())) return e;
    return std::nullopt;
  };
  auto bracketed = [&](std::string_view prefix) {
    return starts_with(key, prefix) && key.size() > prefix.size() + 2 && key[prefix.size()] == '[' && key.back() == ']';
  };
  if (key == "source.ip" || key == "remote.ip" || key == "destination.ip")
    return each_value([](const std::string& v) { return check_ip_or_cidr(v); });
  if (key == "destination.port")
    return each_value([](const std::string& v) -> std::optional<std::string> {
      if (!valid_auth_port(v)) return "invalid port: " + v;
      return std::nullopt;
    });
  if (key == "source.namespace" || key == "source.principal" || key == "source.trustDomain" ||
      key == "source.serviceAccount" || key == "request.auth.principal" ||
      key == "request.auth.audiences" || key == "request.auth.presenter" || key == "connection.sni" ||
      bracketed("request.headers") || bracketed("request.auth.claims") || starts_with(key, "experimental.envoy.filters."))
    return std::nullopt;
  return "unknown attribute (" + key + ")";
}

}  // namespace

void check_peer_authentication(const Ctx& c) {
  const Json* spec = c.spec();
  if (spec == nullptr) return;
  const Json* sel = get_obj(spec, "selector");
  const Json* ml = get_obj(sel, "matchLabels");
  const bool empty_selector = ml == nullptr || ml->empty();
  const Json* plm = get_obj(spec, "portLevelMtls");
  if (plm != nullptr) {
    if (empty_selector) c.error("spec.portLevelMtls", "mesh/namespace peer authentication cannot have port level mTLS");
    if (plm->empty()) c.error("spec.portLevelMtls", "port level mTLS, if defined, must have at least one element");
    for (const auto& [k, v] : plm->items()) {
      int64_t port = 0;
      const auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), port);
      if (ec != std::errc() || p != k.data() + k.size() || port <= 0 || port > 65535)
        c.error(path_key("spec.portLevelMtls", k), "port must be in range 1..65535");
    }
  }
  check_workload_selector(c, sel, "matchLabels", "spec.selector");
}

void check_authorization_policy(const Ctx& c) {
  const Json* spec = c.spec();
  if (spec == nullptr) return;
  check_policy_target(c, spec);
  const std::string action = has(spec, "action") ? get_str(spec, "action") : "ALLOW";
  if (action == "CUSTOM") {
    c.error("spec.action", "action CUSTOM (external authorization) is not supported by linegate");
  } else if (action != "ALLOW" && action != "DENY" && action != "AUDIT") {
    c.error("spec.action", "unsupported action " + quote(action) + ": expected ALLOW, DENY or AUDIT");
  }
  if (has(spec, "provider") && action != "CUSTOM")
    c.error("spec.provider", "`provider` must not be with non CUSTOM action, found " + action);
  const Json* rules = get_arr(spec, "rules");
  if (action == "DENY" && rules == nullptr)
    c.error("spec", "DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` "
                    "if you want it be triggered for every request");
  each(spec, "rules", "spec", [&](size_t i, const Json& rule, const std::string& rp) {
    const std::string at = ", found at rule " + std::to_string(i);
    if (!rule.is_object()) {
      c.error(rp, "`rule` must not be nil" + at);
      return;
    }
    const Json* from = get(&rule, "from");
    if (from != nullptr && from->is_array() && from->empty()) c.error(path_field(rp, "from"), "`from` must not be empty" + at);
    each(&rule, "from", rp, [&](size_t, const Json& f, const std::string& fp) {
      const Json* src = get_obj(&f, "source");
      if (src == nullptr) {
        c.error(path_field(fp, "source"), "`from.source` must not be nil" + at);
        return;
      }
      const std::string sp = path_field(fp, "source");
      bool any = false;
      for (const char* k : {"principals", "requestPrincipals", "namespaces", "ipBlocks", "remoteIpBlocks", "notPrincipals",
                            "notRequestPrincipals", "notNamespaces", "notIpBlocks", "notRemoteIpBlocks", "serviceAccounts",
                            "notServiceAccounts"}) {
        const Json* a = get_arr(src, k);
        any = any || (a != nullptr && !a->empty());
        check_non_empty_values(c, src, k, sp, k);
      }
      if (!any) c.error(sp, "`from.source` must not be empty" + at);
      for (const char* k : {"ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"})
        each(src, k, sp, [&](size_t, const Json& ip, const std::string& ipp) {
          if (ip.is_string() && !ip.get<std::string>().empty())
            if (auto e = check_ip_or_cidr(ip.get<std::string>())) c.error(ipp, *e);
        });
    });
    const Json* to = get(&rule, "to");
    if (to != nullptr && to->is_array() && to->empty()) c.error(path_field(rp, "to"), "`to` must not be empty" + at);
    each(&rule, "to", rp, [&](size_t, const Json& t, const std::string& tp) {
      const Json* op = get_obj(&t, "operation");
      if (op == nullptr) {
        c.error(path_field(tp, "operation"), "`to.operation` must not be nil" + at);
        return;
      }
      const std::string opp = path_field(tp, "operation");
      bool any = false;
      for (const char* k : {"ports", "methods", "paths", "hosts", "notPorts", "notMethods", "notPaths", "notHosts"}) {
        const Json* a = get_arr(op, k);
        any = any || (a != nullptr && !a->empty());
        check_non_empty_values(c, op, k, opp, k);
      }
      if (!any) c.error(opp, "`to.operation` must not be empty" + at);
      for (const char* k : {"ports", "notPorts"})
        each(op, k, opp, [&](size_t, const Json& port, const std::string& pp) {
          if (port.is_string() && !port.get<std::string>().empty() && !valid_auth_port(port.get<std::string>()))
            c.error(pp, "invalid port: " + port.get<std::string>());
        });
    });
    each(&rule, "when", rp, [&](size_t, const Json& w, const std::string& wp) {
      if (!w.is_object()) return;
      const std::string key = get_str(&w, "key");
      if (key.empty()) {
        c.error(path_field(wp, "key"), "`key` must not be empty");
        return;
      }
      const Json* values = get_arr(&w, "values");
      const Json* not_values = get_arr(&w, "notValues");
      if ((values == nullptr || values->empty()) && (not_values == nullptr || not_values->empty())) {
        c.error(wp, "at least one of `values` or `notValues` must be set for key " + key);
        return;
      }
      if (values != nullptr)
        if (auto e = check_condition(key, *values)) c.error(path_field(wp, "values"), "invalid `value` for `key` " + key + ": " + *e);
      if (not_values != nullptr)
        if (auto e = check_condition(key, *not_values))
          c.error(path_field(wp, "notValues"), "invalid `notValue` for `key` " + key + ": " + *e);
    });
  });
}

void check_request_authentication(const Ctx& c) {
  const Json* spec = c.spec();
  if (spec == nullptr) return;
  check_policy_target(c, spec);
  each(spec, "jwtRules", "spec", [&](size_t, const Json& rule, const std::string& rp) {
    if (!rule.is_object()) return;
    if (get_str(&rule, "issuer").empty()) c.error(path_field(rp, "issuer"), "issuer must be set");
    check_non_empty_values(c, &rule, "audiences", rp, "audiences");
    const std::string uri = get_str(&rule, "jwksUri");
    if (!uri.empty()) {
      // RFC 3986 absolute URI; Istio fetches JWKS over http or https only.
      const size_t colon = uri.find("://");
      const std::string scheme = colon == std::string::npos ? "" : uri.substr(0, colon);
      std::string host = colon == std::string::npos ? "" : uri.substr(colon + 3);
      host = host.substr(0, host.find_first_of("/?#"));
      if (const size_t at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
      bool space = false;
      for (char ch : uri) space = space || std::isspace(static_cast<unsigned char>(ch)) != 0;
      if (scheme != "http" && scheme != "https")
        c.error(path_field(rp, "jwksUri"), "invalid jwksUri " + quote(uri) + ": scheme must be http or https");
      else if (host.empty() || host.front() == ':' || space)
        c.error(path_field(rp, "jwksUri"), "invalid jwksUri " + quote(uri) + ": expected http(s)://host[:port]/path");
    }
    const std::string jwks = get_str(&rule, "jwks");
    if (!jwks.empty()) {
      const Json parsed = Json::parse(jwks, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object() || get_arr(&parsed, "keys") == nullptr)
        c.error(path_field(rp, "jwks"), "jwks parse error: expected a JSON Web Key Set (an object with a \"keys\" array)");
    }
    each(&rule, "fromHeaders", rp, [&](size_t, const Json& h, const std::string& hp) {
      if (get_str(&h, "name").empty()) c.error(path_field(hp, "name"), "location header name must be non-empty string");
    });
    check_non_empty_values(c, &rule, "fromParams", rp, "fromParams");
    check_non_empty_values(c, &rule, "fromCookies", rp, "fromCookies");
    each(&rule, "outputClaimToHeaders", rp, [&](size_t, const Json& o, const std::string& op) {
      const std::string header = get_str(&o, "header");
      if (get_str(&o, "claim").empty() || header.empty()) {
        c.error(op, "outputClaimToHeaders header and claim value must be non-empty string");
        return;
      }
      for (char ch : header)
        if (std::isalnum(static_cast<unsigned char>(ch)) == 0 && ch != '-' && ch != '_') {
          c.error(path_field(op, "header"), "header name " + header + " is not a valid header name");
          break;
        }
    });
    check_duration_field(c, &rule, "timeout", rp);
  });
}

void check_telemetry(const Ctx& c) {
  const Json* spec = c.spec();
  if (spec == nullptr) return;
  check_policy_target(c, spec);
  auto providers = [&](const Json& parent, const std::string& p) {
    each(&parent, "providers", p, [&](size_t, const Json& pr, const std::string& pp) {
      if (get_str(&pr, "name").empty()) c.error(path_field(pp, "name"), "providers.name may not be empty");
    });
  };
  each(spec, "accessLogging", "spec", [&](size_t, const Json& l, const std::string& lp) {
    providers(l, lp);
    if (const Json* f = get_obj(&l, "filter")) {
      const std::string expr = get_str(f, "expression");
      if (expr.empty()) {
        c.error(path_field(lp, "filter.expression"), "filter expression may not be empty");
      } else if (const cel::CompileResult r = cel::compile(expr, access_log::filter_variables()); !r.program) {
        // The gateway evaluates it per request; one it cannot compile would log nothing.
        c.error(path_field(lp, "filter.expression"), "filter expression does not compile: " + r.error);
      }
    }
  });
  const Json* tracing = get_arr(spec, "tracing");
  if (tracing != nullptr && tracing->size() > 1) c.warning("spec.tracing", "multiple tracing is not currently supported");
  each(spec, "tracing", "spec", [&](size_t, const Json& t, const std::string& tp) {
    providers(t, tp);
    const Json* pr = get_arr(&t, "providers");
    if (pr != nullptr && pr->size() > 1) c.warning(path_field(tp, "providers"), "multiple providers is not currently supported");
    if (const auto pct = get_wrapped_num(&t, "randomSamplingPercentage"); pct && (*pct < 0 || *pct > 100))
      c.error(path_field(tp, "randomSamplingPercentage"), "randomSamplingPercentage must be in range [0.0, 100.0]");
    each_member(&t, "customTags", tp, [&](const std::string& name, const Json& tag, const std::string& cp) {
      if (name.empty()) c.error(cp, "tag name may not be empty");
      if (const Json* lit = get_obj(&tag, "literal"); lit != nullptr && get_str(lit, "value").empty())
        c.error(path_field(cp, "literal.value"), "literal tag value may not be empty");
      if (const Json* h = get_obj(&tag, "header"); h != nullptr && get_str(h, "name").empty())
        c.error(path_field(cp, "header.name"), "header tag name may not be empty");
      if (const Json* e = get_obj(&tag, "environment"); e != nullptr && get_str(e, "name").empty())
        c.error(path_field(cp, "environment.name"), "environment tag name may not be empty");
    });
  });
  each(spec, "metrics", "spec", [&](size_t, const Json& m, const std::string& mp) {
    providers(m, mp);
    each(&m, "overrides", mp, [&](size_t, const Json& o, const std::string& op) {
      each_member(&o, "tagOverrides", op, [&](const std::string& name, const Json& to, const std::string& tp) {
        if (name.empty()) c.warning(tp, "tagOverrides.name may not be empty");
        const std::string operation = has(&to, "operation") ? get_str(&to, "operation") : "UPSERT";
        const std::string value = get_str(&to, "value");
        if (operation == "UPSERT" && value.empty()) c.error(tp, "tagOverrides.value must be set when operation is UPSERT");
        if (operation == "REMOVE" && !value.empty()) c.error(tp, "tagOverrides.value may only be set when operation is UPSERT");
      });
      if (const Json* match = get_obj(&o, "match"); match != nullptr && has(match, "customMetric") &&
                                                     get_str(match, "customMetric").empty())
        c.error(path_field(op, "match.customMetric"), "customMetric may not be empty");
    });
  });
}

}  // namespace lg::ctrl::validate
