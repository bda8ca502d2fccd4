// Bootstrap file: the static settings a linegate node starts from (node
// identity, EAL arguments, workers, ports, admin address). Parsed once at
// start-up, before EAL; everything that changes at run time comes later from
// the config snapshot instead.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lg {

struct Ipv4Prefix {
  uint32_t addr = 0;  // host byte order
  uint8_t len = 0;
};

struct Ipv6Prefix {
  std::array<uint8_t, 16> addr{};
  uint8_t len = 0;
};

struct NodeIdentity {
  std::string id;
  std::string cluster;
  std::string network;
  std::string ns = "istio-system";  // namespace the gateway workload runs in (Istio resolves credentials there)
  std::map<std::string, std::string> labels;
};

// Test-only packet impairment (the kernel here has no netem): fractions of
// packets, applied to both directions of the port.
struct ImpairSettings {
  double loss = 0, reorder = 0, duplicate = 0, corrupt = 0;  // 0..1
  uint32_t delay_us = 0;                                    // 0..1000000
  uint64_t seed = 1;
};

struct PortConfig {
  std::string name;                      // used in stats labels: [a-zA-Z0-9_-]{1,32}
  std::string device;                    // DPDK devargs: PCI address or vdev string
  std::optional<Ipv4Prefix> ipv4;        // at least one of ipv4/ipv6 is set
  std::optional<Ipv6Prefix> ipv6;
  std::optional<uint32_t> gateway;       // IPv4 next hop, host order; inside ipv4's subnet
  std::optional<std::array<uint8_t, 16>> gateway6;  // IPv6 next hop
  uint16_t mtu = 1500;                   // 576..9000
  uint16_t vlan = 0;                     // 0 = untagged; 1..4094 = 802.1Q tag on every frame
  uint16_t rx_desc = 1024;               // per queue; power of two, 64..16384
  uint16_t tx_desc = 1024;
  ImpairSettings impair;                 // all zero: off
};

// TCP stack settings, per worker unless noted.
struct TcpSettings {
  uint32_t max_connections = 16384;   // per worker; 64..4194304
  uint32_t time_wait_ms = 60000;      // 2*MSL; 0..240000 (0: no TIME_WAIT, for tests only)
  uint32_t max_time_wait = 8192;      // per worker; beyond it connections close without TIME_WAIT
  uint32_t delayed_ack_ms = 40;       // 0 disables delayed ACKs; 0..500
  uint32_t syn_backlog = 1024;        // half-open connections per listener before SYN cookies; 1..65535
  uint32_t connect_timeout_ms = 10000;  // 100..600000
  uint32_t user_timeout_ms = 0;       // RFC 5482; 0 = off (retransmissions give up after ~15 backoffs)
  uint32_t keepalive_ms = 0;          // idle time before probes; 0 = off
  uint32_t rcv_buffer = 1048576;      // per connection, bytes; 16384..67108864
  uint32_t snd_buffer = 1048576;      // per connection, bytes; 16384..67108864
  std::string congestion_control = "cubic";  // cubic | newreno
  // The retransmission timeout's floor (Linux's per-route rto_min): 200 ms
  // as Linux; gateways whose peers sit a few hundred microseconds away lower it.
  uint32_t rto_min_ms = 200;  // 1..1000
};

// Built-in TCP applications on every port address (IPv4 and IPv6), used by
// tests and benchmarks.
struct TestAppConfig {
  std::string kind;          // echo | discard | source | client
  uint16_t port = 0;         // listen port (echo, discard, source)
  uint64_t bytes = 0;        // source: bytes sent per connection; client: bytes to send
  std::string connect;       // client: "10.77.0.1:5001" or "[fd77::1]:5001"
  uint32_t connections = 1;  // client: parallel connections; 1..100000
};

struct AdminConfig {
  std::string host = "127.0.0.1";   // IPv4 or IPv6 literal
  uint16_t port = 15000;
};

// Where the routing config comes from: an agent's discovery stream, or a
// local directory of Istio YAML compiled in-process (standalone mode).
struct AgentSettings {
  std::string address;             // "127.0.0.1:15010"; empty = no agent
  uint32_t initial_backoff_ms = 100;  // reconnect backoff doubles up to max_backoff_ms; 10..60000
  uint32_t max_backoff_ms = 5000;     // 100..600000
};

