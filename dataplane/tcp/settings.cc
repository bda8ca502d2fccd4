#include "dataplane/tcp/settings.h"

#include <random>

namespace lg::tcp {

TcpConfig config_from(const TcpSettings& t) {
  TcpConfig c;
  c.max_connections = t.max_connections;
  c.max_time_wait = t.max_time_wait;
  c.time_wait_ms = t.time_wait_ms;
  c.delayed_ack_ms = t.delayed_ack_ms;
  c.syn_backlog = t.syn_backlog;
  c.connect_timeout_ms = t.connect_timeout_ms;
  c.user_timeout_ms = t.user_timeout_ms;
  c.keepalive_ms = t.keepalive_ms;
  c.rcv_buffer = t.rcv_buffer;
  c.snd_buffer = t.snd_buffer;
  c.rto_min_ms = t.rto_min_ms;
  c.cc = t.congestion_control == "newreno" ? CcAlgo::newreno : CcAlgo::cubic;
  std::random_device rd;
  c.syncookie_secret[0] = (uint64_t{rd()} << 32) | rd();
  c.syncookie_secret[1] = (uint64_t{rd()} << 32) | rd();
  return c;
}

}  // namespace lg::tcp
