// VirtualService checks beyond the CRD schema, after Istio's webhook
// (pkg/config/validation/virtualservice.go and validation.go) with linegate's
// own limits: one of route/redirect/directResponse per HTTP route, weights
// that add up to 100, and regexes the Hyperscan router can run.
#include "ctrl/validate/checks.h"
#include "ctrl/validate/hosts.h"
#include "ctrl/validate/regex.h"

#include <cctype>
#include <set>

namespace lg::ctrl::validate {

namespace {

// Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies
// (envoyproxy.io router filter docs), as Istio's webhook lists them.
const std::set<std::string>& retry_on_policies() {
  static const std::set<std::string> s = {
      "5xx",       "gateway-error",     "reset",    "reset-before-request", "connect-failure",
      "retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers", "envoy-ratelimited",
      "http3-post-connect-failure", "cancelled", "deadline-exceeded", "internal", "resource-exhausted",
      "unavailable"};
  return s;
}

// gRPC status names (grpc/doc/statuscodes.md).
const std::set<std::string>& grpc_statuses() {
  static const std::set<std::string> s = {
      "OK",        "CANCELLED",         "UNKNOWN",        "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  return s;
}

const std::set<std::string>& http_methods() {
  static const std::set<std::string> s = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"};
  return s;
}

bool header_name_chars_ok(std::string_view n) {
  if (n.empty()) return false;
  for (char ch : n)
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0 && ch != '-' && ch != '_') return false;
  return true;
}

bool has_upper(std::string_view n) {
  for (char ch : n)
    if (std::isupper(static_cast<unsigned char>(ch)) != 0) return true;
  return false;
}

struct VsCtx {
  const Ctx& c;
  bool applies_to_gateway = false;
  std::vector<std::string> hosts;
};

// StringMatch: exactly one of exact/prefix/regex; an empty match is allowed
// where Istio gives it a meaning (header/query presence).
void check_string_match(const Ctx& c, const Json& m, const std::string& path, bool empty_ok) {
  if (!m.is_object()) return;
  std::vector<std::string> set;
  for (const char* k : {"exact", "prefix", "regex"})
    if (has(&m, k)) set.emplace_back(k);
  if (set.empty()) {
    if (!empty_ok) c.error(path, "exactly one of exact, prefix or regex must be set");
    return;
  }
  if (set.size() > 1) {
    c.error(path, "only one of exact, prefix or regex may be set (found " + join(set, " and ") + ")");
    return;
  }
  const Json* re = get(&m, "regex");
  if (re != nullptr && re->is_string()) {
    const std::string s = re->get<std::string>();
    if (s.empty()) c.error(path_field(path, "regex"), "regex string match should not be empty");
    else if (auto e = check_route_regex(s)) c.error(path_field(path, "regex"), *e);
  }
}

void check_match_header_name(const VsCtx& v, const std::string& name, const std::string& path) {
  static const std::string claim_prefix = "@request.auth.claims.";
  if (name.rfind(claim_prefix, 0) == 0) {
    if (!v.applies_to_gateway)
      v.c.error(path, "JWT claim based routing (key: " + name + ") is only supported for gateway");
    return;
  }
  if (!header_name_chars_ok(name)) {
    v.c.error(path, "header name " + name + " is not a valid header name");
    return;
  }
  // Istio's API: "The header keys must be lowercase and use hyphen as the separator".
  if (has_upper(name)) v.c.error(path, "header name " + name + " must be lowercase");
}

void check_gateway_names(const Ctx& c, const Json* parent, const std::string& base) {
  each(parent, "gateways", base, [&](size_t, const Json& g, const std::string& p) {
    if (!g.is_string()) return;
    const std::string name = g.get<std::string>();
    if (name == "mesh") return;
    const size_t slash = name.find('/');
    if (slash == std::string::npos) {
      if (name.find('.') != std::string::npos) {
        const size_t dot = name.find('.');
        const size_t dot2 = name.find('.', dot + 1);
        const std::string recommended =
            name.substr(dot + 1, dot2 == std::string::npos ? std::string::npos : dot2 - dot - 1) + "/" + name.substr(0, dot);
        c.warning(p, "using legacy gatewayName format " + quote(name) + "; prefer the <namespace>/<name> format: " +
                         quote(recommended));
        if (auto e = check_fqdn(name)) c.error(p, *e);
      } else if (!is_dns1123_label(name)) {
        c.error(p, "invalid value for gateway name: " + quote(name));
      }
      return;
    }
    const std::string ns = name.substr(0, slash), gw = name.substr(slash + 1);
    if (ns.empty() || gw.empty()) {
      c.error(p, "config namespace and gateway name cannot be empty");
      return;
    }
    if (!is_dns1123_label(ns)) c.error(p, "invalid value for namespace: " + quote(ns));
    if (!is_dns1123_label(gw)) c.error(p, "invalid value for gateway name: " + quote(gw));
  });
}

void check_header_value(const Ctx& c, const Json& v, const std::string& p) {
  if (!v.is_string()) return;
  for (unsigned char ch : v.get<std::string>())
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
      c.error(p, "header value configuration " + quote(v.get<std::string>()) + " is invalid");
      return;
    }
}

// Headers {request|response: {set, add, remove}}.
void check_header_ops(const Ctx& c, const Json* parent, const std::string& base) {
  const Json* h = get_obj(parent, "headers");
  if (h == nullptr) return;
  const std::string hp = path_field(base, "headers");
  for (const char* dir : {"request", "response"}) {
    const Json* d = get_obj(h, dir);
    const std::string dp = path_field(hp, dir);
    const bool request = std::string_view(dir) == "request";
    for (const char* op : {"set", "add"}) {
      each_member(d, op, dp, [&](const std::string& name, const Json& val, const std::string& p) {
        if (name.empty()) c.error(p, "header name cannot be empty");
        else if (request && (iequals(name, ":authority") || iequals(name, "host"))) {
          // Rewriting the authority is allowed on requests.
        } else if (!request && iequals(name, "host")) {
          c.error(p, "invalid header " + quote(name) + ": cannot set Host header");
        } else if (name[0] == ':') {
          c.error(p, "invalid header " + quote(name) + ": header cannot have \":\" prefix");
        }
        check_header_value(c, val, p);
      });
    }
    each(d, "remove", dp, [&](size_t, const Json& n, const std::string& p) {
      if (!n.is_string()) return;
      const std::string name = n.get<std::string>();
      if (name.empty()) c.error(p, "header name cannot be empty");
      else if (iequals(name, "host")) c.error(p, "invalid header " + quote(name) + ": cannot set Host header");
      else if (name[0] == ':') c.error(p, "invalid header " + quote(name) + ": header cannot have \":\" prefix");
    });
  }
}

void check_destination(const Ctx& c, const Json* dest, const std::string& p) {
  if (dest == nullptr) return;
  const Json* host = get(dest, "host");
  if (host == nullptr || !host->is_string() || host->get<std::string>().empty()) {
    c.error(path_field(p, "host"), "destination host is required");
  } else {
    const std::string h = host->get<std::string>();
    if (h == "*") c.error(path_field(p, "host"), "invalid destination host *");
    else if (auto e = check_wildcard_domain(h)) c.error(path_field(p, "host"), *e);
  }
  const Json* subset = get(dest, "subset");
  if (subset != nullptr && subset->is_string()) {
    const std::string s = subset->get<std::string>();
    if (s.empty()) c.error(path_field(p, "subset"), "subset name cannot be empty");
    else if (!is_dns1123_label(s)) c.error(path_field(p, "subset"), "subset name is invalid: " + s);
  }
  check_port_field(c, get_obj(dest, "port"), "number", path_field(p, "port"));
}

// Route destinations of http/tcp/tls routes; weights add up to 100 when
// traffic is split (a lone destination takes all traffic, weight or not).
void check_route_destinations(const Ctx& c, const Json* route, const std::string& base, bool http) {
  const Json* arr = get_arr(route, "route");
  if (arr == nullptr) return;
  const std::string rp = path_field(base, "route");
  int64_t total = 0;
  for (size_t i = 0; i < arr->size(); ++i) {
    const Json& rd = (*arr)[i];
    const std::string p = path_index(rp, i);
    if (!rd.is_object()) continue;
    const Json* dest = get_obj(&rd, "destination");
    if (dest == nullptr) c.error(path_field(p, "destination"), "destination is required");
    check_destination(c, dest, path_field(p, "destination"));
    const auto w = get_int(&rd, "weight");
    if (w && *w < 0) c.error(path_field(p, "weight"), "weight " + std::to_string(*w) + " < 0");
    if (w) total += *w;
    if (http) check_header_ops(c, &rd, p);
  }
  if (arr->size() > 1 && total != 100)
    c.error(rp, "weights sum to " + std::to_string(total) + ", expected 100");
}

void check_percentage(const Ctx& c, const Json* parent, const std::string& base) {
  // Percent {value: double}: 0, or 0.0001..100 (Istio's validatePercentage).
  const Json* pct = get(parent, "percentage");
  if (pct != nullptr) {
    const auto v = pct->is_number() ? std::optional<double>(pct->get<double>()) : get_num(pct, "value");
    if (v && (*v < 0.0 || *v > 100.0 || (*v > 0.0 && *v < 0.0001))) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", *v);
      c.error(path_field(base, "percentage"),
              std::string("percentage ") + buf + " is neither 0.0, nor in range [0.0001, 100.0]");
    }
  }
  if (const auto legacy = get_int(parent, "percent")) {
    if (*legacy < 0 || *legacy > 100)
      c.error(path_field(base, "percent"), "percentage " + std::to_string(*legacy) + " is not in range 0..100");
  }
}

