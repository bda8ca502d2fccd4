#include "dataplane/bootstrap/bootstrap.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace lg {
namespace {

constexpr const char* kOrigin = "bootstrap.yaml";

BootstrapResult parse(const std::string& yaml) { return parse_bootstrap(yaml, kOrigin); }

// A valid file whose first port ends with `port_lines` (indented 4 spaces)
// and which ends with `top_lines` at the top level.
std::string doc(const std::string& port_lines = "", const std::string& top_lines = "") {
  return "node:\n"
         "  id: gw-1\n"
         "ports:\n"
         "  - name: p0\n"
         "    device: net_tap0\n"
         "    ipv4: 10.77.0.2/24\n" +
         port_lines + top_lines;
}

// doc() with a test_apps list; `app_lines` are list items indented 2 spaces.
std::string apps(const std::string& app_lines, const std::string& port_lines = "") {
  return doc(port_lines, "test_apps:\n" + app_lines);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += "\n  " + e;
  return out;
}

std::array<uint8_t, 16> v6(std::initializer_list<uint8_t> head, std::initializer_list<uint8_t> tail = {}) {
  std::array<uint8_t, 16> a{};
  std::copy(head.begin(), head.end(), a.begin());
  std::copy(tail.begin(), tail.end(), a.end() - tail.size());
  return a;
}

// ---------------------------------------------------------------------------
// Valid files

TEST(Bootstrap, FullExampleRoundTrips) {
  const std::string yaml = R"(
node: {id: gw-1, cluster: cluster1, network: network1, labels: {istio: ingressgateway}}
eal: ["--file-prefix=gw1"]
workers: 4
idle_sleep_us: 50
mbufs_per_port: 32768
ports:
  - name: p0
    device: "net_tap0,iface=lg0"
    ipv4: 10.77.0.2/24
    ipv6: fd77::2/64
    gateway: 10.77.0.1
    gateway6: fd77::1
    mtu: 9000
    vlan: 100
    rx_desc: 2048
    tx_desc: 512
    impair: {loss: 0.02, reorder: 0.01, duplicate: 0.005, delay_us: 250, corrupt: 1e-3, seed: 42}
  - name: p1
    device: "0000:01:00.0"
    ipv6: fd78::2/64
admin: 127.0.0.1:15001
tcp:
  max_connections: 65536
  time_wait_ms: 30000
  max_time_wait: 4096
  delayed_ack_ms: 20
  syn_backlog: 512
  connect_timeout_ms: 5000
  user_timeout_ms: 120000
  keepalive_ms: 7200000
  rcv_buffer: 4194304
  snd_buffer: 2097152
  congestion_control: newreno
  rto_min_ms: 20
test_apps:
  - {kind: echo, port: 7}
  - {kind: discard, port: 9}
  - {kind: source, port: 19, bytes: 1048576}
  - {kind: client, connect: 10.77.0.1:5001, bytes: 1000000, connections: 4}
  - {kind: client, connect: "[fd78::1]:5002", bytes: 1}
)";
  BootstrapResult r = parse(yaml);
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_TRUE(r.bootstrap);
  const Bootstrap& b = *r.bootstrap;
  EXPECT_EQ(b.path, kOrigin);
  EXPECT_EQ(b.node.id, "gw-1");
  EXPECT_EQ(b.node.cluster, "cluster1");
  EXPECT_EQ(b.node.network, "network1");
  EXPECT_EQ(b.node.labels, (std::map<std::string, std::string>{{"istio", "ingressgateway"}}));
  EXPECT_EQ(b.eal, std::vector<std::string>{"--file-prefix=gw1"});
  EXPECT_EQ(b.workers, 4u);
  EXPECT_EQ(b.idle_sleep_us, 50u);
  EXPECT_EQ(b.mbufs_per_port, 32768u);
  ASSERT_EQ(b.ports.size(), 2u);

  const PortConfig& p0 = b.ports[0];
  EXPECT_EQ(p0.name, "p0");
  EXPECT_EQ(p0.device, "net_tap0,iface=lg0");
  ASSERT_TRUE(p0.ipv4);
  EXPECT_EQ(p0.ipv4->addr, 0x0A4D0002u);  // host byte order
  EXPECT_EQ(p0.ipv4->len, 24);
  ASSERT_TRUE(p0.ipv6);
  EXPECT_EQ(p0.ipv6->addr, v6({0xfd, 0x77}, {0x02}));
  EXPECT_EQ(p0.ipv6->len, 64);
  EXPECT_EQ(p0.gateway, 0x0A4D0001u);
  EXPECT_EQ(p0.gateway6, v6({0xfd, 0x77}, {0x01}));
  EXPECT_EQ(p0.mtu, 9000);
  EXPECT_EQ(p0.vlan, 100);
  EXPECT_EQ(p0.rx_desc, 2048);
  EXPECT_EQ(p0.tx_desc, 512);

  const PortConfig& p1 = b.ports[1];
  EXPECT_EQ(p1.device, "0000:01:00.0");
  EXPECT_FALSE(p1.ipv4);
  ASSERT_TRUE(p1.ipv6);
  EXPECT_EQ(format_ipv6(p1.ipv6->addr), "fd78::2");

  EXPECT_EQ(b.admin.host, "127.0.0.1");
  EXPECT_EQ(b.admin.port, 15001);

  EXPECT_DOUBLE_EQ(p0.impair.loss, 0.02);
  EXPECT_DOUBLE_EQ(p0.impair.reorder, 0.01);
  EXPECT_DOUBLE_EQ(p0.impair.duplicate, 0.005);
  EXPECT_DOUBLE_EQ(p0.impair.corrupt, 0.001);
  EXPECT_EQ(p0.impair.delay_us, 250u);
  EXPECT_EQ(p0.impair.seed, 42u);
  EXPECT_EQ(p1.impair.loss, 0.0);  // not set on p1
  EXPECT_EQ(p1.impair.seed, 1u);

  const TcpSettings& t = b.tcp;
  EXPECT_EQ(t.max_connections, 65536u);
  EXPECT_EQ(t.time_wait_ms, 30000u);
  EXPECT_EQ(t.max_time_wait, 4096u);
  EXPECT_EQ(t.delayed_ack_ms, 20u);
  EXPECT_EQ(t.syn_backlog, 512u);
  EXPECT_EQ(t.connect_timeout_ms, 5000u);
  EXPECT_EQ(t.user_timeout_ms, 120000u);
  EXPECT_EQ(t.keepalive_ms, 7200000u);
  EXPECT_EQ(t.rcv_buffer, 4194304u);
  EXPECT_EQ(t.snd_buffer, 2097152u);
  EXPECT_EQ(t.congestion_control, "newreno");
  EXPECT_EQ(t.rto_min_ms, 20u);

  ASSERT_EQ(b.test_apps.size(), 5u);
  EXPECT_EQ(b.test_apps[0].kind, "echo");
  EXPECT_EQ(b.test_apps[0].port, 7);
  EXPECT_EQ(b.test_apps[0].bytes, 0u);
  EXPECT_EQ(b.test_apps[0].connect, "");
  EXPECT_EQ(b.test_apps[1].kind, "discard");
  EXPECT_EQ(b.test_apps[1].port, 9);
  EXPECT_EQ(b.test_apps[2].kind, "source");
  EXPECT_EQ(b.test_apps[2].port, 19);
  EXPECT_EQ(b.test_apps[2].bytes, 1048576u);
  EXPECT_EQ(b.test_apps[3].kind, "client");
  EXPECT_EQ(b.test_apps[3].port, 0);
  EXPECT_EQ(b.test_apps[3].connect, "10.77.0.1:5001");
  EXPECT_EQ(b.test_apps[3].bytes, 1000000u);
  EXPECT_EQ(b.test_apps[3].connections, 4u);
  EXPECT_EQ(b.test_apps[4].connect, "[fd78::1]:5002");
  EXPECT_EQ(b.test_apps[4].bytes, 1u);
  EXPECT_EQ(b.test_apps[4].connections, 1u);  // default
}

