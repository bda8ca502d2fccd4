#include <rte_version.h>
#include <cstdio>
int main() { return std::puts(rte_version()) < 0; }
