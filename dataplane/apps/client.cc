// Client: connect out, send `bytes` of the pattern, half-close, and read
// (dropping) until the server closes. Counts completed and failed streams.
#include "dataplane/apps/test_apps.h"

namespace lg::apps {

const tcp::AppOps kClientOps = {nullptr, writable_pattern_stream, readable_pattern_stream, writable_pattern_stream,
                                count_abnormal_close};

}  // namespace lg::apps
