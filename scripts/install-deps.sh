#!/usr/bin/env bash
# Installs every Debian package linegate needs to build, test and benchmark.
# Idempotent: when every package is already installed it does nothing; otherwise
# one `apt-get update` and one `apt-get install`.
set -euo pipefail

packages=(
  # toolchain
  build-essential meson ninja-build pkg-config python3-pyelftools
  # fast path and crypto
  dpdk dpdk-dev libdpdk-dev libipsec-mb-dev libhyperscan-dev libssl-dev libjemalloc-dev
  # control plane
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libre2-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libnghttp2-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3-pytest python3-scapy python3-matplotlib
  # real peers for integration tests
  iproute2 iputils-ping curl nginx haproxy wrk nghttp2-client openssl
  # second TLS client implementation and the TLS scanner (issue 8 interop)
  gnutls-bin testssl.sh
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages that ship a service (nginx, haproxy) must not start it: tests run
  # their own instances on test addresses. policy-rc.d exit 101 = "not allowed".
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
  fi
  trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# In case they were started anyway (e.g. installed earlier by hand).
for svc in nginx haproxy; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
  pkill -x "$svc" 2>/dev/null || true
done
echo "install-deps: all packages present"
