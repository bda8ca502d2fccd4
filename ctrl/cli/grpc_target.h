// The agent's AgentAdmin endpoint as linegatectl reaches it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace lg::ctrl::cli {

std::shared_ptr<grpc::Channel> make_agent_channel(const std::string& address);
// "cannot reach the agent at ADDR (connection refused?)" and the like.
std::string describe_rpc_error(const std::string& address, const grpc::Status& status);

}  // namespace lg::ctrl::cli
