// L4 routing tables: what a TCP or TLS-passthrough listener needs to pick a
// cluster for a new connection without touching the snapshot's strings.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

#include "dataplane/config/build_parts.h"

namespace lg::config {
namespace pb = linegate::snapshot::v1;

bool parse_subnet(const std::string& text, SubnetSlot& out) {
  const size_t slash = text.find('/');
  const std::string addr = text.substr(0, slash);
  out.addr.fill(0);
  unsigned max_len;
  in_addr v4;
  if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) {
    out.addr[10] = out.addr[11] = 0xff;
    std::memcpy(&out.addr[12], &v4, 4);
    out.family = 4;
    max_len = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), out.addr.data()) == 1) {
    out.family = 6;
    max_len = 128;
  } else {
    return false;
  }
  unsigned len = max_len;
  if (slash != std::string::npos) {
    const std::string p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || !std::all_of(p.begin(), p.end(), ::isdigit)) return false;
    len = static_cast<unsigned>(std::stoul(p));
    if (len > max_len) return false;
  }
  out.prefix = static_cast<uint8_t>(out.family == 4 ? 96 + len : len);
  return true;
}

namespace {

struct L4Builder {
  RuntimeTables& t;
  const ClusterIndex& clusters;
  std::vector<L4RouteSlot> routes;
  std::vector<NameSlot> patterns;
  std::string names;
  std::vector<SubnetSlot> subnets;
  std::vector<DestinationSlot> dests;
  std::string* error;

  std::pair<uint32_t, uint32_t> add_names(const google::protobuf::RepeatedPtrField<std::string>& hosts) {
    const auto first = static_cast<uint32_t>(patterns.size());
    for (const std::string& h : hosts) {
      std::string n(h);
      for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const bool wild = !n.empty() && n[0] == '*';
      const std::string stored = wild ? n.substr(1) : n;  // "*.a.com" → ".a.com", "*" → ""
      patterns.push_back({static_cast<uint32_t>(names.size()), static_cast<uint16_t>(stored.size()),
                          static_cast<uint8_t>(wild), 0});
      names += stored;
    }
    return {first, static_cast<uint32_t>(patterns.size()) - first};
  }

  bool add_subnets(const google::protobuf::RepeatedPtrField<std::string>& cidrs, uint32_t* first, uint32_t* count) {
    *first = static_cast<uint32_t>(subnets.size());
    for (const std::string& c : cidrs) {
      SubnetSlot s{};
      if (!parse_subnet(c, s)) {
        *error = "destinationSubnets entry \"" + c + "\" is not a CIDR";
        return false;
      }
      subnets.push_back(s);
    }
    *count = static_cast<uint32_t>(subnets.size()) - *first;
    return true;
  }

  void add_dests(const google::protobuf::RepeatedPtrField<pb::WeightedCluster>& wcs, L4RouteSlot& r) {
    r.dest_first = static_cast<uint32_t>(dests.size());
    uint32_t cumulative = 0;
    for (const pb::WeightedCluster& wc : wcs) {
      cumulative += wc.weight();
      const auto c = clusters.find(wc.cluster());
      dests.push_back({c == clusters.end() ? kNone : c->second, cumulative});
    }
    r.dest_count = static_cast<uint32_t>(wcs.size());
  }
};

}  // namespace

