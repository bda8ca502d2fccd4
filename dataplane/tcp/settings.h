// The bootstrap's `tcp:` settings as the stack's configuration: linegate's
// workers and linegate-loadgen build their stacks from the same settings.
#pragma once

#include "dataplane/bootstrap/bootstrap.h"
#include "dataplane/tcp/stack.h"

namespace lg::tcp {

// With fresh SYN-cookie secrets, one set per call: every worker of a process
// must share them (a cookie's ACK may land on any worker).
TcpConfig config_from(const TcpSettings& t);

}  // namespace lg::tcp