TEST(Bootstrap, MinimalFileGetsDefaults) {
  BootstrapResult r = parse(doc());
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_TRUE(r.bootstrap);
  const Bootstrap& b = *r.bootstrap;
  EXPECT_EQ(b.node.id, "gw-1");
  EXPECT_EQ(b.node.cluster, "");
  EXPECT_EQ(b.node.network, "");
  EXPECT_TRUE(b.node.labels.empty());
  EXPECT_TRUE(b.eal.empty());
  EXPECT_EQ(b.workers, 1u);
  EXPECT_EQ(b.idle_sleep_us, 0u);
  EXPECT_EQ(b.mbufs_per_port, 16384u);
  EXPECT_EQ(b.admin.host, "127.0.0.1");
  EXPECT_EQ(b.admin.port, 15000);
  ASSERT_EQ(b.ports.size(), 1u);
  const PortConfig& p = b.ports[0];
  EXPECT_FALSE(p.ipv6);
  EXPECT_FALSE(p.gateway);
  EXPECT_FALSE(p.gateway6);
  EXPECT_EQ(p.mtu, 1500);
  EXPECT_EQ(p.vlan, 0);
  EXPECT_EQ(p.rx_desc, 1024);
  EXPECT_EQ(p.tx_desc, 1024);

  EXPECT_EQ(p.impair.loss, 0.0);
  EXPECT_EQ(p.impair.reorder, 0.0);
  EXPECT_EQ(p.impair.duplicate, 0.0);
  EXPECT_EQ(p.impair.corrupt, 0.0);
  EXPECT_EQ(p.impair.delay_us, 0u);
  EXPECT_EQ(p.impair.seed, 1u);

  EXPECT_EQ(b.tcp.max_connections, 16384u);
  EXPECT_EQ(b.tcp.time_wait_ms, 60000u);
  EXPECT_EQ(b.tcp.max_time_wait, 8192u);
  EXPECT_EQ(b.tcp.delayed_ack_ms, 40u);
  EXPECT_EQ(b.tcp.syn_backlog, 1024u);
  EXPECT_EQ(b.tcp.connect_timeout_ms, 10000u);
  EXPECT_EQ(b.tcp.user_timeout_ms, 0u);
  EXPECT_EQ(b.tcp.keepalive_ms, 0u);
  EXPECT_EQ(b.tcp.rcv_buffer, 1048576u);
  EXPECT_EQ(b.tcp.snd_buffer, 1048576u);
  EXPECT_EQ(b.tcp.congestion_control, "cubic");
  EXPECT_EQ(b.tcp.rto_min_ms, 200u);
  EXPECT_TRUE(b.test_apps.empty());
  EXPECT_TRUE(b.tls.record_offload);
  EXPECT_EQ(b.tls.ticket_key_rotation_s, 3600u);
}

TEST(Bootstrap, EmptySectionsKeepDefaults) {
  BootstrapResult r = parse(doc("    impair: {}\n", "tcp: {}\ntest_apps: []\n"));
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_TRUE(r.bootstrap);
  EXPECT_EQ(r.bootstrap->ports[0].impair.seed, 1u);
  EXPECT_EQ(r.bootstrap->ports[0].impair.loss, 0.0);
  EXPECT_EQ(r.bootstrap->tcp.max_connections, 16384u);
  EXPECT_EQ(r.bootstrap->tcp.congestion_control, "cubic");
  EXPECT_TRUE(r.bootstrap->test_apps.empty());
}

TEST(Bootstrap, PartialTcpSectionKeepsOtherDefaults) {
  BootstrapResult r = parse(doc("", "tcp: {time_wait_ms: 0, delayed_ack_ms: 0}\n"));
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_TRUE(r.bootstrap);
  EXPECT_EQ(r.bootstrap->tcp.time_wait_ms, 0u);
  EXPECT_EQ(r.bootstrap->tcp.delayed_ack_ms, 0u);
  EXPECT_EQ(r.bootstrap->tcp.max_connections, 16384u);
  EXPECT_EQ(r.bootstrap->tcp.syn_backlog, 1024u);
}

TEST(Bootstrap, TicketKeyRotationBounds) {
  auto rotation = [](const std::string& value) {
    BootstrapResult r = parse(doc("", "tls: {ticket_key_rotation_s: " + value + "}\n"));
    EXPECT_TRUE(r.errors.empty()) << value << joined(r.errors);
    return r.bootstrap ? r.bootstrap->tls.ticket_key_rotation_s : 12345u;
  };
  EXPECT_EQ(rotation("0"), 0u);  // no session tickets
  EXPECT_EQ(rotation("1"), 1u);
  EXPECT_EQ(rotation("302400"), 302400u);  // tickets live 7 days, TLS 1.3's cap
}

TEST(Bootstrap, IdentityFromFilesOrTheAgent) {
  BootstrapResult r = parse(doc("", "identity: {cert_chain: /c.pem, private_key: /k.pem, root_cert: /r.pem}\n"));
  ASSERT_TRUE(r.bootstrap) << joined(r.errors);
  EXPECT_TRUE(r.bootstrap->identity.from_files());
  EXPECT_FALSE(r.bootstrap->identity.from_agent());
  EXPECT_EQ(r.bootstrap->identity.root_cert, "/r.pem");
  r = parse(doc("", "agent: {address: \"127.0.0.1:15010\"}\nidentity: {service_account: gw, trust_domain: td.example, "
                    "cert_ttl_s: 3600}\n"));
  ASSERT_TRUE(r.bootstrap) << joined(r.errors);
  EXPECT_TRUE(r.bootstrap->identity.from_agent());
  EXPECT_EQ(r.bootstrap->identity.trust_domain, "td.example");
  EXPECT_EQ(r.bootstrap->identity.cert_ttl_s, 3600u);
  r = parse(doc("", ""));
  ASSERT_TRUE(r.bootstrap);
  EXPECT_FALSE(r.bootstrap->identity.from_files() || r.bootstrap->identity.from_agent());
}

TEST(Bootstrap, ImpairFractionForms) {
  auto loss = [](const std::string& value) {
    BootstrapResult r = parse(doc("    impair: {loss: " + value + "}\n"));
    EXPECT_TRUE(r.errors.empty()) << value << joined(r.errors);
    return r.bootstrap ? r.bootstrap->ports[0].impair.loss : -1.0;
  };
  EXPECT_EQ(loss("0"), 0.0);
  EXPECT_EQ(loss("1"), 1.0);
  EXPECT_EQ(loss("0.0"), 0.0);
  EXPECT_EQ(loss("1.0"), 1.0);
  EXPECT_EQ(loss("1."), 1.0);
  EXPECT_EQ(loss(".5"), 0.5);
  EXPECT_EQ(loss("\"0.25\""), 0.25);
  EXPECT_DOUBLE_EQ(loss("2.5e-2"), 0.025);
  EXPECT_DOUBLE_EQ(loss("1E-3"), 0.001);
  EXPECT_EQ(loss("100e-2"), 1.0);
}

TEST(Bootstrap, NewSectionEdgeValuesAccepted) {
  BootstrapResult r = parse(R"(
node: {id: n}
ports:
  - name: a
    device: d0
    ipv4: 10.77.0.2/24
    ipv6: fd77::2/64
    impair: {loss: 1, reorder: 0, duplicate: 1, delay_us: 1000000, corrupt: 0, seed: 18446744073709551615}
  - {name: b, device: d1, ipv4: 10.78.0.2/24, impair: {seed: 0}}
tcp:
  max_connections: 4194304
  time_wait_ms: 240000
  max_time_wait: 0
  delayed_ack_ms: 500
  syn_backlog: 65535
  connect_timeout_ms: 100
  user_timeout_ms: 3600000
  keepalive_ms: 86400000
  rcv_buffer: 16384
  snd_buffer: 67108864
test_apps:
  - {kind: echo, port: 1}
  - {kind: discard, port: 65535}
  - {kind: source, port: 2, bytes: 9223372036854775808}
  - {kind: client, connect: "10.77.0.1:65535", bytes: 9223372036854775808, connections: 100000}
  - {kind: client, connect: "10.77.0.1:65535", bytes: 1, connections: 1}
  - {kind: client, connect: "[FD77:0:0::0001]:05001", bytes: 1}
  - {kind: client, connect: "[fe80::1]:1", bytes: 1}
)");
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_TRUE(r.bootstrap);
  const Bootstrap& b = *r.bootstrap;
  EXPECT_EQ(b.ports[0].impair.loss, 1.0);
  EXPECT_EQ(b.ports[0].impair.delay_us, 1000000u);
  EXPECT_EQ(b.ports[0].impair.seed, UINT64_MAX);
  EXPECT_EQ(b.ports[1].impair.seed, 0u);
  EXPECT_EQ(b.tcp.max_connections, 4194304u);
  EXPECT_EQ(b.tcp.max_time_wait, 0u);
  EXPECT_EQ(b.tcp.connect_timeout_ms, 100u);
  EXPECT_EQ(b.tcp.snd_buffer, 67108864u);
  ASSERT_EQ(b.test_apps.size(), 7u);
  EXPECT_EQ(b.test_apps[2].bytes, uint64_t{1} << 63);
  EXPECT_EQ(b.test_apps[3].connections, 100000u);
  // Two clients may target the same address; only listen ports must differ.
  EXPECT_EQ(b.test_apps[4].connect, "10.77.0.1:65535");
  // Connect addresses are stored in canonical form.
  EXPECT_EQ(b.test_apps[5].connect, "[fd77::1]:5001");
  EXPECT_EQ(b.test_apps[6].connect, "[fe80::1]:1");
}

