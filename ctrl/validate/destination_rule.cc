// DestinationRule checks beyond the CRD schema, after Istio's
// ValidateDestinationRule / validateTrafficPolicy and Envoy's limits.
#include "ctrl/validate/checks.h"
#include "ctrl/validate/hosts.h"

#include <cmath>
#include <set>

namespace lg::ctrl::validate {

namespace {

bool is_prime(int64_t x) {
  if (x < 2) return false;
  if (x < 4) return true;
  if (x % 2 == 0) return false;
  for (int64_t f = 3; f * f <= x; f += 2)
    if (x % f == 0) return false;
  return true;
}

void check_non_negative(const Ctx& c, const Json* o, const std::string& base, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (const auto v = get_int(o, k); v && *v < 0)
      c.error(path_field(base, k), std::string(k) + " must be non-negative");
}

void check_connection_pool(const Ctx& c, const Json* cp, const std::string& p) {
  if (cp == nullptr) return;
  const Json* http = get_obj(cp, "http");
  const Json* tcp = get_obj(cp, "tcp");
  if (http == nullptr && tcp == nullptr) {
    c.error(p, "connection pool must have at least one field");
    return;
  }
  if (http != nullptr) {
    const std::string hp = path_field(p, "http");
    check_non_negative(c, http, hp, {"http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection",
                                     "maxRetries", "maxConcurrentStreams"});
    check_duration_field(c, http, "idleTimeout", hp);
    if (get_str(http, "h2UpgradePolicy") == "UPGRADE" && get_bool(http, "useClientProtocol").value_or(false))
      c.error(hp, "use client protocol must not be true when H2UpgradePolicy is UPGRADE");
  }
  if (tcp != nullptr) {
    const std::string tp = path_field(p, "tcp");
    check_non_negative(c, tcp, tp, {"maxConnections"});
    for (const char* k : {"connectTimeout", "maxConnectionDuration", "idleTimeout"}) check_duration_field(c, tcp, k, tp);
    if (const Json* ka = get_obj(tcp, "tcpKeepalive")) {
      check_duration_field(c, ka, "time", path_field(tp, "tcpKeepalive"));
      check_duration_field(c, ka, "interval", path_field(tp, "tcpKeepalive"));
    }
  }
}

void check_outlier(const Ctx& c, const Json* od, const std::string& p) {
  if (od == nullptr) return;
  check_duration_field(c, od, "baseEjectionTime", p);
  check_duration_field(c, od, "interval", p);
  for (const char* k : {"maxEjectionPercent", "minHealthPercent"})
    if (const auto v = get_int(od, k); v && (*v < 0 || *v > 100))
      c.error(path_field(p, k), "percentage " + std::to_string(*v) + " is not in range 0..100");
  if (has(od, "consecutiveErrors"))
    c.warning(path_field(p, "consecutiveErrors"),
              "outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead");
  check_non_negative(c, od, p, {"consecutiveGatewayErrors", "consecutive5xxErrors"});
  if (!get_bool(od, "splitExternalLocalOriginErrors").value_or(false) &&
      get_wrapped_num(od, "consecutiveLocalOriginFailures").value_or(0) > 0)
    c.error(path_field(p, "consecutiveLocalOriginFailures"),
            "outlier detection consecutive local origin failures is specified, but split external local origin errors "
            "is set to false");
}

void check_load_balancer(const Ctx& c, const Json* lb, const std::string& p) {
  if (lb == nullptr) return;
  const Json* ch = get_obj(lb, "consistentHash");
  if (has(lb, "simple") && ch != nullptr) c.error(p, "only one of simple or consistentHash may be set");
  if (ch != nullptr) {
    const std::string cp = path_field(p, "consistentHash");
    std::vector<std::string> keys;
    for (const char* k : {"httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"})
      if (has(ch, k)) keys.emplace_back(k);
    if (keys.size() != 1)
      c.error(cp, "consistentHash must set exactly one of httpHeaderName, httpCookie, useSourceIp or "
                  "httpQueryParameterName" +
                      (keys.empty() ? std::string(" (none set)") : " (found " + join(keys, ", ") + ")"));
    if (const Json* cookie = get_obj(ch, "httpCookie")) {
      if (get_str(cookie, "name").empty()) c.error(path_field(cp, "httpCookie.name"), "name required for HttpCookie");
      check_duration_field(c, cookie, "ttl", path_field(cp, "httpCookie"));
    }
    if (const Json* ml = get_obj(ch, "maglev")) {
      const auto ts = get_int(ml, "tableSize");
      const std::string tp = path_field(cp, "maglev.tableSize");
      if (!ts || *ts == 0) c.error(tp, "tableSize must be set for maglev");
      else if (*ts >= 5000011) c.error(tp, "tableSize must be less than 5000011 for maglev");
      else if (!is_prime(*ts)) c.error(tp, "tableSize must be a prime number for maglev");
    }
    if (has(ch, "minimumRingSize") && (has(ch, "maglev") || has(ch, "ringHash")))
      c.error(cp, "only one of MinimumRingSize or Maglev/Ringhash can be specified");
  }
  if (const Json* loc = get_obj(lb, "localityLbSetting")) {
    const std::string lp = path_field(p, "localityLbSetting");
    const Json* dist = get_arr(loc, "distribute");
    const Json* fail = get_arr(loc, "failover");
    if (dist != nullptr && !dist->empty() && fail != nullptr && !fail->empty())
      c.error(lp, "can not simultaneously specify 'distribute' and 'failover'");
    each(loc, "distribute", lp, [&](size_t, const Json& d, const std::string& dp) {
      int64_t total = 0;
      bool bad = false;
      each_member(&d, "to", dp, [&](const std::string&, const Json& w, const std::string& wp) {
        const int64_t v = w.is_number_integer() ? w.get<int64_t>() : 0;
        if (v <= 0 || v > 100) {
          c.error(wp, "locality weight must be in range [1, 100]");
          bad = true;
        }
        total += v;
      });
      if (!bad && total != 100) c.error(path_field(dp, "to"), "total locality weight " + std::to_string(total) + " != 100");
    });
    each(loc, "failover", lp, [&](size_t, const Json& f, const std::string& fp) {
      const std::string from = get_str(&f, "from"), to = get_str(&f, "to");
      if (from == to) c.error(fp, "locality lb failover settings must specify different regions");
      if (from.find('/') != std::string::npos || to.find('/') != std::string::npos)
        c.error(fp, "locality lb failover only specify region");
    });
  }
  if (const Json* warm = get_obj(lb, "warmup")) check_duration_field(c, warm, "duration", path_field(p, "warmup"));
  check_duration_field(c, lb, "warmupDurationSecs", p);
}

// ClientTLSSettings (Istio's agent.ValidateTLS).
void check_client_tls(const Ctx& c, const Json* tls, const std::string& p) {
  if (tls == nullptr) return;
  const std::string mode = get_str(tls, "mode");
  const bool cred = !get_str(tls, "credentialName").empty();
  const bool cert = !get_str(tls, "clientCertificate").empty();
  const bool key = !get_str(tls, "privateKey").empty();
  const bool ca = !get_str(tls, "caCertificates").empty();
  // BoolValue wrapper: a bare bool, or {value: bool} from some tools.
  const Json* isv = get(tls, "insecureSkipVerify");
  const bool insecure = isv != nullptr && ((isv->is_boolean() && isv->get<bool>()) || get_bool(isv, "value").value_or(false));
  if (insecure) {
    if (mode == "SIMPLE" && (ca || cred || has(tls, "subjectAltNames")))
      c.error(p, "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true");
    if (mode == "MUTUAL" && (ca || has(tls, "subjectAltNames")))
      c.error(p, "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true");
  }
  if ((mode == "SIMPLE" || mode == "MUTUAL") && cred) {
    if (cert || ca || key || has(tls, "caCrl"))
      c.error(p, "cannot specify client certificates or CA certificate or CA CRL If credentialName is set");
    return;
  }
  if (mode == "MUTUAL") {
    if (!cert) c.error(p, "client certificate required for mutual tls");
    if (!key) c.error(p, "private key required for mutual tls");
  }
  if (mode == "DISABLE" || mode == "ISTIO_MUTUAL") {
    if (cert || key || ca || cred)
      c.error(p, "tls mode " + mode + " does not use certificates: remove clientCertificate, privateKey, "
                                      "caCertificates and credentialName");
  }
}

void check_traffic_policy(const Ctx& c, const Json* tp, const std::string& p, bool port_level) {
  if (tp == nullptr) return;
  bool any = false;
  for (const char* k : {"outlierDetection", "connectionPool", "loadBalancer", "tls", "portLevelSettings", "tunnel",
                        "proxyProtocol"})
    any = any || has(tp, k);
  if (!any) {
    c.error(p, port_level ? "port traffic policy must have at least one field" : "traffic policy must have at least one field");
    return;
  }
  if (has(tp, "tunnel") && has(tp, "proxyProtocol")) c.error(p, "tunnel and proxyProtocol must not be set together");
  check_outlier(c, get_obj(tp, "outlierDetection"), path_field(p, "outlierDetection"));
  check_connection_pool(c, get_obj(tp, "connectionPool"), path_field(p, "connectionPool"));
  check_load_balancer(c, get_obj(tp, "loadBalancer"), path_field(p, "loadBalancer"));
  check_client_tls(c, get_obj(tp, "tls"), path_field(p, "tls"));
  if (const Json* pp = get_obj(tp, "proxyProtocol"))
    if (const std::string v = get_str(pp, "version"); !v.empty() && v != "V1" && v != "V2")
      c.error(path_field(p, "proxyProtocol.version"), "proxy protocol version is invalid: " + v);
  if (port_level) return;
  each(tp, "portLevelSettings", p, [&](size_t, const Json& pls, const std::string& pp) {
    const Json* port = get_obj(&pls, "port");
    if (port == nullptr) c.error(pp, "portTrafficPolicy must have valid port");
    else check_port_field(c, port, "number", path_field(pp, "port"));
    check_traffic_policy(c, &pls, pp, true);
  });
}

}  // namespace

void check_destination_rule(const Ctx& c) {
  const Json* spec = c.spec();
  if (spec == nullptr) return;
  const std::string host = get_str(spec, "host");
  if (host.empty()) c.error("spec.host", "host is required");
  else if (auto e = check_wildcard_domain(host)) c.error("spec.host", *e);
  check_traffic_policy(c, get_obj(spec, "trafficPolicy"), "spec.trafficPolicy", false);
  std::set<std::string> names;
  each(spec, "subsets", "spec", [&](size_t, const Json& s, const std::string& sp) {
    if (!s.is_object()) return;
    const std::string name = get_str(&s, "name");
    if (name.empty()) c.error(path_field(sp, "name"), "subset name cannot be empty");
    else if (!is_dns1123_label(name)) c.error(path_field(sp, "name"), "subset name is invalid: " + name);
    else if (!names.insert(name).second) c.error(path_field(sp, "name"), "duplicate subset names: " + name);
    const Json* labels = get_obj(&s, "labels");
    if (labels == nullptr || labels->empty())
      c.warning(path_field(sp, "labels"), "subset " + quote(name) + " has no labels: it selects every endpoint of the host");
    check_labels_map(c, &s, "labels", sp);
    check_traffic_policy(c, get_obj(&s, "trafficPolicy"), path_field(sp, "trafficPolicy"), false);
  });
  const Json* ws = get_obj(spec, "workloadSelector");
  check_workload_selector(c, ws, "matchLabels", "spec.workloadSelector");
  check_export_to(c, spec, false);
  if (ws != nullptr) {
    const Json* ex = get_arr(spec, "exportTo");
    if (ex != nullptr)
      for (const Json& e : *ex)
        if (e.is_string() && e.get<std::string>() != "." && e.get<std::string>() != c.r.ns)
          c.error("spec.exportTo", "destination rule with workload selector cannot have exportTo beyond current namespace");
  }
}

}  // namespace lg::ctrl::validate
