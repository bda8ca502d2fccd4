#include "ctrl/compile/describe.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace lg::ctrl {

namespace {

namespace pb = linegate::snapshot::v1;
using Row = std::vector<std::string>;

// Columns padded to their widest cell, two spaces apart (tabwriter style).
std::string render(const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const Row& r : rows)
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out;
  auto line = [&](const Row& r) {
    std::string l;
    for (size_t i = 0; i < r.size(); ++i) {
      l += r[i];
      if (i + 1 < r.size()) l += std::string(width[i] - r[i].size() + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(header);
  for (const Row& r : rows) line(r);
  return out;
}

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& v, const char* sep = ",") {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string dash(const std::string& s) { return s.empty() ? "-" : s; }

std::string enum_suffix(const std::string& name, size_t prefix) { return name.size() > prefix ? name.substr(prefix) : name; }

std::string protocol(pb::Protocol p) { return enum_suffix(pb::Protocol_Name(p), 9); }  // "PROTOCOL_"

std::string server_tls(const pb::Server& s) {
  if (!s.has_tls()) return "-";
  const pb::ServerTls& t = s.tls();
  if (t.mode() == pb::SERVER_TLS_NONE) return t.https_redirect() ? "httpsRedirect" : "-";
  std::string out = enum_suffix(pb::ServerTlsMode_Name(t.mode()), 11);  // "SERVER_TLS_"
  if (t.credential_names_size()) out += " cred=" + joined(t.credential_names());
  if (!t.ca_credential_name().empty()) out += " ca=" + t.ca_credential_name();
  return out;
}

std::string weighted(const google::protobuf::RepeatedPtrField<pb::WeightedCluster>& clusters) {
  std::string out;
  for (const pb::WeightedCluster& c : clusters) {
    if (!out.empty()) out += ", ";
    out += c.cluster();
    if (clusters.size() > 1) out += " " + std::to_string(c.weight()) + "%";
  }
  return out;
}

std::string server_routes(const pb::Server& s) {
  if (s.auto_passthrough()) return "auto-passthrough (SNI outbound_.<port>_.<subset>_.<host>)";
  if (!s.route_table().empty()) return s.route_table();
  std::string out;
  for (const pb::TcpRoute& r : s.tcp_routes()) {
    if (!out.empty()) out += "; ";
    if (r.destination_subnets_size()) out += joined(r.destination_subnets()) + " -> ";
    out += weighted(r.clusters());
  }
  for (const pb::TlsRoute& r : s.tls_routes()) {
    if (!out.empty()) out += "; ";
    out += "sni " + joined(r.sni_hosts()) + " -> " + weighted(r.clusters());
  }
  return dash(out);
}

std::string string_match(const pb::StringMatch& m) {
  if (m.has_exact()) return m.exact();
  if (m.has_prefix()) return m.prefix() + "*";
  if (m.has_regex()) return "~" + m.regex();
  return "";
}

std::string header_list(const google::protobuf::RepeatedPtrField<pb::HeaderMatch>& hs) {
  std::string out;
  for (const pb::HeaderMatch& h : hs) {
    if (!out.empty()) out += " ";
    out += h.name() + (h.present() ? "" : "=" + string_match(h.match()));
  }
  return out;
}

std::string route_match(const pb::Route& r) {
  const pb::RouteMatch& m = r.match();
  std::vector<std::string> parts;
  parts.push_back(m.has_uri() ? string_match(m.uri()) : "/*");
  if (m.ignore_uri_case()) parts.back() += " (any case)";
  if (m.has_method()) parts.push_back("method=" + string_match(m.method()));
  if (m.has_scheme()) parts.push_back("scheme=" + string_match(m.scheme()));
  if (m.has_authority()) parts.push_back("authority=" + string_match(m.authority()));
  if (m.headers_size()) parts.push_back(header_list(m.headers()));
  if (m.without_headers_size()) parts.push_back("not " + header_list(m.without_headers()));
  for (const pb::QueryParamMatch& q : m.query_params())
    parts.push_back("?" + q.name() + (q.present() ? "" : "=" + string_match(q.match())));
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

std::string route_destination(const pb::Route& r) {
  if (r.has_redirect()) {
    const pb::Redirect& d = r.redirect();
    std::string target = d.scheme().empty() ? "" : d.scheme() + "://";
    target += d.authority();
    if (d.port()) target += ":" + std::to_string(d.port());
    target += d.uri().empty() ? d.prefix_rewrite() : d.uri();
    return "redirect " + std::to_string(d.code()) + " " + dash(target);
  }
  if (r.has_direct_response()) return "direct_response " + std::to_string(r.direct_response().status());
  std::string out = weighted(r.route().clusters());
  for (const pb::Mirror& m : r.route().mirrors()) out += " (mirror " + m.cluster() + ")";
  return dash(out);
}

std::string lb_name(const pb::LoadBalancer& lb) {
  if (lb.has_consistent_hash()) {
    const pb::ConsistentHash& h = lb.consistent_hash();
    std::string algo = h.has_maglev_table_size() ? "MAGLEV" : "RING_HASH";
    std::string key = h.has_http_header_name()            ? "header:" + h.http_header_name()
                      : h.has_http_cookie()               ? "cookie:" + h.http_cookie().name()
                      : h.has_http_query_parameter_name() ? "query:" + h.http_query_parameter_name()
                                                          : "source-ip";
    return algo + "(" + key + ")";
  }
  return enum_suffix(pb::LbPolicy_Name(lb.simple()), 3);  // "LB_"
}

std::string cluster_tls(const pb::Cluster& c) {
  if (!c.policy().has_tls() || c.policy().tls().mode() == pb::UPSTREAM_TLS_DISABLE) return "-";
  const pb::UpstreamTls& t = c.policy().tls();
  std::string out = enum_suffix(pb::UpstreamTlsMode_Name(t.mode()), 13);  // "UPSTREAM_TLS_"
  if (t.auto_mtls()) out = "AUTO(" + out + ")";
  if (!t.credential_name().empty()) out += " cred=" + t.credential_name();
  if (!t.sni().empty() && t.mode() != pb::UPSTREAM_TLS_ISTIO_MUTUAL) out += " sni=" + t.sni();
  return out;
}

std::string locality(const pb::Locality& l) {
  if (l.region().empty() && l.zone().empty() && l.subzone().empty()) return "-";
  return l.region() + "/" + l.zone() + "/" + l.subzone();
}

// ----- certificates

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::string bio_string(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : "";
}

Row certificate_row(const std::string& name, const std::string& type, const std::string& pem) {
  Row row = {name, type, "-", "-", "-", "-"};
  std::unique_ptr<BIO, BioDeleter> in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!in) return row;
  std::unique_ptr<X509, X509Deleter> cert(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    row[2] = pem.empty() ? "-" : "(unparsable certificate)";
    return row;
  }
  std::unique_ptr<BIO, BioDeleter> out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253);
  row[2] = dash(bio_string(out.get()));
  std::string sans;
  if (auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
      std::string v;
      if (gn->type == GEN_DNS || gn->type == GEN_URI || gn->type == GEN_EMAIL) {
        const ASN1_IA5STRING* s = gn->d.ia5;
        v.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
      } else if (gn->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
        const unsigned char* b = ASN1_STRING_get0_data(ip);
        if (ASN1_STRING_length(ip) == 4)
          v = std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." + std::to_string(b[3]);
        else v = "(ipv6)";
      }
      if (!v.empty()) sans += (sans.empty() ? "" : ",") + v;
    }
    GENERAL_NAMES_free(names);
  }
  row[3] = dash(sans);
  std::unique_ptr<BIO, BioDeleter> t(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(t.get(), X509_get0_notAfter(cert.get()));
  row[4] = dash(bio_string(t.get()));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &len) == 1) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string h;
    for (unsigned int i = 0; i < len; ++i) {
      h.push_back(hex[md[i] >> 4]);
      h.push_back(hex[md[i] & 0xf]);
    }
    row[5] = h;
  }
  return row;
}