TEST(Bootstrap, ConfigSourceKeys) {
  BootstrapResult r = parse(doc("", "agent:\n  address: agent.mesh:15010\n  initial_backoff_ms: 50\n"
                                    "  max_backoff_ms: 800\nconfig_limits: {max_routes: 5000, max_listeners: 8}\n"));
  ASSERT_TRUE(r.bootstrap) << joined(r.errors);
  EXPECT_EQ(r.bootstrap->agent.address, "agent.mesh:15010");
  EXPECT_EQ(r.bootstrap->agent.initial_backoff_ms, 50u);
  EXPECT_EQ(r.bootstrap->agent.max_backoff_ms, 800u);
  EXPECT_EQ(r.bootstrap->config_limits.max_routes, 5000u);
  EXPECT_EQ(r.bootstrap->config_limits.max_listeners, 8u);
  EXPECT_EQ(r.bootstrap->config_limits.max_clusters, 100000u);  // default kept
  EXPECT_EQ(r.bootstrap->node.ns, "istio-system");
  r = parse("node: {id: gw-1, namespace: edge}\nports: [{name: p0, device: net_tap0, ipv4: 10.77.0.2/24}]\n"
            "config_dir: /etc/linegate/istio\ncrds: [/etc/linegate/crds, /opt/istio/crds.yaml]\n");
  ASSERT_TRUE(r.bootstrap) << joined(r.errors);
  EXPECT_EQ(r.bootstrap->node.ns, "edge");
  EXPECT_EQ(r.bootstrap->config_dir, "/etc/linegate/istio");
  EXPECT_EQ(r.bootstrap->crds, (std::vector<std::string>{"/etc/linegate/crds", "/opt/istio/crds.yaml"}));
  EXPECT_TRUE(r.bootstrap->agent.address.empty());
}

TEST(Bootstrap, AdminForms) {
  auto admin = [](const std::string& value) {
    BootstrapResult r = parse(doc("", "admin: \"" + value + "\"\n"));
    EXPECT_TRUE(r.errors.empty()) << value << joined(r.errors);
    return r.bootstrap ? r.bootstrap->admin : AdminConfig{"?", 0};
  };
  EXPECT_EQ(admin("localhost:8080").host, "127.0.0.1");
  EXPECT_EQ(admin("localhost:8080").port, 8080);
  EXPECT_EQ(admin("[::1]:15000").host, "::1");
  EXPECT_EQ(admin("[0:0::1]:65535").host, "::1");
  EXPECT_EQ(admin("[0:0::1]:65535").port, 65535);
  EXPECT_EQ(admin("0.0.0.0:1").host, "0.0.0.0");
}

TEST(Bootstrap, EdgeValuesAccepted) {
  // /31 and /32 have no network or broadcast address; link-local next hops
  // are normal for IPv6; EAL device options are the operator's business.
  BootstrapResult r = parse(R"(
node: {id: n, labels: {"app.kubernetes.io/name": linegate, empty: ""}}
eal: ["--vdev=net_tap1", "-a", "0000:01:00.0", "--block=0000:02:00.0"]
workers: 64
idle_sleep_us: 100000
mbufs_per_port: 1024
ports:
  - {name: a, device: d0, ipv4: 10.0.0.0/31, gateway: 10.0.0.1, mtu: 576, vlan: 4094, rx_desc: 64, tx_desc: 16384}
  - {name: b, device: d1, ipv4: 192.168.1.1/32, ipv6: "2001:db8::1/128", gateway6: "fe80::1"}
  - {name: A_b-9, device: d2, ipv6: "fd00::1/1"}
)");
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_TRUE(r.bootstrap);
  EXPECT_EQ(r.bootstrap->node.labels.at("app.kubernetes.io/name"), "linegate");
  EXPECT_EQ(r.bootstrap->eal.size(), 4u);
  EXPECT_EQ(r.bootstrap->ports[0].ipv4->addr, 0x0A000000u);
  EXPECT_EQ(r.bootstrap->ports[0].gateway, 0x0A000001u);
  EXPECT_EQ(r.bootstrap->ports[1].ipv4->len, 32);
}

TEST(Bootstrap, FormatAddresses) {
  EXPECT_EQ(format_ipv4(0x0A4D0002u), "10.77.0.2");
  EXPECT_EQ(format_ipv4(0xFFFFFFFFu), "255.255.255.255");
  EXPECT_EQ(format_ipv6(v6({0xfd, 0x77}, {0x02})), "fd77::2");
  EXPECT_EQ(format_ipv6(std::array<uint8_t, 16>{}), "::");
}

// ---------------------------------------------------------------------------
// Invalid files: each yields exactly one error, compared in full.

struct BadCase {
  const char* name;
  std::string yaml;
  std::string error;  // without the "bootstrap.yaml: " prefix
};

class BootstrapInvalid : public ::testing::TestWithParam<BadCase> {};

TEST_P(BootstrapInvalid, ReportsExactError) {
  const BadCase& c = GetParam();
  BootstrapResult r = parse(c.yaml);
  EXPECT_FALSE(r.bootstrap);
  ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
  EXPECT_EQ(r.errors[0], std::string(kOrigin) + ": " + c.error);
}

const std::string kPortKeysList = "name, device, ipv4, ipv6, gateway, gateway6, mtu, vlan, rx_desc, tx_desc, impair";
const std::string kTopKeysList =
    "node, eal, workers, idle_sleep_us, mbufs_per_port, ports, admin, tcp, test_apps, agent, config_dir, "
    "config_limits, crds, proxy, tls, identity";
const std::string kImpairKeysList = "loss, reorder, duplicate, delay_us, corrupt, seed";
const std::string kTcpKeysList =
    "max_connections, time_wait_ms, max_time_wait, delayed_ack_ms, syn_backlog, connect_timeout_ms, "
    "user_timeout_ms, keepalive_ms, rcv_buffer, snd_buffer, congestion_control, rto_min_ms";
const std::string kConnectForm =
    "host:port with an IPv4 address or [IPv6 address], such as 10.77.0.1:5001 or [fd77::1]:5001";
// A port with both families, for client apps that connect over IPv6.
const std::string kDualStack = "    ipv6: fd77::2/64\n";

