#include "l7/access_log/filter_attributes.h"

#include <arpa/inet.h>

#include "l7/access_log/render.h"

namespace lg::access_log {

namespace {

void endpoint(nlohmann::json& j, const char* key, const Address& a) {
  if (a.family == 0) return;
  char ip[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.ip, ip, sizeof ip);
  j[key] = {{"address", ip}, {"port", a.port}};
}

void set_field(nlohmann::json& j, const char* key, const Record& r, Field f) {
  std::string_view v;
  if (r.find(f, {}, &v) && !v.empty()) j[key] = std::string(v);
}

}  // namespace

const std::vector<std::string>& filter_variables() {
  static const std::vector<std::string> names = {"request", "response", "connection", "source",
                                                 "destination", "upstream", "xds"};
  return names;
}

nlohmann::json filter_attributes(const Record& r) {
  nlohmann::json request = nlohmann::json::object();
  nlohmann::json request_headers = nlohmann::json::object();
  nlohmann::json response_headers = nlohmann::json::object();
  for (unsigned i = 0; i < r.string_count; ++i) {
    const Record::String& s = r.strings[i];
    if (s.field != Field::request_header && s.field != Field::response_header) continue;
    const std::string name(r.text + s.offset, s.name_len);
    const std::string value(r.text + s.offset + s.name_len, s.length);
    if (s.field == Field::response_header) {
      response_headers[name] = value;
      continue;
    }
    if (name == ":method") request["method"] = value;
    else if (name == ":path") {
      request["path"] = value;
      request["url_path"] = value.substr(0, value.find('?'));
    } else if (name == ":authority") request["host"] = value;
    else if (name == ":scheme") request["scheme"] = value;
    else if (name == "user-agent") request["useragent"] = value;
    else if (name == "x-request-id") request["id"] = value;
    if (name[0] != ':') request_headers[name] = value;
  }
  request["headers"] = std::move(request_headers);
  if (r.http_minor != 0xff) request["protocol"] = r.http_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  request["size"] = r.bytes_received;

  nlohmann::json response = {{"code", r.response_code}, {"flags", r.flags}, {"size", r.bytes_sent},
                             {"headers", std::move(response_headers)}};
  if (const std::string_view d = response_code_details(r); !d.empty()) response["code_details"] = d;

  nlohmann::json connection = {{"id", r.connection_id}};
  connection["mtls"] = r.mtls;
  set_field(connection, "requested_server_name", r, Field::requested_server_name);
  set_field(connection, "uri_san_peer_certificate", r, Field::peer_uri_san);
  set_field(connection, "uri_san_local_certificate", r, Field::local_uri_san);
  if (r.tls_version != 0) connection["tls_version"] = r.tls_version == 0x0304 ? "TLSv1.3" : "TLSv1.2";

  nlohmann::json xds = nlohmann::json::object();
  set_field(xds, "cluster_name", r, Field::upstream_cluster);
  set_field(xds, "route_name", r, Field::route_name);

  nlohmann::json j = {{"request", std::move(request)},
                      {"response", std::move(response)},
                      {"connection", std::move(connection)},
                      {"xds", std::move(xds)}};
  endpoint(j, "source", r.downstream_remote);
  endpoint(j, "destination", r.downstream_local);
  endpoint(j, "upstream", r.upstream_host);
  return j;
}

}  // namespace lg::access_log
