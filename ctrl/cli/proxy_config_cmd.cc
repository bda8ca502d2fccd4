// linegatectl proxy-config: what one gateway runs, read from its admin
// server's /config_dump (the active GatewaySnapshot in protobuf's JSON
// mapping, as ctrl::snapshot_to_json writes it).
#include "ctrl/cli/commands.h"
#include "ctrl/cli/http_get.h"
#include "ctrl/compile/describe.h"
#include "ctrl/proto/snapshot.pb.h"

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include <cstdio>

namespace lg::ctrl::cli {

namespace sv1 = linegate::snapshot::v1;

namespace {

// The JSON of one section, the way istioctl proxy-config -o json prints a
// list: listeners, route tables, clusters, per-cluster endpoints, secrets.
nlohmann::json section_json(const nlohmann::json& snap, const std::string& section) {
  auto list = [&snap](const char* key) {
    auto it = snap.find(key);
    return it != snap.end() && it->is_array() ? *it : nlohmann::json::array();
  };
  if (section == "listeners") return list("listeners");
  if (section == "routes") return list("routeTables");
  if (section == "clusters") {
    nlohmann::json out = list("clusters");
    for (auto& c : out) c.erase("endpoints");  // `endpoints` shows them
    return out;
  }
  if (section == "endpoints") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : list("clusters")) {
      out.push_back({{"cluster", c.value("name", "")},
                     {"endpoints", c.contains("endpoints") ? c["endpoints"] : nlohmann::json::array()}});
    }
    return out;
  }
  nlohmann::json out = list("secrets");
  for (auto& s : out) {
    if (s.contains("privateKey")) s["privateKey"] = "[redacted]";  // never print key material
  }
  return out;
}

}  // namespace

int run_proxy_config(const ProxyConfigArgs& args) {
  HttpResponse resp;
  std::string error;
  if (!http_get(args.admin, "/config_dump", resp, error)) {
    std::fprintf(stderr, "Error: cannot fetch /config_dump: %s\n", error.c_str());
    return kExitFailure;
  }
  if (resp.status != 200) {
    std::string body = resp.body.substr(0, 300);
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    std::fprintf(stderr, "Error: the admin server at %s answered %d %s to /config_dump%s%s\n", args.admin.c_str(),
                 resp.status, resp.reason.c_str(), body.empty() ? "" : ": ", body.c_str());
    return kExitFailure;
  }
  sv1::GatewaySnapshot snap;
  google::protobuf::util::JsonParseOptions po;
  po.ignore_unknown_fields = true;  // a newer dataplane may know more than this linegatectl
  auto st = google::protobuf::util::JsonStringToMessage(resp.body, &snap, po);
  if (!st.ok()) {
    std::fprintf(stderr, "Error: /config_dump from %s is not a GatewaySnapshot: %s\n", args.admin.c_str(),
                 std::string(st.message()).c_str());
    return kExitFailure;
  }
  if (args.output == "json") {
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(snap, &json).ok()) {
      std::fprintf(stderr, "Error: cannot render the snapshot as JSON\n");
      return kExitFailure;
    }
    std::printf("%s\n", section_json(nlohmann::json::parse(json), args.section).dump(2).c_str());
    return kExitOk;
  }
  std::string table;
  if (!describe_table(snap, args.section, table)) {
    std::fprintf(stderr, "Error: unknown section '%s'\n", args.section.c_str());
    return kExitUsage;
  }
  std::printf("%s", table.c_str());
  return kExitOk;
}

}  // namespace lg::ctrl::cli