bool build_l4_routes(const Snapshot& s, const ClusterIndex& clusters, RuntimeTables& t, std::string* error) {
  L4Builder b{t, clusters, {}, {}, {}, {}, {}, error};
  for (size_t li = 0; li < t.listeners.size(); ++li) {
    ListenerSlot& ls = t.listeners[li];
    const pb::Listener& l = s.listeners(static_cast<int>(ls.snapshot_index));
    ls.l4_first = static_cast<uint32_t>(b.routes.size());
    ls.kind = ListenerKind::http;
    for (int si = 0; si < l.servers_size(); ++si) {
      const pb::Server& srv = l.servers(si);
      const auto mode = srv.tls().mode();
      const bool sni = mode == pb::SERVER_TLS_PASSTHROUGH || mode == pb::SERVER_TLS_AUTO_PASSTHROUGH;
      const bool tcp = srv.protocol() == pb::PROTOCOL_TCP || srv.protocol() == pb::PROTOCOL_MONGO ||
                       srv.protocol() == pb::PROTOCOL_MYSQL || srv.protocol() == pb::PROTOCOL_REDIS;
      if (!sni && !tcp) continue;
      ls.kind = sni ? ListenerKind::tls_sni : ListenerKind::tcp;
      // Envoy matches a filter chain on the server's SNI names first.
      const auto server_names = sni ? b.add_names(srv.sni_hosts().empty() ? srv.hosts() : srv.sni_hosts())
                                    : std::pair<uint32_t, uint32_t>{0, 0};
      const auto base = [&]() {
        L4RouteSlot r{};
        r.server_name_first = server_names.first;
        r.server_name_count = server_names.second;
        r.src_subnet = kNone;
        r.server = static_cast<uint32_t>(si);
        r.needs_sni = sni;
        return r;
      };
      if (srv.auto_passthrough()) {
        L4RouteSlot r = base();
        r.auto_passthrough = 1;
        b.routes.push_back(r);
        continue;
      }
      for (const pb::TlsRoute& tr : srv.tls_routes()) {
        L4RouteSlot r = base();
        std::tie(r.sni_first, r.sni_count) = b.add_names(tr.sni_hosts());
        if (!b.add_subnets(tr.destination_subnets(), &r.dst_subnet_first, &r.dst_subnet_count)) return false;
        b.add_dests(tr.clusters(), r);
        b.routes.push_back(r);
      }
      for (const pb::TcpRoute& tr : srv.tcp_routes()) {
        L4RouteSlot r = base();
        if (!b.add_subnets(tr.destination_subnets(), &r.dst_subnet_first, &r.dst_subnet_count)) return false;
        if (!tr.source_subnet().empty()) {
          SubnetSlot sub{};
          if (!parse_subnet(tr.source_subnet(), sub)) {
            *error = "sourceSubnet \"" + tr.source_subnet() + "\" is not a CIDR";
            return false;
          }
          r.src_subnet = static_cast<uint32_t>(b.subnets.size());
          b.subnets.push_back(sub);
        }
        b.add_dests(tr.clusters(), r);
        b.routes.push_back(r);
      }
    }
    ls.l4_count = static_cast<uint32_t>(b.routes.size()) - ls.l4_first;
  }

  const auto copy = [](auto& flat, const auto& vec) {
    using T = typename std::decay_t<decltype(vec)>::value_type;
    flat = FlatArray<T>(vec.size());
    for (size_t i = 0; i < vec.size(); ++i) flat[i] = vec[i];
  };
  copy(t.l4_routes, b.routes);
  copy(t.name_patterns, b.patterns);
  copy(t.subnets, b.subnets);
  t.names = FlatArray<char>(b.names.size());
  if (!b.names.empty()) std::memcpy(&t.names[0], b.names.data(), b.names.size());
  copy(t.destinations, b.dests);

  std::vector<ClusterNameSlot> sni;
  for (int ci = 0; ci < s.clusters_size(); ++ci)
    if (s.clusters(ci).sni_dnat()) sni.push_back({domain_hash(s.clusters(ci).name()), static_cast<uint32_t>(ci)});
  std::sort(sni.begin(), sni.end(), [](const auto& a, const auto& c) { return a.hash < c.hash; });
  copy(t.sni_clusters, sni);
  return true;
}

bool name_matches(std::string_view pattern, bool wildcard, std::string_view name) {
  if (!wildcard) return pattern == name;
  // "*" (stored empty) matches any name; "*.a.com" (stored ".a.com") any name
  // with at least one label before ".a.com".
  return pattern.empty() || (name.size() > pattern.size() && name.ends_with(pattern));
}

int name_match_score(std::string_view pattern, bool wildcard, std::string_view name) {
  if (!name_matches(pattern, wildcard, name)) return -1;
  return wildcard ? 1 + static_cast<int>(pattern.size()) : 1 << 20;
}

uint32_t RuntimeTables::find_sni_cluster(std::string_view name) const {
  const uint64_t h = domain_hash(name);
  const auto v = sni_clusters.view();
  auto it = std::lower_bound(v.begin(), v.end(), h, [](const ClusterNameSlot& c, uint64_t x) { return c.hash < x; });
  for (; it != v.end() && it->hash == h; ++it)
    if (snapshot->clusters(static_cast<int>(it->cluster)).name() == name) return it->cluster;
  return kNone;
}

}  // namespace lg::config
