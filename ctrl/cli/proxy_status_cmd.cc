// linegatectl proxy-status: the agent's view of every gateway (istioctl
// proxy-status): what it was sent, what it runs, whether it accepted.
#include "ctrl/cli/commands.h"
#include "ctrl/cli/grpc_target.h"
#include "ctrl/cli/table.h"
#include "ctrl/proto/discovery.grpc.pb.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>

namespace lg::ctrl::cli {

namespace dv1 = linegate::discovery::v1;

namespace {

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

std::string status_text(const dv1::GatewayStatus& g) {
  if (!g.connected()) return "DISCONNECTED";
  switch (g.status()) {
    case dv1::GatewayStatus::SYNCED: return "SYNCED";
    case dv1::GatewayStatus::STALE: return "STALE";
    case dv1::GatewayStatus::NACKED: return "NACKED";
    case dv1::GatewayStatus::NOT_SENT: return "NOT SENT";
    default: return "UNKNOWN";
  }
}

// One line per cell: a multi-line NACK reason would break the table.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

}  // namespace

int run_proxy_status(const ProxyStatusArgs& args) {
  auto stub = dv1::AgentAdmin::NewStub(make_agent_channel(args.agent));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  dv1::ProxyStatusResponse resp;
  grpc::Status st = stub->ProxyStatus(&ctx, dv1::ProxyStatusRequest(), &resp);
  if (!st.ok()) {
    std::fprintf(stderr, "Error: %s\n", describe_rpc_error(args.agent, st).c_str());
    return kExitFailure;
  }
  if (args.output == "json") {
    std::string json;
    google::protobuf::util::JsonPrintOptions o;
    o.add_whitespace = true;
    o.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(resp, &json, o).ok()) {
      std::fprintf(stderr, "Error: cannot render the status as JSON\n");
      return kExitFailure;
    }
    std::printf("%s", json.c_str());
    return kExitOk;
  }
  if (resp.gateways_size() == 0) {
    std::fprintf(stderr, "No gateways have connected to the agent at %s.\n", args.agent.c_str());
    return kExitOk;
  }
  long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : resp.gateways()) {
    rows.push_back({g.node_id(), or_dash(g.cluster()), or_dash(g.network()), or_dash(g.version_sent()),
                    or_dash(g.version_acked()), status_text(g), format_age(g.last_seen_unix_ms(), now),
                    or_dash(one_line(g.last_error()))});
  }
  std::printf("%s", render_table({"NAME", "CLUSTER", "NETWORK", "VERSION-SENT", "VERSION-ACKED", "STATUS",
                                  "LAST-SEEN", "LAST-ERROR"},
                                 rows)
                        .c_str());
  return kExitOk;
}

}  // namespace lg::ctrl::cli
