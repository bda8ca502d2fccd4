// Gateway checks beyond the CRD schema, after Istio's ValidateGateway and
// validateServer/validateTLSOptions, plus linegate's limits: passthrough only
// on TLS servers, known cipher suite names, ordered protocol versions.
#include "ctrl/validate/checks.h"
#include "ctrl/validate/hosts.h"

#include <set>

namespace lg::ctrl::validate {

namespace {

// Cipher suite names Envoy/Istio accept (Istio's security.ValidCipherSuites,
// OpenSSL/BoringSSL spelling).
const std::set<std::string>& known_ciphers() {
  static const std::set<std::string> s = {
      "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
      "ECDHE-RSA-AES256-GCM-SHA384",   "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
      "ECDHE-PSK-CHACHA20-POLY1305",   "ECDHE-ECDSA-AES128-SHA",        "ECDHE-RSA-AES128-SHA",
      "ECDHE-PSK-AES128-CBC-SHA",      "ECDHE-ECDSA-AES256-SHA",        "ECDHE-RSA-AES256-SHA",
      "ECDHE-PSK-AES256-CBC-SHA",      "AES128-GCM-SHA256",             "AES256-GCM-SHA384",
      "AES128-SHA",                    "PSK-AES128-CBC-SHA",            "AES256-SHA",
      "PSK-AES256-CBC-SHA",            "DES-CBC3-SHA"};
  return s;
}

int tls_version_rank(const std::string& v) {
  if (v == "TLSV1_0") return 10;
  if (v == "TLSV1_1") return 11;
  if (v == "TLSV1_2") return 12;
  if (v == "TLSV1_3") return 13;
  return 0;  // TLS_AUTO / unset: no constraint
}

void check_server_tls(const Ctx& c, const Json* tls, const std::string& proto, const std::string& tp) {
  // ServerTLSSettings.TLSmode's zero value is PASSTHROUGH.
  const std::string mode = has(tls, "mode") ? get_str(tls, "mode") : "PASSTHROUGH";
  // credentialNames (Istio 1.22+): an RSA and an ECDSA credential.
  const bool cred = !get_str(tls, "credentialName").empty() || has(tls, "credentialNames");
  const bool cert = !get_str(tls, "serverCertificate").empty();
  const bool key = !get_str(tls, "privateKey").empty();
  const bool ca = !get_str(tls, "caCertificates").empty();
  const bool https_redirect = get_bool(tls, "httpsRedirect").value_or(false);

  const std::string minv = get_str(tls, "minProtocolVersion"), maxv = get_str(tls, "maxProtocolVersion");
  if (tls_version_rank(minv) != 0 && tls_version_rank(maxv) != 0 && tls_version_rank(minv) > tls_version_rank(maxv))
    c.error(path_field(tp, "minProtocolVersion"),
            "minProtocolVersion " + minv + " is greater than maxProtocolVersion " + maxv);
  if ((minv == "TLSV1_0" || minv == "TLSV1_1") && get_arr(tls, "cipherSuites") == nullptr)
    c.warning(path_field(tp, "minProtocolVersion"),
              "TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include "
              "compatible ciphers.");
  std::set<std::string> seen;
  each(tls, "cipherSuites", tp, [&](size_t, const Json& cs, const std::string& p) {
    if (!cs.is_string()) return;
    const std::string name = cs.get<std::string>();
    if (known_ciphers().count(name) == 0) c.error(p, "unknown cipher suite " + quote(name));
    else if (!seen.insert(name).second) c.warning(p, "duplicate cipher suite " + quote(name));
  });

  if (protocol_is_http(proto)) {
    // Plain HTTP servers may only carry httpsRedirect.
    if (cert || key || ca || cred || (!https_redirect && has(tls, "mode")))
      c.error(tp, "server cannot have TLS settings for plain text HTTP ports");
    return;
  }
  if (!protocol_is_tls(proto)) {
    c.error(tp, "server cannot have TLS settings for non HTTPS/TLS ports");
    return;
  }
  const std::string mp = path_field(tp, "mode");
  if (mode == "ISTIO_MUTUAL") {
    if (cert) c.error(path_field(tp, "serverCertificate"), "ISTIO_MUTUAL TLS cannot have associated server certificate");
    if (key) c.error(path_field(tp, "privateKey"), "ISTIO_MUTUAL TLS cannot have associated private key");
    if (ca) c.error(path_field(tp, "caCertificates"), "ISTIO_MUTUAL TLS cannot have associated CA bundle");
    if (cred) c.error(path_field(tp, "credentialName"), "ISTIO_MUTUAL TLS cannot have associated credentialName");
    return;
  }
  if (mode == "PASSTHROUGH" || mode == "AUTO_PASSTHROUGH") {
    if (proto != "TLS")
      c.error(mp, mode + " mode is only supported on servers with protocol TLS, not " + proto +
                      (has(tls, "mode") ? "" : " (PASSTHROUGH is the default when tls.mode is unset)"));
    if (cert || key || ca || cred || has(tls, "caCrl"))
      c.warning(tp, mode + " mode does not use certificates, they will be ignored");
    return;
  }
  const bool mutual = mode == "MUTUAL" || mode == "OPTIONAL_MUTUAL";
  if (has(tls, "caCrl")) {
    if (cred) c.error(path_field(tp, "caCrl"), "CRL is not supported with credentialName. CRL has to be specified in the credential");
    if (mode == "SIMPLE") c.error(path_field(tp, "caCrl"), "CRL is not supported with SIMPLE TLS");
  }
  if (cred) return;  // certificate, key and CA come from the Secret (checked across resources)
  if (mode == "SIMPLE" || mutual) {
    const std::string m = mode == "SIMPLE" ? "SIMPLE" : "MUTUAL";
    if (!cert) c.error(tp, m + " TLS requires a server certificate (serverCertificate or credentialName)");
    if (!key) c.error(tp, m + " TLS requires a private key (privateKey or credentialName)");
    if (mutual && !ca) c.error(tp, "MUTUAL TLS requires a client CA bundle (caCertificates or credentialName)");
  }
}

}  // namespace

void check_gateway(const Ctx& c) {
  if (!is_dns1123_label(c.r.name)) c.error("metadata.name", "invalid gateway name: " + quote(c.r.name));
  const Json* spec = c.spec();
  if (spec == nullptr) return;
  check_workload_selector(c, get_obj(spec, "selector") != nullptr ? spec : nullptr, "selector", "spec");
  const Json* servers = get_arr(spec, "servers");
  if (servers == nullptr || servers->empty()) {
    c.error("spec.servers", "gateway must have at least one server");
    return;
  }
  std::set<std::string> port_names;
  each(spec, "servers", "spec", [&](size_t, const Json& s, const std::string& sp) {
    if (!s.is_object()) return;
    const Json* hosts = get_arr(&s, "hosts");
    if (hosts == nullptr || hosts->empty()) c.error(path_field(sp, "hosts"), "server config must contain at least one host");
    each(&s, "hosts", sp, [&](size_t, const Json& h, const std::string& hp) {
      if (!h.is_string()) return;
      if (auto e = check_namespace_slash_host(h.get<std::string>(), true)) c.error(hp, *e);
    });

    const Json* port = get_obj(&s, "port");
    const std::string pp = path_field(sp, "port");
    std::string proto;
    if (port == nullptr) {
      c.error(pp, "port is required");
    } else {
      const std::string raw = get_str(port, "protocol");
      proto = canonical_protocol(raw);
      if (proto.empty() || proto == "UDP" || proto == "HTTP_PROXY")
        c.error(path_field(pp, "protocol"), "invalid protocol " + quote(raw) +
                                                ", supported protocols are HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TLS, "
                                                "MONGO, REDIS, MYSQL, TCP");
      const auto num = get_int(port, "number");
      if (!num) c.error(path_field(pp, "number"), "port number is required");
      else check_port_field(c, port, "number", pp);
      if (get_int(port, "targetPort").value_or(0) > 0) c.error(path_field(pp, "targetPort"), "targetPort has no impact on Gateways");
      const std::string name = get_str(port, "name");
      if (name.empty()) c.error(path_field(pp, "name"), "port name must be set");
      else if (!port_names.insert(name).second)
        c.error(path_field(pp, "name"), "port names in servers must be unique: duplicate name " + name);
    }
    const std::string bind = get_str(&s, "bind");
    if (!bind.empty() && bind.rfind("unix://", 0) != 0 && !is_ip_address(bind))
      c.error(path_field(sp, "bind"), bind + " is not a valid IP");

    const Json* tls = get_obj(&s, "tls");
    const std::string tp = path_field(sp, "tls");
    if (proto.empty()) return;
    if (tls == nullptr) {
      if (protocol_is_tls(proto)) c.error(tp, "server must have TLS settings for HTTPS/TLS protocols");
      return;
    }
    if (get_bool(tls, "httpsRedirect").value_or(false) && !protocol_is_http(proto))
      c.warning(path_field(tp, "httpsRedirect"), "tls.httpsRedirect should only be used with http servers");
    check_server_tls(c, tls, proto, tp);
  });
}

}  // namespace lg::ctrl::validate
