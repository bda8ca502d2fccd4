// Discard (RFC 863 over TCP): read and drop; close when the peer does.
#include "dataplane/apps/test_apps.h"

namespace lg::apps {
namespace {

void readable(void* app, tcp::Conn* c) {
  TestApps& apps = *static_cast<TestApps*>(app);
  read_and_drop(apps, c);
  finish_if_eof(apps, c, true);
}

}  // namespace

const tcp::AppOps kDiscardOps = {accept_into, nullptr, readable, nullptr, count_abnormal_close};

}  // namespace lg::apps
