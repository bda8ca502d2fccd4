#include <nghttp2/nghttp2.h>
#include <cstdio>
int main() { return std::printf("nghttp2 %s\n", nghttp2_version(0)->version_str) < 0; }
