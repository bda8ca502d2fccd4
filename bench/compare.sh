#!/usr/bin/env bash
# linegate vs nginx vs HAProxy on one HTTP/1.1 proxy workload; see bench/compare.py.
exec /usr/bin/python3 "$(dirname "$0")/compare.py" "$@"
