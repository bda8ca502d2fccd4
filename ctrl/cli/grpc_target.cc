#include "ctrl/cli/grpc_target.h"

namespace lg::ctrl::cli {

std::shared_ptr<grpc::Channel> make_agent_channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);  // the agent accepts up to 64 MiB of files
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

std::string describe_rpc_error(const std::string& address, const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return "cannot reach the agent at " + address + " (is linegate-agent running and listening there?): " +
             status.error_message();
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "the agent at " + address + " did not answer in time";
    case grpc::StatusCode::UNIMPLEMENTED:
      return address + " does not serve linegate's AgentAdmin API (is it a linegate-agent?)";
    default:
      return "the agent at " + address + " failed the request: " + status.error_message() + " (code " +
             std::to_string(status.error_code()) + ")";
  }
}

}  // namespace lg::ctrl::cli
