#!/usr/bin/env bash
# The dataplane on an embedded default, end to end on this machine: install,
# build, reserve hugepages, start linegate on a tap, ping it over IPv4 and
# IPv6, show its counters (admin /stats/prometheus and DPDK telemetry), stop
# it gracefully and show that nothing is left behind. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

TAP=lgdemo0
PREFIX=lg-demo
ADMIN=127.0.0.1:15000
work=$(mktemp -d /tmp/linegate-demo.XXXXXX)
pid=

cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  ip link del "$TAP" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "install dependencies"
scripts/install-deps.sh
step "hugepages"
scripts/hugepages.sh || echo "(linegate will run with --no-huge)"
step "build"
scripts/build.sh build >/dev/null && echo "built build/dataplane/linegate"

cat > "$work/bootstrap.yaml" <<YAML
node: {id: demo-gw, cluster: cluster1, network: network1, labels: {istio: ingressgateway}}
eal: ["--file-prefix=$PREFIX"]
workers: 1
idle_sleep_us: 100
ports:
  - name: p0
    device: "net_tap0,iface=$TAP"
    ipv4: 10.99.0.2/24
    ipv6: fd99::2/64
    gateway: 10.99.0.1
admin: $ADMIN
test_apps: [{kind: echo, port: 7}]
YAML
step "bootstrap ($work/bootstrap.yaml)"
cat "$work/bootstrap.yaml"

step "start linegate"
build/dataplane/linegate --bootstrap "$work/bootstrap.yaml" > "$work/linegate.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf "http://$ADMIN/ready" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/linegate.log"; echo "linegate exited"; exit 1; }
  sleep 0.1
done
curl -sf "http://$ADMIN/ready"
ip addr add 10.99.0.1/24 dev "$TAP"
ip -6 addr add fd99::1/64 dev "$TAP" nodad
ip link set "$TAP" up
sed 's/^/  /' "$work/linegate.log"

step "ping the dataplane (IPv4, IPv6)"
ping -c 5 -i 0.2 -W 2 10.99.0.2
ping -6 -c 5 -i 0.2 -W 2 fd99::2
step "the kernel resolved the dataplane's MAC (ARP, ND)"
ip neigh show dev "$TAP"

step "TCP: 10 MB through the dataplane's echo service (userspace TCP), checked by sha256"
/usr/bin/python3 - <<'PY'
import hashlib, os, socket, threading
data = os.urandom(10_000_000)
s = socket.create_connection(("10.99.0.2", 7), timeout=30)
got = bytearray()
t = threading.Thread(target=lambda: [got.extend(b) for b in iter(lambda: s.recv(1 << 16), b"")])
t.start(); s.sendall(data); s.shutdown(socket.SHUT_WR); t.join(60)
same = hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
print(f"sent {len(data)} bytes, echoed {len(got)} bytes, sha256 {'equal' if same else 'DIFFERENT'}")
raise SystemExit(0 if same else 1)
PY

step "counters: admin /stats/prometheus (non-zero samples)"
curl -s "http://$ADMIN/stats/prometheus" | grep -v '^#' | grep -v ' 0$'
step "counters: DPDK telemetry (dpdk-telemetry.py -f $PREFIX)"
echo "/linegate/port_stats,p0" | dpdk-telemetry.py -f "$PREFIX" | tail -n +1

step "graceful stop (POST /quitquitquit)"
curl -s -X POST "http://$ADMIN/quitquitquit"
wait "$pid"
echo "linegate exited with status $?"
pid=
tail -n 1 "$work/linegate.log"
if ip link show "$TAP" >/dev/null 2>&1; then echo "tap $TAP still present"; exit 1; fi
echo "tap $TAP removed; hugepage files left: $(ls /dev/hugepages 2>/dev/null | grep -c "^$PREFIX" || true)"