void check_fault(const Ctx& c, const Json* http, const std::string& base) {
  const Json* fault = get_obj(http, "fault");
  if (fault == nullptr) return;
  const std::string fp = path_field(base, "fault");
  const Json* abort = get_obj(fault, "abort");
  const Json* delay = get_obj(fault, "delay");
  if (abort == nullptr && delay == nullptr) c.error(fp, "HTTP fault injection must have an abort and/or a delay");
  if (abort != nullptr) {
    const std::string ap = path_field(fp, "abort");
    check_percentage(c, abort, ap);
    if (const auto st = get_int(abort, "httpStatus")) {
      if (*st < 200 || *st > 599)
        c.error(path_field(ap, "httpStatus"), "HTTP status " + std::to_string(*st) + " is not in range 200-599");
    } else if (has(abort, "grpcStatus")) {
      const std::string g = get_str(abort, "grpcStatus");
      if (grpc_statuses().count(g) == 0)
        c.error(path_field(ap, "grpcStatus"), "gRPC status " + quote(g) +
                                                  " is not supported. See https://github.com/grpc/grpc/blob/master/doc/"
                                                  "statuscodes.md for a list of supported codes, for example 'NOT_FOUND'");
    } else if (has(abort, "http2Error")) {
      c.error(path_field(ap, "http2Error"), "HTTP/2 abort fault injection not supported yet");
    } else {
      c.error(ap, "abort requires httpStatus or grpcStatus");
    }
  }
  if (delay != nullptr) {
    const std::string dp = path_field(fp, "delay");
    check_percentage(c, delay, dp);
    if (has(delay, "fixedDelay")) {
      check_duration_field(c, delay, "fixedDelay", dp);
    } else if (has(delay, "exponentialDelay")) {
      c.error(path_field(dp, "exponentialDelay"), "exponentialDelay not supported yet");
    } else {
      c.error(dp, "delay requires fixedDelay");
    }
  }
}