const BadCase kBadCases[] = {
    // Where the routing config comes from.
    {"AgentNotAMap", doc("", "agent: 127.0.0.1:15010\n"),
     "agent: expected a map with address (\"host:port\" of linegate-agent) and optionally initial_backoff_ms, "
     "max_backoff_ms, got \"127.0.0.1:15010\""},
    {"AgentWithoutAddress", doc("", "agent: {max_backoff_ms: 1000}\n"),
     "agent.address: missing (expected \"host:port\" of linegate-agent, e.g. 127.0.0.1:15010)"},
    {"AgentBadPort", doc("", "agent: {address: \"127.0.0.1:0\"}\n"),
     "agent.address: expected \"host:port\" with a port from 1 to 65535, e.g. 127.0.0.1:15010, got "
     "\"127.0.0.1:0\""},
    {"AgentBackoffInverted", doc("", "agent: {address: \"a:1\", initial_backoff_ms: 2000, max_backoff_ms: 1000}\n"),
     "agent.max_backoff_ms: must not be below initial_backoff_ms (2000)"},
    {"AgentAndConfigDir", doc("", "agent: {address: \"a:1\"}\nconfig_dir: /etc/istio\n"),
     "config_dir: set either agent (config pushed by linegate-agent) or config_dir (compiled locally), not both"},
    {"ConfigDirEmpty", doc("", "config_dir: \"\"\n"),
     "config_dir: expected a path to a file or directory of Istio YAML, got an empty string"},
    {"ConfigLimitZero", doc("", "config_limits: {max_routes: 0}\n"),
     "config_limits.max_routes: expected an integer from 1 to 100000000, got \"0\""},
    {"ConfigLimitUnknown", doc("", "config_limits: {max_hosts: 5}\n"),
     "config_limits.max_hosts: unknown key (expected one of: max_listeners, max_routes, max_clusters, "
     "max_endpoints)"},
    {"ProxyHelloTimeoutTooSmall", doc("", "proxy: {hello_timeout_ms: 5}\n"),
     "proxy.hello_timeout_ms: expected an integer from 100 to 600000, got \"5\""},
    {"TlsRecordOffloadNotBoolean", doc("", "tls: {record_offload: maybe}\n"),
     "tls.record_offload: expected true or false, got \"maybe\""},
    {"TlsRecordBuffersTooFew", doc("", "tls: {record_buffers: 10}\n"),
     "tls.record_buffers: expected an integer from 256 to 1048576, got \"10\""},
    {"TlsUnknownKey", doc("", "tls: {offload: false}\n"),
     "tls.offload: unknown key (expected one of: record_offload, record_buffers, max_connections, "
     "ticket_key_rotation_s)"},
    {"TlsTicketKeyRotationBeyondTicketLifetime", doc("", "tls: {ticket_key_rotation_s: 302401}\n"),
     "tls.ticket_key_rotation_s: expected an integer from 0 to 302400, got \"302401\""},
    {"TlsTicketKeyRotationNegative", doc("", "tls: {ticket_key_rotation_s: -1}\n"),
     "tls.ticket_key_rotation_s: expected an integer from 0 to 302400, got \"-1\""},
    {"IdentityFilesIncomplete", doc("", "identity: {cert_chain: /c.pem, private_key: /k.pem}\n"),
     "identity: cert_chain, private_key and root_cert go together (Istio's cert-chain.pem, key.pem, root-cert.pem)"},
    {"IdentityFilesAndAgent",
     doc("", "agent: {address: \"127.0.0.1:15010\"}\n"
             "identity: {cert_chain: /c, private_key: /k, root_cert: /r, service_account: gw}\n"),
     "identity.service_account: set either the files or service_account (a certificate from the agent), not both"},
    {"IdentityFromAgentWithoutAgent", doc("", "identity: {service_account: gw}\n"),
     "identity.service_account: a certificate from linegate-agent needs agent.address"},
    {"IdentityEmpty", doc("", "identity: {}\n"),
     "identity: needs cert_chain, private_key and root_cert (files), or service_account (from linegate-agent's CA) "
     "and optionally trust_domain, cert_ttl_s"},
    {"IdentityTtlTooShort", doc("", "agent: {address: \"127.0.0.1:15010\"}\nidentity: {service_account: gw, cert_ttl_s: 60}\n"),
     "identity.cert_ttl_s: expected an integer from 600 to 7776000, got \"60\""},
    {"IdentityFilesWithTrustDomain",
     doc("", "identity: {cert_chain: /c, private_key: /k, root_cert: /r, trust_domain: td}\n"),
     "identity: trust_domain and cert_ttl_s apply to a certificate from the agent; the files' own certificate says "
     "both"},
    {"CrdsNotAList", doc("", "crds: /etc/istio/crds.yaml\n"),
     "crds: expected a list of Istio CRD files or directories, got \"/etc/istio/crds.yaml\""},
    // Unknown and duplicate keys.
    {"UnknownTopLevelKey", doc("", "worker: 2\n"),
     "worker: unknown key (expected one of: " + kTopKeysList + ")"},
    {"UnknownPortKey", doc("    ipv44: 10.0.0.1/24\n"),
     "ports[0].ipv44: unknown key (expected one of: " + kPortKeysList + ")"},
    {"UnknownNodeKey", "node: {id: a, zone: z}\nports: [{name: p, device: d, ipv4: 10.0.0.1/8}]\n",
     "node.zone: unknown key (expected one of: id, cluster, network, namespace, labels)"},
    {"UnknownKeyWithDotsIsQuoted", doc("", "\"a.b\": 1\n"),
     "\"a.b\": unknown key (expected one of: " + kTopKeysList + ")"},
    {"DuplicateKey", doc("    mtu: 1500\n    mtu: 9000\n"), "ports[0].mtu: duplicate key (first set on line 7)"},

    // Required fields.
    {"MissingNodeId", "node: {cluster: c}\nports: [{name: p, device: d, ipv4: 10.0.0.1/8}]\n",
     "node.id: missing (expected a non-empty string such as gw-1)"},
    {"EmptyNodeId", "node: {id: \"\"}\nports: [{name: p, device: d, ipv4: 10.0.0.1/8}]\n",
     "node.id: expected a non-empty string such as gw-1, got \"\""},
    {"MissingNode", "ports: [{name: p, device: d, ipv4: 10.0.0.1/8}]\n",
     "node: missing (expected a map with at least id)"},
    {"MissingPorts", "node: {id: a}\n", "ports: missing (expected a list of 1 to 16 ports)"},
    {"EmptyPorts", "node: {id: a}\nports: []\n", "ports: expected a list of 1 to 16 ports, got an empty list"},
    {"PortWithoutAddress", "node: {id: a}\nports: [{name: p, device: d}]\n",
     "ports[0]: missing ipv4 and ipv6 (expected at least one of them)"},
    {"PortWithoutName", "node: {id: a}\nports: [{device: d, ipv4: 10.0.0.1/8}]\n",
     "ports[0].name: missing (expected 1 to 32 characters from A-Z a-z 0-9 _ -)"},
    {"PortWithoutDevice", "node: {id: a}\nports: [{name: p, ipv4: 10.0.0.1/8}]\n",
     "ports[0].device: missing (expected a DPDK device such as 0000:01:00.0 or net_tap0,iface=lg0)"},

    // Wrong types.
    {"PortsIsMap", "node: {id: a}\nports: {name: p, device: d, ipv4: 10.0.0.1/8}\n",
     "ports: expected a list of 1 to 16 ports, got a map"},
    {"NodeIsList", "node: [gw-1]\nports: [{name: p, device: d, ipv4: 10.0.0.1/8}]\n",
     "node: expected a map with id and optionally cluster, network, labels, got a list"},
    {"PortIsString", "node: {id: a}\nports: [p0]\n",
     "ports[0]: expected a map with name, device and ipv4 or ipv6, got \"p0\""},
    {"EalIsString", doc("", "eal: --file-prefix=x\n"),
     "eal: expected a list of strings such as [\"--file-prefix=gw1\"], got \"--file-prefix=x\""},
    {"EalItemIsMap", doc("", "eal: [{a: b}]\n"), "eal[0]: expected a string, got a map"},
    {"LabelsIsList", "node: {id: a, labels: [x]}\nports: [{name: p, device: d, ipv4: 10.0.0.1/8}]\n",
     "node.labels: expected a map of label names to values, got a list"},
    {"WorkersIsList", doc("", "workers: [1]\n"), "workers: expected an integer from 1 to 64, got a list"},
    {"MtuIsEmpty", doc("    mtu:\n"), "ports[0].mtu: expected an integer from 576 to 9000, got an empty value"},
    {"TopLevelIsList", "- a\n- b\n",
     "expected a map at the top level with keys " + kTopKeysList + ", got a list"},
    {"TopLevelIsScalar", "hello\n",
     "expected a map at the top level with keys " + kTopKeysList + ", got \"hello\""},

    // Numbers.
    {"WorkersWord", doc("", "workers: zero\n"), "workers: expected an integer from 1 to 64, got \"zero\""},
    {"WorkersZero", doc("", "workers: 0\n"), "workers: expected an integer from 1 to 64, got \"0\""},
    {"WorkersTooMany", doc("", "workers: 65\n"), "workers: expected an integer from 1 to 64, got \"65\""},
    {"WorkersNegative", doc("", "workers: -1\n"), "workers: expected an integer from 1 to 64, got \"-1\""},
    {"WorkersFraction", doc("", "workers: 1.5\n"), "workers: expected an integer from 1 to 64, got \"1.5\""},
    {"WorkersHuge", doc("", "workers: 99999999999999999999999\n"),
     "workers: expected an integer from 1 to 64, got \"99999999999999999999999\""},
    {"IdleSleepTooLong", doc("", "idle_sleep_us: 100001\n"),
     "idle_sleep_us: expected an integer from 0 to 100000, got \"100001\""},
    {"MbufsTooFew", doc("", "mbufs_per_port: 1023\n"),
     "mbufs_per_port: expected an integer from 1024 to 1048576, got \"1023\""},
    {"MtuTooBig", doc("    mtu: 70000\n"), "ports[0].mtu: expected an integer from 576 to 9000, got \"70000\""},
    {"MtuTrailingJunk", doc("    mtu: 12abc\n"), "ports[0].mtu: expected an integer from 576 to 9000, got \"12abc\""},
    {"MtuLeadingPlus", doc("    mtu: +1500\n"), "ports[0].mtu: expected an integer from 576 to 9000, got \"+1500\""},
    {"MtuHex", doc("    mtu: 0x5dc\n"), "ports[0].mtu: expected an integer from 576 to 9000, got \"0x5dc\""},
    {"VlanTooBig", doc("    vlan: 4095\n"), "ports[0].vlan: expected an integer from 0 to 4094, got \"4095\""},
    {"RxDescNotPowerOfTwo", doc("    rx_desc: 1000\n"),
     "ports[0].rx_desc: expected a power of two from 64 to 16384, got \"1000\""},
    {"TxDescTooBig", doc("    tx_desc: 32768\n"),
     "ports[0].tx_desc: expected a power of two from 64 to 16384, got \"32768\""},

    // IPv4.
    {"Ipv4BadOctet", "node: {id: a}\nports: [{name: p, device: d, ipv4: 10.77.0.300/24}]\n",
     "ports[0].ipv4: expected an IPv4 address with prefix length such as 10.77.0.2/24, got \"10.77.0.300/24\""},
    {"Ipv4NoPrefix", "node: {id: a}\nports: [{name: p, device: d, ipv4: 10.77.0.2}]\n",
     "ports[0].ipv4: expected an IPv4 address with prefix length such as 10.77.0.2/24, got \"10.77.0.2\""},
    {"Ipv4PrefixTooLong", "node: {id: a}\nports: [{name: p, device: d, ipv4: 10.77.0.2/33}]\n",
     "ports[0].ipv4: expected a prefix length from 1 to 32 after the slash, got \"10.77.0.2/33\""},
    {"Ipv4PrefixZero", "node: {id: a}\nports: [{name: p, device: d, ipv4: 10.77.0.2/0}]\n",
     "ports[0].ipv4: expected a prefix length from 1 to 32 after the slash, got \"10.77.0.2/0\""},
    {"Ipv4PrefixJunk", "node: {id: a}\nports: [{name: p, device: d, ipv4: 10.77.0.2/24x}]\n",
     "ports[0].ipv4: expected a prefix length from 1 to 32 after the slash, got \"10.77.0.2/24x\""},
    {"Ipv4NetworkAddress", "node: {id: a}\nports: [{name: p, device: d, ipv4: 10.77.0.0/24}]\n",
     "ports[0].ipv4: expected a host address in its subnet, got the network address \"10.77.0.0/24\""},
    {"Ipv4BroadcastAddress", "node: {id: a}\nports: [{name: p, device: d, ipv4: 10.77.0.255/24}]\n",
     "ports[0].ipv4: expected a host address in its subnet, got the broadcast address \"10.77.0.255/24\""},
    {"Ipv4Multicast", "node: {id: a}\nports: [{name: p, device: d, ipv4: 224.0.0.5/32}]\n",
     "ports[0].ipv4: expected a unicast host address, got the multicast address \"224.0.0.5/32\""},

    // IPv6.
    {"Ipv6Bad", "node: {id: a}\nports: [{name: p, device: d, ipv6: \"fd77::g/64\"}]\n",
     "ports[0].ipv6: expected an IPv6 address with prefix length such as fd77::2/64, got \"fd77::g/64\""},
    {"Ipv6PrefixTooLong", "node: {id: a}\nports: [{name: p, device: d, ipv6: \"fd77::2/129\"}]\n",
     "ports[0].ipv6: expected a prefix length from 1 to 128 after the slash, got \"fd77::2/129\""},
    {"Ipv6Multicast", "node: {id: a}\nports: [{name: p, device: d, ipv6: \"ff02::1/64\"}]\n",
     "ports[0].ipv6: expected a unicast address, got the multicast address \"ff02::1/64\""},
    {"Ipv6Unspecified", "node: {id: a}\nports: [{name: p, device: d, ipv6: \"::/64\"}]\n",
     "ports[0].ipv6: expected a unicast address, got the unspecified address \"::/64\""},

    // Gateways.
    {"GatewayOutsideSubnet", doc("    gateway: 10.78.0.1\n"),
     "ports[0].gateway: expected an address inside the port's subnet 10.77.0.0/24, got \"10.78.0.1\""},
    {"GatewayIsPortAddress", doc("    gateway: 10.77.0.2\n"),
     "ports[0].gateway: expected an address other than the port's own 10.77.0.2, got \"10.77.0.2\""},
    {"GatewayIsBroadcast", doc("    gateway: 10.77.0.255\n"),
     "ports[0].gateway: expected a host address inside 10.77.0.0/24, got the broadcast address \"10.77.0.255\""},
    {"GatewayBadSyntax", doc("    gateway: 10.77.0.1/24\n"),
     "ports[0].gateway: expected an IPv4 address such as 10.77.0.1, got \"10.77.0.1/24\""},
    {"GatewayWithoutIpv4", "node: {id: a}\nports: [{name: p, device: d, ipv6: \"fd::1/64\", gateway: 10.0.0.1}]\n",
     "ports[0].gateway: requires ports[0].ipv4 (the gateway must lie inside its subnet)"},
    {"Gateway6WithoutIpv6", doc("    gateway6: fd77::1\n"),
     "ports[0].gateway6: requires ports[0].ipv6 (IPv6 next hops are reached over the port's IPv6 address)"},
    {"Gateway6Multicast", "node: {id: a}\nports: [{name: p, device: d, ipv6: \"fd::1/64\", gateway6: \"ff02::2\"}]\n",
     "ports[0].gateway6: expected a unicast address, got the multicast address \"ff02::2\""},

    // Port identity.
    {"PortNameBadChars", "node: {id: a}\nports: [{name: p 0, device: d, ipv4: 10.0.0.1/8}]\n",
     "ports[0].name: expected 1 to 32 characters from A-Z a-z 0-9 _ -, got \"p 0\""},
    {"PortNameTooLong",
     "node: {id: a}\nports: [{name: " + std::string(33, 'x') + ", device: d, ipv4: 10.0.0.1/8}]\n",
     "ports[0].name: expected 1 to 32 characters from A-Z a-z 0-9 _ -, got \"" + std::string(33, 'x') + "\""},
    {"DuplicatePortName",
     "node: {id: a}\nports:\n  - {name: p, device: d0, ipv4: 10.0.0.1/8}\n  - {name: p, device: d1, ipv4: "
     "10.0.0.2/8}\n",
     "ports[1].name: expected a name no other port uses, got \"p\" (also ports[0].name)"},
    {"DuplicateDevice",
     "node: {id: a}\nports:\n  - {name: a, device: d0, ipv4: 10.0.0.1/8}\n  - {name: b, device: d0, ipv4: "
     "10.0.0.2/8}\n",
     "ports[1].device: expected a device no other port uses, got \"d0\" (also ports[0].device)"},
    {"EmptyDevice", "node: {id: a}\nports: [{name: p, device: \"\", ipv4: 10.0.0.1/8}]\n",
     "ports[0].device: expected a DPDK device such as 0000:01:00.0 or net_tap0,iface=lg0, got \"\""},

    // EAL.
    {"EalProcType", doc("", "eal: [\"--proc-type=secondary\"]\n"),
     "eal[0]: expected an EAL argument other than --proc-type (linegate always runs as a primary process), "
     "got \"--proc-type=secondary\""},
    {"EalProcTypeAbbreviated", doc("", "eal: [\"-l\", \"0-3\", \"--proc\", \"auto\"]\n"),
     "eal[2]: expected an EAL argument other than --proc-type (linegate always runs as a primary process), "
     "got \"--proc\""},

    // Labels.
    {"LabelEmptyKey", "node: {id: a, labels: {\"\": x}}\nports: [{name: p, device: d, ipv4: 10.0.0.1/8}]\n",
     "node.labels.\"\": expected a Kubernetes label key such as app or example.com/app (name of up to 63 "
     "characters A-Z a-z 0-9 - _ . starting and ending alphanumeric), got \"\""},
    {"LabelBadValue", "node: {id: a, labels: {app: \"-x\"}}\nports: [{name: p, device: d, ipv4: 10.0.0.1/8}]\n",
     "node.labels.app: expected a Kubernetes label value (empty, or up to 63 characters A-Z a-z 0-9 - _ . "
     "starting and ending alphanumeric), got \"-x\""},

    // Admin.
    {"AdminHostname", doc("", "admin: example.com:15000\n"),
     "admin: expected host:port with an IPv4 address, [IPv6 address] or localhost, such as 127.0.0.1:15000, "
     "got \"example.com:15000\""},
    {"AdminNoPort", doc("", "admin: 127.0.0.1\n"),
     "admin: expected host:port with an IPv4 address, [IPv6 address] or localhost, such as 127.0.0.1:15000, "
     "got \"127.0.0.1\""},
    {"AdminBareIpv6", doc("", "admin: \"::1:15000\"\n"),
     "admin: expected host:port with an IPv4 address, [IPv6 address] or localhost, such as 127.0.0.1:15000, "
     "got \"::1:15000\""},
    {"AdminPortZero", doc("", "admin: 127.0.0.1:0\n"), "admin: expected a port from 1 to 65535, got \"127.0.0.1:0\""},
    {"AdminPortTooBig", doc("", "admin: \"[::1]:65536\"\n"),
     "admin: expected a port from 1 to 65535, got \"[::1]:65536\""},
    {"AdminPortJunk", doc("", "admin: localhost:80x\n"), "admin: expected a port from 1 to 65535, got \"localhost:80x\""},

    // Whole file.
    {"EmptyFile", "", "expected a map with at least node and ports, got an empty file"},
    {"OnlyComments", "# nothing here\n", "expected a map with at least node and ports, got an empty file"},
    {"TwoDocuments", doc() + "---\n" + doc(), "expected a single YAML document, got 2 documents"},

    // Port impairment.
    {"ImpairUnknownKey", doc("    impair: {loss: 0.1, drop: 0.1}\n"),
     "ports[0].impair.drop: unknown key (expected one of: " + kImpairKeysList + ")"},
    {"ImpairIsScalar", doc("    impair: 0.1\n"),
     "ports[0].impair: expected a map with any of " + kImpairKeysList + ", got \"0.1\""},
    {"ImpairIsEmpty", doc("    impair:\n"),
     "ports[0].impair: expected a map with any of " + kImpairKeysList + ", got an empty value"},
    {"ImpairLossAboveOne", doc("    impair: {loss: 1.5}\n"),
     "ports[0].impair.loss: expected a fraction from 0 to 1, got \"1.5\""},
    {"ImpairLossJustAboveOne", doc("    impair: {loss: 1.0000001}\n"),
     "ports[0].impair.loss: expected a fraction from 0 to 1, got \"1.0000001\""},
    {"ImpairReorderNegative", doc("    impair: {reorder: -0.1}\n"),
     "ports[0].impair.reorder: expected a fraction from 0 to 1, got \"-0.1\""},
    {"ImpairDuplicateNan", doc("    impair: {duplicate: .nan}\n"),
     "ports[0].impair.duplicate: expected a fraction from 0 to 1, got \".nan\""},
    {"ImpairCorruptInf", doc("    impair: {corrupt: .inf}\n"),
     "ports[0].impair.corrupt: expected a fraction from 0 to 1, got \".inf\""},
    {"ImpairLossWordNan", doc("    impair: {loss: nan}\n"),
     "ports[0].impair.loss: expected a fraction from 0 to 1, got \"nan\""},
    {"ImpairLossPercent", doc("    impair: {loss: 2%}\n"),
     "ports[0].impair.loss: expected a fraction from 0 to 1, got \"2%\""},
    {"ImpairLossHex", doc("    impair: {loss: 0x1p-3}\n"),
     "ports[0].impair.loss: expected a fraction from 0 to 1, got \"0x1p-3\""},
    {"ImpairLossExponentOverflow", doc("    impair: {loss: 1e400}\n"),
     "ports[0].impair.loss: expected a fraction from 0 to 1, got \"1e400\""},
    {"ImpairLossBareDot", doc("    impair: {loss: .}\n"),
     "ports[0].impair.loss: expected a fraction from 0 to 1, got \".\""},
    {"ImpairLossIsList", doc("    impair: {loss: [0.1]}\n"),
     "ports[0].impair.loss: expected a fraction from 0 to 1, got a list"},
    {"ImpairDelayTooLong", doc("    impair: {delay_us: 1000001}\n"),
     "ports[0].impair.delay_us: expected an integer from 0 to 1000000, got \"1000001\""},
    {"ImpairSeedOverflow", doc("    impair: {seed: 18446744073709551616}\n"),
     "ports[0].impair.seed: expected an integer from 0 to 18446744073709551615, got \"18446744073709551616\""},
    {"ImpairSeedNegative", doc("    impair: {seed: -1}\n"),
     "ports[0].impair.seed: expected an integer from 0 to 18446744073709551615, got \"-1\""},

    // TCP settings.
    {"TcpUnknownKey", doc("", "tcp: {max_conns: 100}\n"),
     "tcp.max_conns: unknown key (expected one of: " + kTcpKeysList + ")"},
    {"TcpIsList", doc("", "tcp: [cubic]\n"), "tcp: expected a map with any of " + kTcpKeysList + ", got a list"},
    {"TcpMaxConnectionsTooFew", doc("", "tcp: {max_connections: 63}\n"),
     "tcp.max_connections: expected an integer from 64 to 4194304, got \"63\""},
    {"TcpMaxConnectionsTooMany", doc("", "tcp: {max_connections: 4194305}\n"),
     "tcp.max_connections: expected an integer from 64 to 4194304, got \"4194305\""},
    {"TcpTimeWaitTooLong", doc("", "tcp: {time_wait_ms: 240001}\n"),
     "tcp.time_wait_ms: expected an integer from 0 to 240000, got \"240001\""},
    {"TcpMaxTimeWaitTooMany", doc("", "tcp: {max_time_wait: 4194305}\n"),
     "tcp.max_time_wait: expected an integer from 0 to 4194304, got \"4194305\""},
    {"TcpDelayedAckTooLong", doc("", "tcp: {delayed_ack_ms: 501}\n"),
     "tcp.delayed_ack_ms: expected an integer from 0 to 500, got \"501\""},
    {"TcpRtoMinZero", doc("", "tcp: {rto_min_ms: 0}\n"),
     "tcp.rto_min_ms: expected an integer from 1 to 1000, got \"0\""},
    {"TcpSynBacklogZero", doc("", "tcp: {syn_backlog: 0}\n"),
     "tcp.syn_backlog: expected an integer from 1 to 65535, got \"0\""},
    {"TcpConnectTimeoutTooShort", doc("", "tcp: {connect_timeout_ms: 99}\n"),
     "tcp.connect_timeout_ms: expected an integer from 100 to 600000, got \"99\""},
    {"TcpConnectTimeoutTooLong", doc("", "tcp: {connect_timeout_ms: 600001}\n"),
     "tcp.connect_timeout_ms: expected an integer from 100 to 600000, got \"600001\""},
    {"TcpUserTimeoutTooLong", doc("", "tcp: {user_timeout_ms: 3600001}\n"),
     "tcp.user_timeout_ms: expected an integer from 0 to 3600000, got \"3600001\""},
    {"TcpKeepaliveTooLong", doc("", "tcp: {keepalive_ms: 86400001}\n"),
     "tcp.keepalive_ms: expected an integer from 0 to 86400000, got \"86400001\""},
    {"TcpRcvBufferTooSmall", doc("", "tcp: {rcv_buffer: 16383}\n"),
     "tcp.rcv_buffer: expected an integer from 16384 to 67108864, got \"16383\""},
    {"TcpSndBufferTooBig", doc("", "tcp: {snd_buffer: 67108865}\n"),
     "tcp.snd_buffer: expected an integer from 16384 to 67108864, got \"67108865\""},
    {"TcpBufferWithUnit", doc("", "tcp: {rcv_buffer: 1M}\n"),
     "tcp.rcv_buffer: expected an integer from 16384 to 67108864, got \"1M\""},
    {"TcpUnknownCongestionControl", doc("", "tcp: {congestion_control: reno}\n"),
     "tcp.congestion_control: expected one of cubic, newreno, got \"reno\""},
    {"TcpCongestionControlWrongCase", doc("", "tcp: {congestion_control: CUBIC}\n"),
     "tcp.congestion_control: expected one of cubic, newreno, got \"CUBIC\""},
    {"TcpDuplicateKey", doc("", "tcp:\n  syn_backlog: 1\n  syn_backlog: 2\n"),
     "tcp.syn_backlog: duplicate key (first set on line 8)"},

    // Test apps: shape.
    {"TestAppsIsMap", doc("", "test_apps: {kind: echo, port: 7}\n"),
     "test_apps: expected a list of test apps such as [{kind: echo, port: 7}], got a map"},
    {"TestAppIsScalar", apps("  - echo\n"),
     "test_apps[0]: expected a map with kind and its settings, such as {kind: echo, port: 7}, got \"echo\""},
    {"TestAppUnknownKey", apps("  - {kind: echo, port: 7}\n  - {kind: discard, port: 9, prot: 9}\n"),
     "test_apps[1].prot: unknown key (expected one of: kind, port, bytes, connect, connections)"},
    {"TestAppMissingKind", apps("  - {port: 7}\n"),
     "test_apps[0].kind: missing (expected one of echo, discard, source, client)"},
    {"TestAppUnknownKind", apps("  - {kind: chargen, port: 19}\n"),
     "test_apps[0].kind: expected one of echo, discard, source, client, got \"chargen\""},
    {"TestAppKindIsList", apps("  - {kind: [echo], port: 7}\n"),
     "test_apps[0].kind: expected one of echo, discard, source, client, got a list"},

    // Test apps: listeners.
    {"EchoMissingPort", apps("  - {kind: echo}\n"),
     "test_apps[0].port: missing (expected an integer from 1 to 65535)"},
    {"EchoPortZero", apps("  - {kind: echo, port: 0}\n"),
     "test_apps[0].port: expected an integer from 1 to 65535, got \"0\""},
    {"DiscardPortTooBig", apps("  - {kind: discard, port: 65536}\n"),
     "test_apps[0].port: expected an integer from 1 to 65535, got \"65536\""},
    {"EchoWithConnect", apps("  - {kind: echo, port: 7, connect: 10.77.0.1:7}\n"),
     "test_apps[0].connect: not allowed for kind echo (expected one of: kind, port)"},
    {"DiscardWithBytes", apps("  - {kind: discard, port: 9, bytes: 10}\n"),
     "test_apps[0].bytes: not allowed for kind discard (expected one of: kind, port)"},
    {"SourceWithConnections", apps("  - {kind: source, port: 19, bytes: 10, connections: 2}\n"),
     "test_apps[0].connections: not allowed for kind source (expected one of: kind, port, bytes)"},
    {"SourceMissingBytes", apps("  - {kind: source, port: 19}\n"),
     "test_apps[0].bytes: missing (expected an integer from 1 to 9223372036854775808)"},
    {"SourceZeroBytes", apps("  - {kind: source, port: 19, bytes: 0}\n"),
     "test_apps[0].bytes: expected an integer from 1 to 9223372036854775808, got \"0\""},
    {"SourceTooManyBytes", apps("  - {kind: source, port: 19, bytes: 9223372036854775809}\n"),
     "test_apps[0].bytes: expected an integer from 1 to 9223372036854775808, got \"9223372036854775809\""},
    {"DuplicateListenPort",
     apps("  - {kind: echo, port: 7}\n  - {kind: discard, port: 9}\n  - {kind: echo, port: 7}\n"),
     "test_apps[2].port: 7 already used by test_apps[0]"},
    {"DuplicateListenPortAcrossKinds",
     apps("  - {kind: source, port: 19, bytes: 1}\n  - {kind: discard, port: 019}\n"),
     "test_apps[1].port: 19 already used by test_apps[0]"},

    // Test apps: clients.
    {"ClientMissingConnect", apps("  - {kind: client, bytes: 100}\n"),
     "test_apps[0].connect: missing (expected " + kConnectForm + ")"},
    {"ClientMissingBytes", apps("  - {kind: client, connect: 10.77.0.1:5001}\n"),
     "test_apps[0].bytes: missing (expected an integer from 1 to 9223372036854775808)"},
    {"ClientWithPort", apps("  - {kind: client, port: 5001, connect: 10.77.0.1:5001, bytes: 1}\n"),
     "test_apps[0].port: not allowed for kind client (expected one of: kind, bytes, connect, connections)"},
    {"ClientZeroConnections", apps("  - {kind: client, connect: 10.77.0.1:5001, bytes: 1, connections: 0}\n"),
     "test_apps[0].connections: expected an integer from 1 to 100000, got \"0\""},
    {"ClientTooManyConnections",
     apps("  - {kind: client, connect: 10.77.0.1:5001, bytes: 1, connections: 100001}\n"),
     "test_apps[0].connections: expected an integer from 1 to 100000, got \"100001\""},
    {"ClientConnectHostname", apps("  - {kind: client, connect: example.com:5001, bytes: 1}\n"),
     "test_apps[0].connect: expected " + kConnectForm + ", got \"example.com:5001\""},
    {"ClientConnectLocalhost", apps("  - {kind: client, connect: localhost:5001, bytes: 1}\n"),
     "test_apps[0].connect: expected " + kConnectForm + ", got \"localhost:5001\""},
    {"ClientConnectBareIpv6", apps("  - {kind: client, connect: \"fd77::1:5001\", bytes: 1}\n", kDualStack),
     "test_apps[0].connect: expected " + kConnectForm + ", got \"fd77::1:5001\""},
    {"ClientConnectBracketedIpv4", apps("  - {kind: client, connect: \"[10.77.0.1]:5001\", bytes: 1}\n"),
     "test_apps[0].connect: expected " + kConnectForm + ", got \"[10.77.0.1]:5001\""},
    {"ClientConnectNoPort", apps("  - {kind: client, connect: 10.77.0.1, bytes: 1}\n"),
     "test_apps[0].connect: expected " + kConnectForm + ", got \"10.77.0.1\""},
    {"ClientConnectWithPrefix", apps("  - {kind: client, connect: 10.77.0.1/24:80, bytes: 1}\n"),
     "test_apps[0].connect: expected " + kConnectForm + ", got \"10.77.0.1/24:80\""},
    {"ClientConnectPortZero", apps("  - {kind: client, connect: 10.77.0.1:0, bytes: 1}\n"),
     "test_apps[0].connect: expected a port from 1 to 65535, got \"10.77.0.1:0\""},
    {"ClientConnectPortTooBig", apps("  - {kind: client, connect: \"[fd77::1]:65536\", bytes: 1}\n", kDualStack),
     "test_apps[0].connect: expected a port from 1 to 65535, got \"[fd77::1]:65536\""},
    {"ClientConnectMulticast", apps("  - {kind: client, connect: 224.0.0.1:5001, bytes: 1}\n"),
     "test_apps[0].connect: expected a remote unicast address, got the multicast address \"224.0.0.1:5001\""},
    {"ClientConnectUnspecified", apps("  - {kind: client, connect: 0.0.0.0:5001, bytes: 1}\n"),
     "test_apps[0].connect: expected a remote unicast address, got the unspecified address \"0.0.0.0:5001\""},
    {"ClientConnectBroadcast", apps("  - {kind: client, connect: 255.255.255.255:5001, bytes: 1}\n"),
     "test_apps[0].connect: expected a remote unicast address, got the reserved address "
     "\"255.255.255.255:5001\""},
    {"ClientConnectLoopback", apps("  - {kind: client, connect: 127.0.0.1:5001, bytes: 1}\n"),
     "test_apps[0].connect: expected a remote unicast address, got the loopback address \"127.0.0.1:5001\""},
    {"ClientConnectIpv6Loopback", apps("  - {kind: client, connect: \"[::1]:5001\", bytes: 1}\n", kDualStack),
     "test_apps[0].connect: expected a remote unicast address, got the loopback address \"[::1]:5001\""},
    {"ClientConnectIpv6Multicast", apps("  - {kind: client, connect: \"[ff02::1]:5001\", bytes: 1}\n", kDualStack),
     "test_apps[0].connect: expected a remote unicast address, got the multicast address \"[ff02::1]:5001\""},
    {"ClientToIpv6WithoutIpv6Port", apps("  - {kind: client, connect: \"[fd77::1]:5001\", bytes: 1}\n"),
     "test_apps[0].connect: requires ipv6 on some port (a client connects from a port address of the same "
     "family)"},
    {"ClientToIpv4WithoutIpv4Port",
     "node: {id: a}\nports: [{name: p, device: d, ipv6: \"fd77::2/64\"}]\n"
     "test_apps: [{kind: client, connect: 10.77.0.1:5001, bytes: 1}]\n",
     "test_apps[0].connect: requires ipv4 on some port (a client connects from a port address of the same "
     "family)"},
};

