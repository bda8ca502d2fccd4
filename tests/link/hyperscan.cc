#include <hs/hs.h>
#include <cstdio>
int main() {
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile("^/api/v[0-9]+/", HS_FLAG_DOTALL, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) return 1;
  hs_free_database(db);
  std::printf("hyperscan %s\n", hs_version());
  return 0;
}
