// Helpers shared by the compiler unit tests.
#pragma once

#include "ctrl/compile/compiler.h"
#include "ctrl/crd/loader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lg::ctrl::testing {

namespace pb = linegate::snapshot::v1;

// Parses YAML written as a user would; any loader diagnostic fails the test.
inline std::vector<Resource> load(const std::string& yaml) {
  Diagnostics diags;
  std::vector<Resource> out = load_text(yaml, "test.yaml", diags);
  for (const Diagnostic& d : diags.items()) ADD_FAILURE() << d.format();
  return out;
}

inline GatewayNode ingress_node(std::string ns = "istio-system") {
  GatewayNode n;
  n.id = "gw-a";
  n.cluster = "Kubernetes";
  n.network = "network1";
  n.ns = std::move(ns);
  n.labels = {{"istio", "ingressgateway"}, {"app", "istio-ingressgateway"}};
  return n;
}

inline pb::GatewaySnapshot compile(const std::string& yaml, const GatewayNode& node = ingress_node()) {
  return compile_snapshot(load(yaml), node);
}

inline const pb::Cluster* find_cluster(const pb::GatewaySnapshot& s, const std::string& name) {
  for (const pb::Cluster& c : s.clusters())
    if (c.name() == name) return &c;
  return nullptr;
}

// The lookups return pointers into the snapshot: never call them on a temporary.
const pb::Cluster* find_cluster(pb::GatewaySnapshot&&, const std::string&) = delete;
const pb::VirtualHost* find_vhost(pb::GatewaySnapshot&&, const std::string&, const std::string&) = delete;

inline const pb::RouteTable* find_table(const pb::GatewaySnapshot& s, const std::string& name) {
  for (const pb::RouteTable& t : s.route_tables())
    if (t.name() == name) return &t;
  return nullptr;
}

inline const pb::VirtualHost* find_vhost(const pb::GatewaySnapshot& s, const std::string& table, const std::string& vhost) {
  const pb::RouteTable* t = find_table(s, table);
  if (!t) return nullptr;
  for (const pb::VirtualHost& v : t->virtual_hosts())
    if (v.name() == vhost) return &v;
  return nullptr;
}

}  // namespace lg::ctrl::testing