// Bounds on what one snapshot may ask of this node; a snapshot beyond them
// is NACKed and the last good one keeps serving.
struct ConfigLimits {
  uint32_t max_listeners = 1024;     // 1..65535
  uint32_t max_routes = 1000000;     // 1..100000000, over all route tables
  uint32_t max_clusters = 100000;    // 1..10000000
  uint32_t max_endpoints = 1000000;  // 1..100000000
};

// The L4 and L7 gateways (dataplane/l4, dataplane/l7): per-worker session
// bound, the tls_inspector's wait for a ClientHello, draining, body limit.
struct ProxySettings {
  uint32_t max_sessions = 8192;          // per worker; 16..1048576 (each session holds two TCP connections)
  uint32_t hello_timeout_ms = 15000;     // 100..600000 (Envoy's listener_filters_timeout)
  uint32_t max_connect_attempts = 3;     // 1..10: connect failure → next endpoint
  uint32_t drain_timeout_ms = 5000;      // 0..600000: SIGTERM drains this long at most (0: stop at once)
  uint32_t max_request_bytes = 0;        // 0..2^30: HTTP request bodies above get 413 (0: unlimited)
};

// TLS termination on the workers (dataplane/tls).
struct TlsSettings {
  // Application-data records sealed and opened by Intel IPsec-MB in bursts;
  // false keeps them on OpenSSL's record layer (for comparison).
  bool record_offload = true;
  // A record buffer holds one record at its largest (TLS 1.3: 2^14 + 256
  // bytes of ciphertext and a header, RFC 8446 §5.2) behind mbuf headroom.
  static constexpr uint32_t kRecordBufferBytes = 17 * 1024;
  uint32_t record_buffers = 2048;   // per worker, kRecordBufferBytes each: records in flight; 256..1048576
  uint32_t max_connections = 8192;  // per worker: TLS connections at once; 16..1048576
  // Session resumption (tls/session/ticket_keys.h): one set of ticket keys
  // for the process, rotated this often; a ticket resumes for up to two
  // periods. 0: no session tickets, every handshake is a full one. At most
  // half of TLS 1.3's 7-day ticket lifetime cap (RFC 8446 §4.6.1).
  static constexpr uint32_t kMaxTicketKeyRotationS = 302400;
  uint32_t ticket_key_rotation_s = 3600;  // 0..kMaxTicketKeyRotationS
};

// The gateway's mesh identity for Istio mTLS (tls/session/workload_identity.h):
// files mounted as Istio mounts them (all three paths, re-read when they
// change), or a certificate linegate-agent's CA signs for
// spiffe://<trust_domain>/ns/<node.namespace>/sa/<service_account> and the
// gateway renews at half its lifetime. Neither: no ISTIO_MUTUAL.
struct IdentitySettings {
  std::string cert_chain, private_key, root_cert;  // files
  std::string service_account;                     // from the agent
  std::string trust_domain = "cluster.local";
  uint32_t cert_ttl_s = 86400;  // asked of the agent's CA; 600..7776000 (it may grant less)
  bool from_files() const { return !cert_chain.empty(); }
  bool from_agent() const { return !service_account.empty(); }
};

struct Bootstrap {
  std::string path;                 // file it came from, for messages
  NodeIdentity node;
  std::vector<std::string> eal;     // extra EAL arguments
  unsigned workers = 1;             // 1..64
  unsigned idle_sleep_us = 0;       // 0..100000
  unsigned mbufs_per_port = 16384;  // mbufs per port in the pool; 1024..1048576
  std::vector<PortConfig> ports;    // 1..16, unique names and devices
  AdminConfig admin;
  TcpSettings tcp;
  std::vector<TestAppConfig> test_apps;
  AgentSettings agent;
  std::string config_dir;           // standalone mode: Istio YAML file or directory; exclusive with agent
  std::vector<std::string> crds;    // Istio CRD files/dirs for schema checks in standalone mode ([] = LINEGATE_CRDS or /etc/linegate/crds)
  ConfigLimits config_limits;
  ProxySettings proxy;
  TlsSettings tls;
  IdentitySettings identity;
};

// Parse result: either a Bootstrap or the list of every problem found, each
// naming the key path ("ports[0].ipv4") and the expected form.
struct BootstrapResult {
  std::optional<Bootstrap> bootstrap;
  std::vector<std::string> errors;
};

BootstrapResult load_bootstrap_file(const std::string& path);
BootstrapResult parse_bootstrap(const std::string& yaml_text, const std::string& origin);

// Text forms used in logs and messages.
std::string format_ipv4(uint32_t host_order_addr);
std::string format_ipv6(const std::array<uint8_t, 16>& addr);

}  // namespace lg
