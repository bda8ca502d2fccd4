#!/usr/bin/env bash
# Reserves 2 MiB hugepages and mounts hugetlbfs at /dev/hugepages, if not
# already done. Usage: scripts/hugepages.sh [PAGES] (default 512 = 1 GiB).
# Exits non-zero when the kernel refuses; linegate then runs with --no-huge.
set -euo pipefail
want=${1:-512}
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

have=$(cat "$sysfs" 2>/dev/null || echo 0)
if [ "$have" -lt "$want" ]; then
  echo "$want" > "$sysfs" 2>/dev/null || { echo "hugepages: cannot reserve (not root, or no hugetlb support)"; exit 1; }
  have=$(cat "$sysfs")
fi
if ! grep -qs ' hugetlbfs ' /proc/mounts; then
  mkdir -p /dev/hugepages
  mount -t hugetlbfs nodev /dev/hugepages || { echo "hugepages: cannot mount hugetlbfs"; exit 1; }
fi
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
echo "hugepages: $have reserved, $free free, hugetlbfs at $(awk '$3 == "hugetlbfs" {print $2; exit}' /proc/mounts)"
[ "$free" -gt 0 ]
