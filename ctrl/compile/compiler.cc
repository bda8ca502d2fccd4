#include "ctrl/compile/compiler.h"

#include "ctrl/compile/clusters.h"
#include "ctrl/compile/context.h"
#include "ctrl/compile/listeners.h"
#include "ctrl/compile/policies.h"
#include "ctrl/compile/registry.h"
#include "ctrl/compile/secrets.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>

namespace lg::ctrl {

namespace pb = linegate::snapshot::v1;

static std::string content_version(const pb::GatewaySnapshot& snapshot) {
  pb::GatewaySnapshot copy = snapshot;
  copy.clear_version();
  const std::string bytes = serialize_snapshot(copy);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) != 1) return "";
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 8 && i < len; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0xf]);
  }
  return out;
}

pb::GatewaySnapshot compile_snapshot(const std::vector<Resource>& resources, const GatewayNode& node) {
  using namespace compile;
  pb::GatewaySnapshot snap;
  try {
    Context ctx(resources, node);
    pb::NodeInfo* info = snap.mutable_node();
    info->set_cluster(node.cluster);
    info->set_network(node.network);
    info->set_namespace_(ctx.node_ns());
    for (const auto& [k, v] : ctx.node_labels()) {
      pb::KeyValue* kv = info->add_labels();
      kv->set_key(k);
      kv->set_value(v);
    }

    const OutboundScope scope = build_outbound_scope(ctx);
    const Registry registry(ctx, scope);
    const DestinationRules rules(ctx);
    std::map<std::string, ClusterRef> refs;
    const PeerAuthentications peer_authn(ctx);
    RouteEnv env{ctx, registry, rules, peer_authn, refs};

    const std::vector<std::string> auto_passthrough = build_listeners(env, snap);
    build_clusters(env, auto_passthrough, snap);
    build_secrets(ctx, snap);
    build_security(ctx, peer_authn, snap.mutable_security());
    build_rate_limits(ctx, snap);
    build_telemetry(ctx, snap.mutable_telemetry());
    *snap.mutable_outbound() = scope.policy;
    for (const std::string& w : ctx.warnings()) snap.add_warnings(w);
  } catch (const std::exception& e) {
    // Input passed analyze(); anything thrown here is a compiler bug. Keep
    // the API exception-free and say what happened in the snapshot.
    snap.add_warnings(std::string("compiler error: ") + e.what());
  }
  snap.set_version(content_version(snap));
  return snap;
}

std::string serialize_snapshot(const pb::GatewaySnapshot& snapshot) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    snapshot.SerializeToCodedStream(&coded);
  }
  return out;
}

std::string snapshot_to_json(const pb::GatewaySnapshot& snapshot) { return snapshot_to_json(snapshot, true); }

std::string snapshot_to_json(const pb::GatewaySnapshot& snapshot, bool redact) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = false;
  std::string raw;
  if (!google::protobuf::util::MessageToJsonString(snapshot, &raw, opts).ok()) return "{}";
  // Re-indented with an order-preserving JSON so the output keeps protobuf's
  // field order; private keys are replaced here, never in the message.
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(raw, nullptr, false);
  if (doc.is_discarded()) return raw;
  if (redact && doc.contains("secrets"))
    for (auto& s : doc["secrets"])
      if (s.contains("privateKey")) s["privateKey"] = "[redacted]";
  return doc.dump(2) + "\n";
}

}  // namespace lg::ctrl