// ----- sections

std::string listeners(const pb::GatewaySnapshot& s) {
  std::vector<Row> rows;
  for (const pb::Listener& l : s.listeners())
    for (const pb::Server& srv : l.servers())
      rows.push_back({l.address(), std::to_string(l.port()), protocol(srv.protocol()), dash(joined(srv.hosts())),
                      server_tls(srv) + (l.has_peer_mtls() ? " peer=" + enum_suffix(pb::MtlsMode_Name(l.peer_mtls()), 5)
                                                           : ""),  // "MTLS_"
                      server_routes(srv)});
  return render({"ADDRESS", "PORT", "PROTOCOL", "SERVERS/HOSTS", "TLS", "ROUTES"}, rows);
}

std::string routes(const pb::GatewaySnapshot& s) {
  std::vector<Row> rows;
  for (const pb::RouteTable& t : s.route_tables())
    for (const pb::VirtualHost& vh : t.virtual_hosts()) {
      if (vh.routes().empty())
        rows.push_back({t.name(), vh.name(), joined(vh.domains()), "/*", vh.require_tls() ? "https redirect" : "404"});
      for (const pb::Route& r : vh.routes())
        rows.push_back({t.name(), vh.name(), joined(vh.domains()), route_match(r),
                        vh.require_tls() ? "https redirect" : route_destination(r)});
    }
  return render({"NAME", "VHOST", "DOMAINS", "MATCH", "DESTINATION"}, rows);
}

