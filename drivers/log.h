// Control-path logging for drivers/ through DPDK's log (logtype "lg.drivers").
// Never called from a worker's fast path.
#pragma once
#include <rte_log.h>

extern int lg_drivers_logtype;
#define LG_DRV_LOG(level, fmt, ...) \
  rte_log(RTE_LOG_##level, lg_drivers_logtype, "linegate: " fmt "\n", ##__VA_ARGS__)
