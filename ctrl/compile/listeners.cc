#include "ctrl/compile/listeners.h"

#include <algorithm>
#include <map>
#include <set>

namespace lg::ctrl::compile {

namespace {

enum class ServerKind { http_plain, https_terminated, passthrough, auto_passthrough, tls_terminated, tcp };

bool is_http_family(pb::Protocol p) {
  return p == pb::PROTOCOL_HTTP || p == pb::PROTOCOL_HTTP2 || p == pb::PROTOCOL_GRPC || p == pb::PROTOCOL_GRPC_WEB ||
         p == pb::PROTOCOL_HTTP_PROXY;
}

ServerKind classify(const pb::Server& s) {
  if (is_http_family(s.protocol())) return ServerKind::http_plain;
  const pb::ServerTlsMode mode = s.has_tls() ? s.tls().mode() : pb::SERVER_TLS_NONE;
  if (s.protocol() == pb::PROTOCOL_HTTPS || s.protocol() == pb::PROTOCOL_TLS) {
    if (mode == pb::SERVER_TLS_AUTO_PASSTHROUGH) return ServerKind::auto_passthrough;
    if (mode == pb::SERVER_TLS_PASSTHROUGH || mode == pb::SERVER_TLS_NONE) return ServerKind::passthrough;
    return s.protocol() == pb::PROTOCOL_HTTPS ? ServerKind::https_terminated : ServerKind::tls_terminated;
  }
  return ServerKind::tcp;
}

// canMergeProtocols: HTTPS and TLS servers can share a port (told apart by SNI).
bool can_share_port(pb::Protocol current, pb::Protocol next) {
  if (current == next) return true;
  auto tls_based = [](pb::Protocol p) { return p == pb::PROTOCOL_HTTPS || p == pb::PROTOCOL_TLS; };
  return tls_based(current) && tls_based(next);
}

pb::TlsVersion tls_version(const std::string& v) {
  if (v == "TLSV1_0") return pb::TLSV1_0;
  if (v == "TLSV1_1") return pb::TLSV1_1;
  if (v == "TLSV1_2") return pb::TLSV1_2;
  if (v == "TLSV1_3") return pb::TLSV1_3;
  return pb::TLS_AUTO;
}

// Gateway hosts as MergeGateways leaves them: "./h" → "<gw ns>/h", "*/h" → "h".
std::string normalize_server_host(const std::string& h, const std::string& gw_ns) {
  const size_t slash = h.find('/');
  if (slash == std::string::npos) return h;
  const std::string ns = h.substr(0, slash);
  if (ns == ".") return gw_ns + h.substr(slash);
  if (ns == "*") return h.substr(slash + 1);
  return h;
}

std::string strip_namespace(const std::string& h) {
  const size_t slash = h.find('/');
  return slash == std::string::npos ? h : h.substr(slash + 1);
}

struct ServerBuild {
  pb::Server server;
  ServerKind kind;
};

struct ListenerBuild {
  pb::Listener listener;
  std::vector<ServerBuild> servers;
  std::vector<std::string> sni_claimed;   // SNI hosts taken on this port
  std::set<std::string> https_routes;     // route table names taken
};

// Istio applies PeerAuthentication to sidecars' inbound ports, never to a
// gateway's Gateway servers. linegate applies the gateway's own policy where
// the gateway is a mesh workload: ports whose every server takes Istio mTLS.
// A port that also serves SIMPLE/MUTUAL clients keeps the Gateway's modes.
void set_peer_mtls(RouteEnv& env, pb::Listener& listener) {
  if (listener.servers().empty()) return;
  for (const pb::Server& s : listener.servers())
    if (classify(s) != ServerKind::https_terminated || s.tls().mode() != pb::SERVER_TLS_ISTIO_MUTUAL) return;
  const pb::PeerAuthentication pa = env.peer_authn.compose(env.ctx.node_ns(), env.ctx.node_labels());
  listener.set_peer_mtls(mtls_mode_for_port(pa, listener.port()).value_or(pb::MTLS_STRICT));
}

// VirtualServices bound to `gateway` and visible to the gateway's namespace, by ns/name.
std::vector<const Resource*> virtual_services_for(const Context& ctx, const std::string& gateway) {
  std::vector<const Resource*> out;
  for (const Resource* vs : ctx.of(kNetworking, "VirtualService")) {
    if (!vs_visible(ctx, *vs)) continue;
    const std::vector<std::string> gws = bound_gateways(*vs);
    if (std::find(gws.begin(), gws.end(), gateway) != gws.end()) out.push_back(vs);
  }
  return out;
}

// buildGatewayHTTPRouteConfig for the servers sharing `name`.
pb::RouteTable build_route_table(RouteEnv& env, const std::string& name, const std::vector<const pb::Server*>& servers,
                                 uint32_t port) {
  std::map<std::string, pb::VirtualHost> vhosts;  // by hostname
  std::set<std::string> added;                    // hostname|gateway|vs already appended
  for (const pb::Server* server : servers) {
    const bool redirect = server->has_tls() && server->tls().https_redirect();
    for (const Resource* vs : virtual_services_for(env.ctx, server->gateway())) {
      const std::vector<std::string> hosts = intersect_hosts({server->hosts().begin(), server->hosts().end()}, *vs);
      if (hosts.empty()) continue;
      std::vector<pb::Route> routes;
      bool translated = false;
      for (const std::string& h : hosts) {
        if (!added.insert(h + "|" + server->gateway() + "|" + ns_name(*vs)).second) continue;
        if (!translated) {
          routes = translate_http(env, *vs, port, server->gateway());
          translated = true;
        }
        auto [it, fresh] = vhosts.try_emplace(h);
        pb::VirtualHost& vh = it->second;
        if (fresh) {
          vh.set_name(h + ":" + std::to_string(port));
          vh.add_domains(h);
        }
        for (const pb::Route& r : routes) *vh.add_routes() = r;
        if (redirect) vh.set_require_tls(true);
      }
    }
    if (redirect) {
      for (const std::string& raw : server->hosts()) {
        const std::string h = strip_namespace(raw);
        auto [it, fresh] = vhosts.try_emplace(h);
        if (fresh) {
          it->second.set_name(h + ":" + std::to_string(port));
          it->second.add_domains(h);
        }
        it->second.set_require_tls(true);
      }
    }
  }
  pb::RouteTable table;
  table.set_name(name);
  std::vector<pb::VirtualHost*> sorted;
  for (auto& [h, vh] : vhosts) {
    // SortVHostRoutes: catch-all routes last, the others keep their order.
    std::stable_partition(vh.mutable_routes()->begin(), vh.mutable_routes()->end(),
                          [](const pb::Route& r) { return !is_catch_all(r); });
    sorted.push_back(&vh);
  }
  std::sort(sorted.begin(), sorted.end(), [](const pb::VirtualHost* a, const pb::VirtualHost* b) { return a->name() < b->name(); });
  for (pb::VirtualHost* vh : sorted) *table.add_virtual_hosts() = std::move(*vh);
  return table;
}

}  // namespace

pb::ServerTls convert_server_tls(const Json& tls, bool http_server) {
  pb::ServerTls out;
  out.set_https_redirect(boolean(tls, "httpsRedirect"));
  if (!http_server) {
    // ServerTLSSettings.mode's zero value is PASSTHROUGH.
    const std::string mode = str(tls, "mode", "PASSTHROUGH");
    out.set_mode(mode == "SIMPLE"             ? pb::SERVER_TLS_SIMPLE
                 : mode == "MUTUAL"           ? pb::SERVER_TLS_MUTUAL
                 : mode == "AUTO_PASSTHROUGH" ? pb::SERVER_TLS_AUTO_PASSTHROUGH
                 : mode == "ISTIO_MUTUAL"     ? pb::SERVER_TLS_ISTIO_MUTUAL
                 : mode == "OPTIONAL_MUTUAL"  ? pb::SERVER_TLS_OPTIONAL_MUTUAL
                                              : pb::SERVER_TLS_PASSTHROUGH);
  }
  std::vector<std::string> creds;
  if (const std::string c = str(tls, "credentialName"); !c.empty()) creds.push_back(c);
  for (const std::string& c : strings(tls, "credentialNames"))
    if (std::find(creds.begin(), creds.end(), c) == creds.end()) creds.push_back(c);
  for (const std::string& c : creds) out.add_credential_names(c);
  out.set_ca_credential_name(str(tls, "caCertCredentialName"));  // defaulted by the secrets pass
  out.set_server_certificate(str(tls, "serverCertificate"));
  out.set_private_key(str(tls, "privateKey"));
  out.set_ca_certificates(str(tls, "caCertificates"));
  out.set_ca_crl(str(tls, "caCrl"));
  if (const Json* certs = field(tls, "tlsCertificates"); certs && certs->is_array())
    for (const Json& c : *certs) {
      pb::TlsCertificateFiles* f = out.add_tls_certificates();
      f->set_server_certificate(str(c, "serverCertificate"));
      f->set_private_key(str(c, "privateKey"));
      f->set_ca_certificates(str(c, "caCertificates"));
    }
  for (const std::string& s : strings(tls, "subjectAltNames")) out.add_subject_alt_names(s);
  for (const std::string& s : strings(tls, "verifyCertificateSpki")) out.add_verify_certificate_spki(s);
  for (const std::string& s : strings(tls, "verifyCertificateHash")) out.add_verify_certificate_hash(s);
  out.set_min_protocol_version(tls_version(str(tls, "minProtocolVersion")));
  out.set_max_protocol_version(tls_version(str(tls, "maxProtocolVersion")));
  for (const std::string& s : strings(tls, "cipherSuites")) out.add_cipher_suites(s);
  return out;
}

std::vector<std::string> build_listeners(RouteEnv& env, pb::GatewaySnapshot& snap) {
  Context& ctx = env.ctx;
  std::map<std::pair<std::string, uint32_t>, ListenerBuild> listeners;

  for (const Resource* gw : ctx.of(kNetworking, "Gateway")) {
    const Json& spec = spec_of(*gw);
    if (!selector_matches(string_map(field(spec, "selector")), ctx.node_labels())) continue;
    const std::string gw_name = ns_name(*gw);
    snap.add_gateways(gw_name);
    const Json* servers = field(spec, "servers");
    if (!servers || !servers->is_array()) continue;
    for (size_t i = 0; i < servers->size(); ++i) {
      const Json& s = (*servers)[i];
      const Json* port = field(s, "port");
      if (!port || !port->is_object() || u64(*port, "number") == 0) continue;
      ServerBuild sb;
      pb::Server& server = sb.server;
      server.set_gateway(gw_name);
      server.set_index(static_cast<uint32_t>(i));
      const std::string sname = str(s, "name");
      server.set_name(sname.empty() ? gw_name + "/" + std::to_string(i) : sname);
      server.set_protocol(parse_protocol(str(*port, "protocol")));
      server.set_port_name(str(*port, "name"));
      server.set_target_port(static_cast<uint32_t>(u64(*port, "targetPort")));
      for (const std::string& h : strings(s, "hosts")) {
        const std::string norm = normalize_server_host(h, gw->ns);
        server.add_hosts(norm);
        const std::string bare = strip_namespace(norm);
        if (std::find(server.sni_hosts().begin(), server.sni_hosts().end(), bare) == server.sni_hosts().end())
          server.add_sni_hosts(bare);
      }
      if (const Json* tls = field(s, "tls"))
        *server.mutable_tls() = convert_server_tls(*tls, is_http_family(server.protocol()));
      sb.kind = classify(server);

      const uint32_t number = static_cast<uint32_t>(u64(*port, "number"));
      const std::string bind = str(s, "bind");
      const std::string address = bind.empty() ? "0.0.0.0" : bind;
      auto [it, fresh] = listeners.try_emplace({address, number});
      ListenerBuild& lb = it->second;
      if (fresh) {
        lb.listener.set_name(address + "_" + std::to_string(number));
        lb.listener.set_address(address);
        lb.listener.set_port(number);
        lb.listener.set_protocol(server.protocol());
      } else if (!can_share_port(lb.listener.protocol(), server.protocol())) {
        ctx.warn("Gateway " + gw_name + ": server " + std::to_string(i) + " (" +
                 pb::Protocol_Name(server.protocol()).substr(9) + ") skipped: port " + std::to_string(number) +
                 " already serves " + pb::Protocol_Name(lb.listener.protocol()).substr(9));
        continue;
      }
      const std::string bind_suffix = bind.empty() ? "" : "." + bind;
      if (sb.kind == ServerKind::http_plain) {
        server.set_route_table("http." + std::to_string(number) + bind_suffix);
        lb.listener.set_route_table(server.route_table());
      } else if (sb.kind == ServerKind::https_terminated || sb.kind == ServerKind::tls_terminated) {
        if (sb.kind == ServerKind::https_terminated) {
          const std::string route = "https." + std::to_string(number) + "." + server.port_name() + "." + gw->name + "." +
                                    gw->ns + bind_suffix;
          if (!lb.https_routes.insert(route).second) {
            ctx.warn("Gateway " + gw_name + ": server " + std::to_string(i) + " skipped: port name \"" +
                     server.port_name() + "\" already used by another HTTPS server of this gateway on port " +
                     std::to_string(number));
            continue;
          }
          server.set_route_table(route);
        }
        bool duplicate = false;
        for (const std::string& h : server.sni_hosts())
          duplicate |= std::find(lb.sni_claimed.begin(), lb.sni_claimed.end(), h) != lb.sni_claimed.end();
        if (duplicate) {
          ctx.warn("Gateway " + gw_name + ": server " + std::to_string(i) + " skipped: duplicate SNI host on port " +
                   std::to_string(number));
          lb.https_routes.erase(server.route_table());
          continue;
        }
        lb.sni_claimed.insert(lb.sni_claimed.end(), server.sni_hosts().begin(), server.sni_hosts().end());
      } else if (sb.kind == ServerKind::auto_passthrough) {
        server.set_auto_passthrough(true);
      }
      lb.servers.push_back(std::move(sb));
    }
  }

  std::vector<std::string> auto_passthrough_hosts;
  std::vector<pb::RouteTable> tables;
  for (auto& [key, lb] : listeners) {
    const uint32_t port = lb.listener.port();
    if (!lb.listener.route_table().empty()) {
      std::vector<const pb::Server*> http_servers;
      for (const ServerBuild& sb : lb.servers)
        if (sb.kind == ServerKind::http_plain) http_servers.push_back(&sb.server);
      tables.push_back(build_route_table(env, lb.listener.route_table(), http_servers, port));
    }
    for (ServerBuild& sb : lb.servers) {
      pb::Server& server = sb.server;
      switch (sb.kind) {
        case ServerKind::http_plain:
          break;
        case ServerKind::https_terminated:
          tables.push_back(build_route_table(env, server.route_table(), {&server}, port));
          break;
        case ServerKind::tls_terminated:
        case ServerKind::tcp:
          for (const Resource* vs : virtual_services_for(ctx, server.gateway())) {
            if (intersect_hosts({server.hosts().begin(), server.hosts().end()}, *vs).empty()) continue;
            for (pb::TcpRoute& r : translate_tcp(env, *vs, port, server.gateway())) *server.add_tcp_routes() = std::move(r);
          }
          break;
        case ServerKind::passthrough:
          for (const Resource* vs : virtual_services_for(ctx, server.gateway())) {
            if (intersect_hosts({server.hosts().begin(), server.hosts().end()}, *vs).empty()) continue;
            for (pb::TlsRoute& r : translate_tls(env, *vs, port, server.gateway(), lb.sni_claimed))
              *server.add_tls_routes() = std::move(r);
          }
          break;
        case ServerKind::auto_passthrough:
          auto_passthrough_hosts.insert(auto_passthrough_hosts.end(), server.sni_hosts().begin(), server.sni_hosts().end());
          break;
      }
      *lb.listener.add_servers() = std::move(server);
    }
    set_peer_mtls(env, lb.listener);
    *snap.add_listeners() = std::move(lb.listener);
  }
  std::sort(tables.begin(), tables.end(), [](const pb::RouteTable& a, const pb::RouteTable& b) { return a.name() < b.name(); });
  for (pb::RouteTable& t : tables) *snap.add_route_tables() = std::move(t);
  std::sort(auto_passthrough_hosts.begin(), auto_passthrough_hosts.end());
  auto_passthrough_hosts.erase(std::unique(auto_passthrough_hosts.begin(), auto_passthrough_hosts.end()),
                               auto_passthrough_hosts.end());
  return auto_passthrough_hosts;
}

}  // namespace lg::ctrl::compile