INSTANTIATE_TEST_SUITE_P(Cases, BootstrapInvalid, ::testing::ValuesIn(kBadCases),
                         [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// Errors that need more than one line or a file on disk.

TEST(Bootstrap, TooManyPorts) {
  std::string yaml = "node: {id: a}\nports:\n";
  for (int i = 0; i < 17; ++i) {
    yaml += "  - {name: p" + std::to_string(i) + ", device: d" + std::to_string(i) + ", ipv4: 10.0.0." +
            std::to_string(i + 1) + "/24}\n";
  }
  BootstrapResult r = parse(yaml);
  ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
  EXPECT_EQ(r.errors[0], "bootstrap.yaml: ports: expected a list of 1 to 16 ports, got 17 ports");
}

TEST(Bootstrap, SyntaxErrorNamesLineAndColumn) {
  BootstrapResult r = parse("node: {id: a}\nports:\n  - name: p0\n   device: x: y\n");
  EXPECT_FALSE(r.bootstrap);
  ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
  EXPECT_TRUE(contains(r.errors[0], "bootstrap.yaml:4:")) << r.errors[0];
  EXPECT_TRUE(contains(r.errors[0], ": YAML syntax error: ")) << r.errors[0];
}

TEST(Bootstrap, UnclosedFlowMapReportsPosition) {
  BootstrapResult r = parse("node: {id: a\n");
  ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
  EXPECT_EQ(r.errors[0], "bootstrap.yaml:2:1: YAML syntax error: end of map flow not found");
}

TEST(Bootstrap, CollectsEveryError) {
  const std::string yaml = R"(
node: {cluster: c}
workers: 0
colour: blue
ports:
  - name: p0
    device: d0
    ipv4: 10.77.0.300/24
    mtu: 12abc
  - name: p0
    device: d1
    ipv6: fd77::2/64
    gateway: 10.77.0.1
admin: nowhere
)";
  BootstrapResult r = parse(yaml);
  EXPECT_FALSE(r.bootstrap);
  const std::vector<std::string> want = {
      "bootstrap.yaml: colour: unknown key (expected one of: " + kTopKeysList + ")",
      "bootstrap.yaml: node.id: missing (expected a non-empty string such as gw-1)",
      "bootstrap.yaml: workers: expected an integer from 1 to 64, got \"0\"",
      "bootstrap.yaml: ports[0].ipv4: expected an IPv4 address with prefix length such as 10.77.0.2/24, got "
      "\"10.77.0.300/24\"",
      "bootstrap.yaml: ports[0].mtu: expected an integer from 576 to 9000, got \"12abc\"",
      "bootstrap.yaml: ports[1].gateway: requires ports[1].ipv4 (the gateway must lie inside its subnet)",
      "bootstrap.yaml: ports[1].name: expected a name no other port uses, got \"p0\" (also ports[0].name)",
      "bootstrap.yaml: admin: expected host:port with an IPv4 address, [IPv6 address] or localhost, such as "
      "127.0.0.1:15000, got \"nowhere\"",
  };
  EXPECT_EQ(r.errors, want) << joined(r.errors);
}

TEST(Bootstrap, CollectsEveryNewSectionError) {
  // Values are checked whatever the kind, and a bad app still takes part in
  // the listen port check, so one run shows every mistake.
  const std::string yaml = R"(
node: {id: gw-1}
ports:
  - {name: p0, device: d0, ipv4: 10.77.0.2/24, impair: {loss: 1.5, delay_us: x, seed: 3}}
tcp: {max_connections: 10, congestion_control: bbr, rcv_buffer: 1024}
test_apps:
  - {kind: echo, prot: 7}
  - {kind: telnet, port: 0, bytes: 0}
  - {kind: source, port: 7, connect: "[fd77::1]:1"}
  - {kind: echo, port: 7, bytes: 5}
)";
  BootstrapResult r = parse(yaml);
  EXPECT_FALSE(r.bootstrap);
  const std::vector<std::string> want = {
      "bootstrap.yaml: ports[0].impair.loss: expected a fraction from 0 to 1, got \"1.5\"",
      "bootstrap.yaml: ports[0].impair.delay_us: expected an integer from 0 to 1000000, got \"x\"",
      "bootstrap.yaml: tcp.max_connections: expected an integer from 64 to 4194304, got \"10\"",
      "bootstrap.yaml: tcp.rcv_buffer: expected an integer from 16384 to 67108864, got \"1024\"",
      "bootstrap.yaml: tcp.congestion_control: expected one of cubic, newreno, got \"bbr\"",
      "bootstrap.yaml: test_apps[0].prot: unknown key (expected one of: kind, port, bytes, connect, connections)",
      "bootstrap.yaml: test_apps[0].port: missing (expected an integer from 1 to 65535)",
      "bootstrap.yaml: test_apps[1].kind: expected one of echo, discard, source, client, got \"telnet\"",
      "bootstrap.yaml: test_apps[1].port: expected an integer from 1 to 65535, got \"0\"",
      "bootstrap.yaml: test_apps[1].bytes: expected an integer from 1 to 9223372036854775808, got \"0\"",
      "bootstrap.yaml: test_apps[2].connect: requires ipv6 on some port (a client connects from a port address "
      "of the same family)",
      "bootstrap.yaml: test_apps[2].connect: not allowed for kind source (expected one of: kind, port, bytes)",
      "bootstrap.yaml: test_apps[2].bytes: missing (expected an integer from 1 to 9223372036854775808)",
      "bootstrap.yaml: test_apps[3].bytes: not allowed for kind echo (expected one of: kind, port)",
      "bootstrap.yaml: test_apps[3].port: 7 already used by test_apps[2]",
  };
  EXPECT_EQ(r.errors, want) << joined(r.errors);
}

