#include <jemalloc/jemalloc.h>
#include <cstdio>
int main() {
  const char* v = nullptr;
  size_t len = sizeof(v);
  if (mallctl("version", &v, &len, nullptr, 0) != 0) return 1;
  std::printf("jemalloc %s\n", v);
  return 0;
}
