#include "dataplane/tcp/port_set.h"

#include <algorithm>

namespace lg::tcp {

void PortSet::follow(TcpStack& stack, std::span<const uint16_t> want, const AppOps* ops, void* ctx) {
  uint16_t keep[kMaxListeners];
  unsigned nkeep = 0;
  for (const uint16_t port : want) {
    if (nkeep == kMaxListeners) break;
    if (!stack.listening(port) && stack.listen(port, ops, ctx) == nullptr) continue;
    keep[nkeep++] = port;
  }
  for (unsigned i = 0; i < n_; ++i)
    if (std::find(keep, keep + nkeep, ports_[i]) == keep + nkeep) stack.unlisten(ports_[i]);
  std::copy(keep, keep + nkeep, ports_);
  n_ = nkeep;
}

void PortSet::close_all(TcpStack& stack) {
  for (unsigned i = 0; i < n_; ++i) stack.unlisten(ports_[i]);
  n_ = 0;
}

}  // namespace lg::tcp
