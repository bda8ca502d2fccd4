// Kubernetes Service, Endpoints, EndpointSlice and Secret: what linegate
// needs of them as registry and credential sources (the API server's own
// structural checks are in ctrl/crd). TLS material is parsed with OpenSSL so
// a bad certificate is reported here, not as a failed handshake on the node.
#include "ctrl/ca/ossl.h"
#include "ctrl/validate/checks.h"
#include "ctrl/validate/hosts.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <set>

namespace lg::ctrl::validate {

namespace {

// RFC 4648 base64 as Kubernetes stores Secret data; whitespace is skipped.
std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  unsigned buf = 0;
  int bits = 0, pad = 0;
  for (char ch : in) {
    int v;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    else if (ch == '+') v = 62;
    else if (ch == '/') v = 63;
    else if (ch == '=') {
      ++pad;
      continue;
    } else if (ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t') continue;
    else return std::nullopt;
    if (pad != 0) return std::nullopt;  // data after padding
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  if (pad > 2) return std::nullopt;
  return out;
}

using ca::PkeyPtr;
using ca::read_certs;
using ca::read_key;
using ca::X509Ptr;

// Secret values by key: data (base64) and stringData (plain), stringData winning as in the API server.
struct SecretData {
  std::vector<std::pair<std::string, std::string>> values;  // key → decoded
  const std::string* find(std::string_view k) const {
    for (const auto& [kk, v] : values)
      if (kk == k) return &v;
    return nullptr;
  }
};

SecretData secret_data(const Ctx& c) {
  SecretData out;
  each_member(&c.r.obj, "data", "", [&](const std::string& k, const Json& v, const std::string& p) {
    if (!v.is_string()) return;
    auto d = base64_decode(v.get<std::string>());
    if (!d) {
      c.error(p, "value is not valid base64");
      return;
    }
    out.values.emplace_back(k, std::move(*d));
  });
  each_member(&c.r.obj, "stringData", "", [&](const std::string& k, const Json& v, const std::string&) {
    if (!v.is_string()) return;
    for (auto& [kk, vv] : out.values)
      if (kk == k) {
        vv = v.get<std::string>();
        return;
      }
    out.values.emplace_back(k, v.get<std::string>());
  });
  return out;
}

std::string data_path(const Ctx& c, const std::string& key) {
  const Json* d = get_obj(&c.r.obj, "data");
  const bool in_data = d != nullptr && d->contains(key);
  return path_key(in_data ? "data" : "stringData", key);
}

}  // namespace

void check_k8s_secret(const Ctx& c) {
  const std::string type = get_str(&c.r.obj, "type");
  const SecretData data = secret_data(c);
  // Istio reads kubernetes.io/tls keys (tls.crt, tls.key, ca.crt) and its own
  // generic layout (cert, key, cacert) (istio.io secure-ingress task).
  const char* cert_key = data.find("tls.crt") != nullptr || type == "kubernetes.io/tls" ? "tls.crt" : "cert";
  const char* key_key = data.find("tls.key") != nullptr || type == "kubernetes.io/tls" ? "tls.key" : "key";
  const std::string* cert = data.find(cert_key);
  const std::string* key = data.find(key_key);
  if (type == "kubernetes.io/tls") {
    if (cert == nullptr) c.error(path_key("data", "tls.crt"), "kubernetes.io/tls Secret requires tls.crt");
    if (key == nullptr) c.error(path_key("data", "tls.key"), "kubernetes.io/tls Secret requires tls.key");
  }
  std::vector<X509Ptr> certs;
  if (cert != nullptr) {
    certs = read_certs(*cert);
    if (certs.empty()) c.error(data_path(c, cert_key), std::string(cert_key) + " does not hold a PEM certificate");
  }
  PkeyPtr pkey;
  if (key != nullptr) {
    pkey = read_key(*key);
    if (!pkey) c.error(data_path(c, key_key), std::string(key_key) + " does not hold an unencrypted PEM private key");
  }
  if (cert != nullptr && key == nullptr && type != "kubernetes.io/tls")
    c.error(data_path(c, cert_key), std::string(cert_key) + " without " + key_key);
  if (key != nullptr && cert == nullptr && type != "kubernetes.io/tls")
    c.error(data_path(c, key_key), std::string(key_key) + " without " + cert_key);
  if (!certs.empty()) {
    // An expired leaf is not a configuration error, but every handshake with it fails.
    const ASN1_TIME* not_after = X509_get0_notAfter(certs.front().get());
    const ASN1_TIME* not_before = X509_get0_notBefore(certs.front().get());
    if (not_after != nullptr && X509_cmp_current_time(not_after) < 0)
      c.warning(data_path(c, cert_key), "the certificate in " + std::string(cert_key) + " has expired");
    else if (not_before != nullptr && X509_cmp_current_time(not_before) > 0)
      c.warning(data_path(c, cert_key), "the certificate in " + std::string(cert_key) + " is not valid yet");
  }
  if (!certs.empty() && pkey) {
    if (X509_check_private_key(certs.front().get(), pkey.get()) != 1)
      c.error(data_path(c, key_key), std::string(key_key) + " does not match the certificate in " + cert_key);
    ERR_clear_error();
  }
  for (const char* ca : {"ca.crt", "cacert"}) {
    const std::string* v = data.find(ca);
    if (v != nullptr && read_certs(*v).empty()) c.error(data_path(c, ca), std::string(ca) + " does not hold a PEM certificate");
  }
}

void check_k8s_service(const Ctx& c) {
  const Json* spec = c.spec();
  if (spec == nullptr) return;
  const std::string type = has(spec, "type") ? get_str(spec, "type") : "ClusterIP";
  if (type == "ExternalName") {
    const std::string en = get_str(spec, "externalName");
    if (en.empty()) c.error("spec.externalName", "ExternalName Service requires externalName");
    else if (auto e = check_fqdn(en)) c.error("spec.externalName", *e);
  }
  const Json* ports = get_arr(spec, "ports");
  if ((ports == nullptr || ports->empty()) && type != "ExternalName" && get_str(spec, "clusterIP") != "None")
    c.error("spec.ports", "Service needs at least one port");
  std::set<std::string> names, keys;
  each(spec, "ports", "spec", [&](size_t, const Json& port, const std::string& pp) {
    const std::string name = get_str(&port, "name");
    if (ports->size() > 1 && name.empty()) c.error(path_field(pp, "name"), "port name is required when a Service has more than one port");
    if (!name.empty() && !names.insert(name).second) c.error(path_field(pp, "name"), "duplicate port name " + quote(name));
    const auto n = get_int(&port, "port");
    if (!n) c.error(path_field(pp, "port"), "port is required");
    else if (auto e = check_port(*n)) c.error(path_field(pp, "port"), *e);
    const std::string proto = has(&port, "protocol") ? get_str(&port, "protocol") : "TCP";
    if (n && !keys.insert(std::to_string(*n) + "/" + proto).second)
      c.error(path_field(pp, "port"), "duplicate port " + std::to_string(*n) + "/" + proto);
    if (const Json* tp = get(&port, "targetPort"); tp != nullptr && tp->is_number_integer())
      if (auto e = check_port(tp->get<int64_t>())) c.error(path_field(pp, "targetPort"), *e);
  });
  check_labels_map(c, spec, "selector", "spec");
}

void check_k8s_endpoints(const Ctx& c) {
  each(&c.r.obj, "subsets", "", [&](size_t, const Json& s, const std::string& sp) {
    for (const char* k : {"addresses", "notReadyAddresses"})
      each(&s, k, sp, [&](size_t, const Json& a, const std::string& ap) {
        const std::string ip = get_str(&a, "ip");
        if (!is_ip_address(ip)) c.error(path_field(ap, "ip"), quote(ip) + " is not a valid IP");
      });
    each(&s, "ports", sp, [&](size_t, const Json& p, const std::string& pp) { check_port_field(c, &p, "port", pp); });
  });
}

void check_k8s_endpoint_slice(const Ctx& c) {
  const std::string type = get_str(&c.r.obj, "addressType");
  if (type != "IPv4" && type != "IPv6" && type != "FQDN")
    c.error("addressType", "addressType must be IPv4, IPv6 or FQDN, got " + quote(type));
  bool svc = false;
  for (const auto& [k, v] : c.r.labels()) svc = svc || k == "kubernetes.io/service-name";
  if (!svc)
    c.warning("metadata.labels", "EndpointSlice without the kubernetes.io/service-name label belongs to no Service");
  each(&c.r.obj, "endpoints", "", [&](size_t, const Json& e, const std::string& ep) {
    each(&e, "addresses", ep, [&](size_t, const Json& a, const std::string& ap) {
      if (!a.is_string()) return;
      const std::string s = a.get<std::string>();
      const bool v6 = s.find(':') != std::string::npos;
      if (type == "FQDN") {
        if (auto er = check_fqdn(s)) c.error(ap, *er);
      } else if (!is_ip_address(s) || (type == "IPv4") == v6) {
        c.error(ap, quote(s) + " is not a valid " + type + " address");
      }
    });
  });
  each(&c.r.obj, "ports", "", [&](size_t, const Json& p, const std::string& pp) { check_port_field(c, &p, "port", pp); });
}

}  // namespace lg::ctrl::validate
