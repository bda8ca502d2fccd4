// Source (like RFC 864 chargen, but finite): on accept, send `bytes` of the
// pattern, then close our side; whatever the peer sends is read and dropped.
#include "dataplane/apps/test_apps.h"

namespace lg::apps {

namespace {

bool accept(void* ctx, tcp::Conn* c) {
  auto* src = static_cast<TestApps::Source*>(ctx);
  c->app = src->self;
  src->self->sent[c->index] = 0;
  src->self->limit[c->index] = src->bytes;
  pump_pattern(*src->self, c);
  return true;
}

}  // namespace

const tcp::AppOps kSourceOps = {accept, nullptr, readable_pattern_stream, writable_pattern_stream, count_abnormal_close};

}  // namespace lg::apps