void check_retries(const Ctx& c, const Json* http, const std::string& base) {
  const Json* r = get_obj(http, "retries");
  if (r == nullptr) return;
  const std::string rp = path_field(base, "retries");
  const auto attempts = get_int(r, "attempts");
  if (attempts && *attempts < 0) c.error(path_field(rp, "attempts"), "attempts cannot be negative");
  if (attempts.value_or(0) == 0 && (has(r, "perTryTimeout") || !get_str(r, "retryOn").empty() ||
                                    has(r, "retryRemoteLocalities")))
    c.error(rp, "http retry policy configured when attempts are set to 0 (disabled)");
  check_duration_field(c, r, "perTryTimeout", rp);
  const std::string on = get_str(r, "retryOn");
  if (on.empty()) return;
  size_t start = 0;
  while (start <= on.size()) {
    const size_t comma = on.find(',', start);
    const std::string policy = on.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    bool ok = retry_on_policies().count(policy) != 0;
    if (!ok && !policy.empty() && policy.size() <= 3) {
      // A bare HTTP status code (retriable-status-codes).
      bool digits = true;
      for (char ch : policy) digits = digits && std::isdigit(static_cast<unsigned char>(ch)) != 0;
      const int code = digits ? std::stoi(policy) : 0;
      ok = digits && code >= 100 && code <= 599;
    }
    if (!ok) c.error(path_field(rp, "retryOn"), quote(policy) + " is not a valid retryOn policy");
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

void check_redirect(const Ctx& c, const Json* redirect, const std::string& rp) {
  if (!has(redirect, "uri") && !has(redirect, "authority") && !has(redirect, "port") && !has(redirect, "scheme") &&
      !has(redirect, "derivePort"))
    c.error(rp, "redirect must specify URI, authority, scheme, or port");
  if (const auto code = get_int(redirect, "redirectCode")) {
    // The codes Envoy's RedirectAction can send.
    if (*code != 301 && *code != 302 && *code != 303 && *code != 307 && *code != 308)
      c.error(path_field(rp, "redirectCode"),
              "redirectCode " + std::to_string(*code) + " is not supported: expected one of 301, 302, 303, 307, 308");
  }
  const std::string scheme = get_str(redirect, "scheme");
  if (has(redirect, "scheme") && scheme != "http" && scheme != "https")
    c.error(path_field(rp, "scheme"), "invalid redirect scheme, must be \"http\" or \"https\"");
  check_port_field(c, redirect, "port", rp);
}

void check_rewrite(const Ctx& c, const Json* rw, const std::string& rp) {
  const bool uri = !get_str(rw, "uri").empty();
  const Json* rr = get_obj(rw, "uriRegexRewrite");
  if (uri && rr != nullptr) c.error(rp, "rewrite may only contain one of URI or UriRegexRewrite");
  if (!uri && rr == nullptr && get_str(rw, "authority").empty())
    c.error(rp, "rewrite must specify at least one of URI, UriRegexRewrite, or authority");
  if (rr != nullptr) {
    const std::string rrp = path_field(rp, "uriRegexRewrite");
    const std::string m = get_str(rr, "match");
    if (m.empty() || !has(rr, "rewrite"))
      c.error(rrp, "UriRegexRewrite requires both Rewrite and Match fields to be specified");
    else if (auto e = check_route_regex(m)) c.error(path_field(rrp, "match"), *e);
  }
}

void check_cors(const Ctx& c, const Json* http, const std::string& base) {
  const Json* cors = get_obj(http, "corsPolicy");
  if (cors == nullptr) return;
  const std::string cp = path_field(base, "corsPolicy");
  each(cors, "allowOrigins", cp, [&](size_t, const Json& o, const std::string& p) {
    if (!o.is_object()) return;
    std::string value;
    for (const char* k : {"exact", "prefix", "regex"}) value += get_str(&o, k);
    if (value.empty()) {
      c.error(p, "'' is not a valid match type for CORS allow origins");
      return;
    }
    check_string_match(c, o, p, false);
  });
  if (has(cors, "allowOrigin"))
    c.warning(path_field(cp, "allowOrigin"), "allowOrigin is deprecated, use allowOrigins instead");
  each(cors, "allowMethods", cp, [&](size_t, const Json& m, const std::string& p) {
    if (m.is_string() && http_methods().count(m.get<std::string>()) == 0)
      c.error(p, quote(m.get<std::string>()) + " is not a supported HTTP method");
  });
  for (const char* k : {"allowHeaders", "exposeHeaders"}) {
    each(cors, k, cp, [&](size_t, const Json& h, const std::string& p) {
      if (!h.is_string()) return;
      const std::string n = h.get<std::string>();
      if (n.empty()) c.error(p, "header name cannot be empty");
      else if (n != "*" && !header_name_chars_ok(n)) c.error(p, "header name " + n + " is not a valid header name");
    });
  }
  check_duration_field(c, cors, "maxAge", cp);
}

void check_mirror_percentage(const Ctx& c, const Json* parent, std::string_view key, const std::string& base) {
  const auto v = get_wrapped_num(parent, key);
  if (!v) return;
  if (*v < 0.0 || *v > 100.0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", *v);
    c.error(path_field(base, std::string(key)), std::string(key) + " must be in range 0..100 (it has " + buf + ")");
  }
}

void check_http_match(const VsCtx& v, const Json& m, const std::string& p) {
  const Ctx& c = v.c;
  if (!m.is_object()) return;
  for (const char* k : {"uri", "scheme", "method", "authority"}) {
    const Json* sm = get_obj(&m, k);
    if (sm != nullptr) check_string_match(c, *sm, path_field(p, k), false);
  }
  for (const char* k : {"headers", "withoutHeaders"}) {
    each_member(&m, k, p, [&](const std::string& name, const Json& sm, const std::string& hp) {
      check_match_header_name(v, name, hp);
      check_string_match(c, sm, hp, true);
    });
  }
  each_member(&m, "queryParams", p, [&](const std::string& name, const Json& sm, const std::string& qp) {
    if (name.empty()) c.error(qp, "query parameter name cannot be empty");
    check_string_match(c, sm, qp, true);
  });
  check_port_field(c, &m, "port", p);
  check_labels_map(c, &m, "sourceLabels", p);
  const std::string sns = get_str(&m, "sourceNamespace");
  if (!sns.empty() && !is_dns1123_label(sns))
    c.error(path_field(p, "sourceNamespace"), "sourceNamespace match " + sns + " is invalid");
  check_gateway_names(c, &m, p);
}

void check_http_route(const VsCtx& v, const Json& http, const std::string& p) {
  const Ctx& c = v.c;
  if (!http.is_object()) return;
  const Json* h = &http;
  std::vector<std::string> actions;
  if (get_arr(h, "route") != nullptr && !get_arr(h, "route")->empty()) actions.emplace_back("route");
  const Json* redirect = get_obj(h, "redirect");
  if (redirect != nullptr) actions.emplace_back("redirect");
  const Json* direct = get_obj(h, "directResponse");
  if (direct != nullptr) actions.emplace_back("directResponse");
  if (has(h, "delegate")) {
    c.error(path_field(p, "delegate"), "delegate VirtualServices are not supported by linegate");
  } else if (actions.empty()) {
    c.error(p, "HTTP route, redirect or directResponse is required");
  } else if (actions.size() > 1) {
    std::string list = actions[0];
    for (size_t i = 1; i < actions.size(); ++i) list += (i + 1 == actions.size() ? " and " : ", ") + actions[i];
    c.error(p, "HTTP route cannot contain both " + list + ": exactly one of route, redirect or directResponse is allowed");
  }
  if (redirect != nullptr) {
    if (has(h, "fault")) c.error(p, "HTTP route cannot contain both fault and redirect");
    if (has(h, "rewrite")) c.error(p, "HTTP route rule cannot contain both rewrite and redirect");
    check_redirect(c, redirect, path_field(p, "redirect"));
  }
  if (direct != nullptr) {
    const std::string dp = path_field(p, "directResponse");
    const auto st = get_int(direct, "status");
    if (!st) c.error(path_field(dp, "status"), "directResponse status is required");
    else if (*st < 200 || *st > 599)
      c.error(path_field(dp, "status"), "HTTP status " + std::to_string(*st) + " is not in range 200-599");
    const Json* body = get_obj(direct, "body");
    if (body != nullptr && get_str(body, "string").size() + get_str(body, "bytes").size() > 1024 * 1024)
      c.error(path_field(dp, "body"), "large direct_responses may impact control plane performance, must be less than 1MB");
  }
  each(h, "match", p, [&](size_t, const Json& m, const std::string& mp) { check_http_match(v, m, mp); });
  check_route_destinations(c, h, p, true);
  check_header_ops(c, h, p);
  check_cors(c, h, p);
  check_fault(c, h, p);
  check_retries(c, h, p);
  if (const Json* rw = get_obj(h, "rewrite")) check_rewrite(c, rw, path_field(p, "rewrite"));
  check_duration_field(c, h, "timeout", p);
  if (const Json* mirror = get_obj(h, "mirror")) check_destination(c, mirror, path_field(p, "mirror"));
  if (has(h, "mirrorPercent")) {
    c.warning(path_field(p, "mirrorPercent"), "using deprecated setting \"mirrorPercent\", use \"mirrorPercentage\" instead");
    if (const auto mp = get_int(h, "mirrorPercent"); mp && (*mp < 0 || *mp > 100))
      c.error(path_field(p, "mirrorPercent"), "mirror_percent must have a max value of 100 (it has " + std::to_string(*mp) + ")");
  }
  check_mirror_percentage(c, h, "mirrorPercentage", p);
  each(h, "mirrors", p, [&](size_t, const Json& m, const std::string& mp) {
    const Json* d = get_obj(&m, "destination");
    if (d == nullptr) c.error(mp, "destination is required for mirrors");
    check_destination(c, d, path_field(mp, "destination"));
    check_mirror_percentage(c, &m, "percentage", mp);
  });
}

void check_l4_match_common(const Ctx& c, const Json& m, const std::string& p) {
  each(&m, "destinationSubnets", p, [&](size_t, const Json& s, const std::string& sp) {
    if (s.is_string())
      if (auto e = check_ip_or_cidr(s.get<std::string>())) c.error(sp, *e);
  });
  check_port_field(c, &m, "port", p);
  check_labels_map(c, &m, "sourceLabels", p);
  check_gateway_names(c, &m, p);
}

void check_tls_route(const VsCtx& v, const Json& tls, const std::string& p) {
  const Ctx& c = v.c;
  if (!tls.is_object()) return;
  const Json* matches = get_arr(&tls, "match");
  if (matches == nullptr || matches->empty()) c.error(p, "TLS route must have at least one match condition");
  each(&tls, "match", p, [&](size_t, const Json& m, const std::string& mp) {
    if (!m.is_object()) return;
    const Json* sni = get_arr(&m, "sniHosts");
    if (sni == nullptr || sni->empty()) c.error(mp, "TLS match must have at least one SNI host");
    each(&m, "sniHosts", mp, [&](size_t, const Json& s, const std::string& sp) {
      if (!s.is_string()) return;
      const std::string h = s.get<std::string>();
      if (auto e = check_wildcard_domain(h)) {
        if (is_ip_address(h)) c.warning(sp, "using an IP address (" + quote(h) + ") goes against SNI spec and most clients do not support this");
        else c.error(sp, *e);
        return;
      }
      for (const std::string& vh : v.hosts)
        if (host_subset_of(h, vh)) return;
      c.error(sp, "SNI host " + quote(h) + " is not a compatible subset of any of the virtual service hosts: [" +
                      join(v.hosts, ", ") + "]");
    });
    check_l4_match_common(c, m, mp);
  });
  const Json* route = get_arr(&tls, "route");
  if (route == nullptr || route->empty()) c.error(p, "TLS route is required");
  check_route_destinations(c, &tls, p, false);
}

void check_tcp_route(const VsCtx& v, const Json& tcp, const std::string& p) {
  const Ctx& c = v.c;
  if (!tcp.is_object()) return;
  each(&tcp, "match", p, [&](size_t, const Json& m, const std::string& mp) {
    if (m.is_object()) check_l4_match_common(c, m, mp);
  });
  const Json* route = get_arr(&tcp, "route");
  if (route == nullptr || route->empty()) c.error(p, "TCP route is required");
  check_route_destinations(c, &tcp, p, false);
}

}  // namespace

void check_virtual_service(const Ctx& c) {
  const Json* spec = c.spec();
  if (spec == nullptr) return;
  VsCtx v{c, false, {}};
  const Json* gateways = get_arr(spec, "gateways");
  if (gateways != nullptr && !gateways->empty()) {
    v.applies_to_gateway = true;
    for (const Json& g : *gateways)
      if (g.is_string() && g.get<std::string>() == "mesh") v.applies_to_gateway = false;
  }
  check_gateway_names(c, spec, "spec");

  const Json* hosts = get_arr(spec, "hosts");
  if (hosts == nullptr || hosts->empty()) {
    c.error("spec.hosts", "at least one host is required (delegate VirtualServices are not supported by linegate)");
  } else {
    bool all_valid = true;
    for (size_t i = 0; i < hosts->size(); ++i) {
      if (!(*hosts)[i].is_string()) continue;
      const std::string h = (*hosts)[i].get<std::string>();
      const std::string p = path_index("spec.hosts", i);
      v.hosts.push_back(h);
      if (auto e = check_wildcard_domain(h)) {
        if (!is_ip_address(h)) {
          c.error(p, *e);
          all_valid = false;
        }
      } else if (h == "*" && !v.applies_to_gateway) {
        c.error(p, "wildcard host * is not allowed for virtual services bound to the mesh gateway");
        all_valid = false;
      }
    }
    if (all_valid)
      for (size_t i = 0; i < v.hosts.size(); ++i)
        for (size_t j = i + 1; j < v.hosts.size(); ++j)
          if (host_matches(v.hosts[i], v.hosts[j]))
            c.error("spec.hosts", "duplicate hosts in virtual service: " + v.hosts[i] + " & " + v.hosts[j]);
  }

  const auto count = [&](const char* k) { const Json* a = get_arr(spec, k); return a == nullptr ? size_t{0} : a->size(); };
  if (count("http") + count("tcp") + count("tls") == 0)
    c.error("spec", "http, tcp or tls must be provided in virtual service");
  each(spec, "http", "spec", [&](size_t, const Json& h, const std::string& p) { check_http_route(v, h, p); });
  each(spec, "tls", "spec", [&](size_t, const Json& t, const std::string& p) { check_tls_route(v, t, p); });
  each(spec, "tcp", "spec", [&](size_t, const Json& t, const std::string& p) { check_tcp_route(v, t, p); });
  check_export_to(c, spec, false);

  // Unreachable rules (istioctl's VirtualServiceUnreachableRule): a rule
  // without match catches everything, so nothing after it is used.
  const Json* http = get_arr(spec, "http");
  if (http != nullptr) {
    for (size_t i = 0; i + 1 < http->size(); ++i) {
      const Json* m = get_arr(&(*http)[i], "match");
      if (m == nullptr || m->empty()) {
        c.warning(path_index("spec.http", i + 1),
                  "VirtualService rule #" + std::to_string(i + 1) + " not used (only the last rule can have no matches)");
        break;
      }
    }
  }
}

}  // namespace lg::ctrl::validate