TEST(Bootstrap, ClientFamilyNotCheckedAgainstBrokenPorts) {
  // A bad ipv6 still counts as asking for IPv6, and a ports list that can't
  // be read isn't used at all: either way the first error is the only one.
  BootstrapResult r = parse(
      "node: {id: a}\nports: [{name: p, device: d, ipv6: \"fd77::g/64\"}]\n"
      "test_apps: [{kind: client, connect: \"[fd77::1]:5001\", bytes: 1}]\n");
  ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
  EXPECT_TRUE(contains(r.errors[0], "ports[0].ipv6: ")) << r.errors[0];

  r = parse("node: {id: a}\nports: [p0]\ntest_apps: [{kind: client, connect: 10.0.0.1:1, bytes: 1}]\n");
  ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
  EXPECT_TRUE(contains(r.errors[0], "ports[0]: ")) << r.errors[0];

  r = parse("node: {id: a}\ntest_apps: [{kind: client, connect: 10.0.0.1:1, bytes: 1}]\n");
  ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
  EXPECT_TRUE(contains(r.errors[0], "ports: missing")) << r.errors[0];
}

TEST(Bootstrap, ClientFamilyFromAnyPort) {
  // The IPv6 address may be on a different port than the first one.
  BootstrapResult r = parse(R"(
node: {id: a}
ports:
  - {name: p0, device: d0, ipv4: 10.77.0.2/24}
  - {name: p1, device: d1, ipv6: "fd78::2/64"}
test_apps:
  - {kind: client, connect: "[fd78::1]:5001", bytes: 1}
  - {kind: client, connect: "10.77.0.1:5001", bytes: 1}
)");
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_TRUE(r.bootstrap);
  EXPECT_EQ(r.bootstrap->test_apps.size(), 2u);
}

