#include <google/protobuf/stubs/common.h>
#include <cstdio>
int main() {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  std::printf("protobuf %s\n", google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION).c_str());
  return 0;
}
