#include <intel-ipsec-mb.h>
#include <cstdio>
int main() {
  IMB_MGR* mgr = alloc_mb_mgr(0);
  if (mgr == nullptr) return 1;
  std::printf("ipsec-mb %s\n", imb_get_version_str());
  free_mb_mgr(mgr);
  return 0;
}