TEST(Bootstrap, GatewayNotCheckedAgainstBadIpv4) {
  // A broken ipv4 is reported once; the gateway check would only repeat it.
  BootstrapResult r = parse("node: {id: a}\nports: [{name: p, device: d, ipv4: 10.77.0.0/24, gateway: 10.99.0.1}]\n");
  ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
  EXPECT_TRUE(contains(r.errors[0], "ports[0].ipv4: ")) << r.errors[0];
}

TEST(Bootstrap, ControlCharactersAreEscaped) {
  BootstrapResult r = parse(doc("    mtu: \"15\\x00\\n\\\"\"\n"));
  ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
  EXPECT_EQ(r.errors[0], "bootstrap.yaml: ports[0].mtu: expected an integer from 576 to 9000, got \"15\\x00\\x0a\\\"\"");
}

class BootstrapFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/linegate-bootstrap-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::remove((dir_ + "/bootstrap.yaml").c_str());
    rmdir(dir_.c_str());
  }
  std::string write(const std::string& text) {
    std::string path = dir_ + "/bootstrap.yaml";
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(BootstrapFile, LoadsFromDisk) {
  const std::string path = write(doc());
  BootstrapResult r = load_bootstrap_file(path);
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_TRUE(r.bootstrap);
  EXPECT_EQ(r.bootstrap->path, path);
  EXPECT_EQ(r.bootstrap->ports[0].name, "p0");
}

TEST_F(BootstrapFile, ErrorsArePrefixedWithThePath) {
  const std::string path = write(doc("    mtu: 70000\n"));
  BootstrapResult r = load_bootstrap_file(path);
  ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
  EXPECT_EQ(r.errors[0], path + ": ports[0].mtu: expected an integer from 576 to 9000, got \"70000\"");
}

TEST_F(BootstrapFile, MissingFile) {
  const std::string path = dir_ + "/nope.yaml";
  BootstrapResult r = load_bootstrap_file(path);
  EXPECT_FALSE(r.bootstrap);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], path + ": cannot read: No such file or directory");
}

TEST_F(BootstrapFile, DirectoryIsUnreadable) {
  BootstrapResult r = load_bootstrap_file(dir_);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], dir_ + ": cannot read: Is a directory");
}

TEST_F(BootstrapFile, EmptyFileOnDisk) {
  const std::string path = write("");
  BootstrapResult r = load_bootstrap_file(path);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], path + ": expected a map with at least node and ports, got an empty file");
}

}  // namespace
}  // namespace lg
