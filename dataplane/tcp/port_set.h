// The listening ports one application (the L4 or the L7 gateway) holds on a
// worker's stack, kept in step with the configuration: follow() opens the
// wanted ports not open yet and stops listening on those no longer wanted
// (established connections carry on); close_all() stops accepting (drain).
#pragma once

#include <cstdint>
#include <span>

#include "dataplane/tcp/stack.h"

namespace lg::tcp {

class PortSet {
 public:
  void follow(TcpStack& stack, std::span<const uint16_t> want, const AppOps* ops, void* ctx);
  void close_all(TcpStack& stack);

 private:
  uint16_t ports_[kMaxListeners] = {};
  unsigned n_ = 0;
};

}  // namespace lg::tcp