std::string clusters(const pb::GatewaySnapshot& s) {
  std::vector<Row> rows;
  for (const pb::Cluster& c : s.clusters())
    rows.push_back({c.name(), c.host(), std::to_string(c.port()), dash(c.subset()), lb_name(c.policy().load_balancer()),
                    cluster_tls(c), std::to_string(c.endpoints_size())});
  return render({"NAME", "HOST", "PORT", "SUBSET", "LB", "TLS", "ENDPOINTS"}, rows);
}

// What auto mTLS sends an endpoint: Istio mTLS, or plain text and why.
std::string auto_mtls(const pb::Cluster& c, const pb::Endpoint& e) {
  if (!c.policy().tls().auto_mtls()) return "-";
  if (e.tls_mode() != "istio") return "plaintext (tlsMode " + (e.tls_mode().empty() ? "unset" : e.tls_mode()) + ")";
  return e.peer_mtls_disabled() ? "plaintext (PeerAuthentication DISABLE)" : "istio";
}

std::string endpoints(const pb::GatewaySnapshot& s) {
  std::vector<Row> rows;
  for (const pb::Cluster& c : s.clusters())
    for (const pb::Endpoint& e : c.endpoints())
      rows.push_back({e.address() + ":" + std::to_string(e.port()), pb::HealthStatus_Name(e.status()), c.name(),
                      locality(e.locality()), dash(e.network()), std::to_string(e.weight()), auto_mtls(c, e)});
  return render({"ENDPOINT", "STATUS", "CLUSTER", "LOCALITY", "NETWORK", "WEIGHT", "AUTO_MTLS"}, rows);
}

std::string secrets(const pb::GatewaySnapshot& s) {
  std::vector<Row> rows;
  for (const pb::Secret& sec : s.secrets()) {
    const std::string type = enum_suffix(pb::SecretType_Name(sec.type()), 7);  // "SECRET_"
    if (!sec.cert_chain().empty()) rows.push_back(certificate_row(sec.name(), type, sec.cert_chain()));
    if (!sec.ca_cert().empty()) rows.push_back(certificate_row(sec.name(), "CA", sec.ca_cert()));
    if (sec.cert_chain().empty() && sec.ca_cert().empty()) rows.push_back({sec.name(), type, "-", "-", "-", "-"});
  }
  return render({"NAME", "TYPE", "SUBJECT", "SANS", "NOT_AFTER", "SHA256"}, rows);
}

}  // namespace

bool describe_table(const pb::GatewaySnapshot& snapshot, std::string_view section, std::string& out) {
  out.clear();
  if (section == "listeners") out = listeners(snapshot);
  else if (section == "routes") out = routes(snapshot);
  else if (section == "clusters") out = clusters(snapshot);
  else if (section == "endpoints") out = endpoints(snapshot);
  else if (section == "secrets") out = secrets(snapshot);
  else return false;
  return true;
}

}  // namespace lg::ctrl
