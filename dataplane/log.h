// Control-thread logging through DPDK's log (logtype "lg.dataplane"; level set
// with EAL's --log-level). Workers never log: they count.
#pragma once
#include <rte_log.h>

#include <cstdio>

extern int lg_dataplane_logtype;
#define LG_LOG(level, fmt, ...) \
  rte_log(RTE_LOG_##level, lg_dataplane_logtype, "linegate: " fmt "\n", ##__VA_ARGS__)
// Before EAL is up or after it is cleaned up.
#define LG_LOG_STDERR(fmt, ...) fprintf(stderr, "linegate: " fmt "\n", ##__VA_ARGS__)
