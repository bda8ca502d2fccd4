#!/usr/bin/python3
"""l4_bench: the L4 gateway (dataplane/l4/tcp_proxy.cc) inside a real
linegate, measured in the worker's own TSC cycles.

One linegate (1 worker, idle_sleep_us as in the integration tests) on a tap,
standalone config_dir mode, Istio TCP routes 0.0.0.0:9000 -> a discarding
upstream and 0.0.0.0:9001 -> a greeting upstream (l4_peers.TcpServer), both
on the tap's kernel address. Clients and upstreams are Python on the kernel
side of the same tap.

  bulk    one connection; the client sends --bytes, the upstream reads and
          discards them (one direction: client -> gateway -> upstream).
          cycles per received segment = delta worker busy_cycles / delta
          port tcp_segments_received (both connections: the client's data
          segments plus the upstream's ACKs), and goodput in Gbit/s (bytes
          the upstream got, over wall time; the kernel tap and the Python
          peers are the bottleneck, not the gateway).
  churn   --connections short connections from --threads client threads:
          connect, the upstream greets with one line, the client reads it and
          closes (the gateway half-closes to the upstream, which closes).
          connections per busy core-second = connections / (delta busy_cycles
          / tsc_hz), cycles per proxied connection, and the wall-clock rate.

Busy cycles are counted by the worker loop only over passes that found work
(frames, inbox, timers), so idle polling and idle sleeps are excluded; tsc_hz
is the dataplane's own (/stats?format=json "tsc_hz").

Run as root: /usr/bin/python3 bench/l4_bench.py [--json FILE]
"""
import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
import lgtest  # noqa: E402
from l4_peers import TcpServer, gateway, service_entry, start_standalone  # noqa: E402

LISTEN_PORT = 9000
BULK_UPSTREAM = ("sink", 9100)
CHURN_UPSTREAM = ("greet", 9101)


# ---------------------------------------------------------------- config

def route_config(peer: str) -> str:
    """Two TCP Gateway servers on 9000 and 9001; a VirtualService sends 9000
    to the sink upstream and 9001 to the greeting upstream."""
    servers = "".join(f"  - port: {{number: {p}, name: tcp-{p}, protocol: TCP}}\n    hosts: ['*']\n"
                      for p in (LISTEN_PORT, LISTEN_PORT + 1))
    docs = [gateway("l4", servers)]
    rules = []
    for listen, (name, port) in ((LISTEN_PORT, BULK_UPSTREAM), (LISTEN_PORT + 1, CHURN_UPSTREAM)):
        docs.append(service_entry(name, f"{name}.l4.test", port, "TCP", [{"address": peer, "port": port}]))
        rules.append(f"  - match: [{{port: {listen}}}]\n    route:\n"
                     f"    - destination: {{host: {name}.l4.test, port: {{number: {port}}}}}\n")
    docs.append("""\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp-routes, namespace: istio-system}
spec:
  hosts: ['*']
  gateways: [l4]
  tcp:
""" + "".join(rules))
    return "---\n".join(docs)


def start(factory: lgtest.Factory, idle_sleep_us: int) -> lgtest.Linegate:
    """As test_l4_gateway.start: config_dir written once the tap's kernel
    address is known."""
    g, info = start_standalone(factory, route_config, {"idle_sleep_us": idle_sleep_us,
                                                              "tcp": {"time_wait_ms": 0, "max_connections": 8192},
                                                              "proxy": {"hello_timeout_ms": 1000}})
    if info["update_success"] != 1 or info["last_error"] != "":
        raise RuntimeError(f"config not applied: {info}\n{g.log_text()}")
    g.worker_clock = WorkerClock(g.proc.pid)
    return g


# ---------------------------------------------------------------- counters

class WorkerClock:
    """The worker thread's CPU use from the kernel: on-CPU time and
    runqueue wait (schedstat, ns) and the user/system split (stat, ticks).
    busy_cycles count TSC time, so they also hold time the thread was
    preempted inside a busy pass; this shows how much, and how much of the
    on-CPU time is the tap's read/write system calls."""

    def __init__(self, pid: int):
        self.task = None
        for tid in os.listdir(f"/proc/{pid}/task"):
            if Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip().startswith(("rte-worker", "lcore-worker")):
                self.task = f"/proc/{pid}/task/{tid}"
        self.tick = os.sysconf("SC_CLK_TCK")

    def read(self) -> dict:
        if self.task is None:
            return {}
        run_ns, wait_ns, _ = (int(x) for x in Path(self.task, "schedstat").read_text().split())
        stat = Path(self.task, "stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
        return {"on_cpu_s": run_ns / 1e9, "runqueue_wait_s": wait_ns / 1e9,
                "user_s": utime / self.tick, "system_s": stime / self.tick}


class Snapshot:
    """The counters one figure needs, from /stats?format=json."""

    def __init__(self, g: lgtest.Linegate):
        j = json.loads(g.get("/stats?format=json"))
        self.t = time.monotonic()
        self.tsc_hz = j["tsc_hz"]
        self.busy_cycles = sum(w["busy_cycles"] for w in j["workers"])
        self.busy_iterations = sum(w["busy_iterations"] for w in j["workers"])
        self.events = {}
        for p in j["ports"]:
            for k, v in p["events"].items():
                self.events[k] = self.events.get(k, 0) + v
        self.drops = {}
        for p in j["ports"]:
            for k, v in p["drops"].items():
                self.drops[k] = self.drops.get(k, 0) + v
        self.listeners = j["listeners"]
        self.clusters = j["clusters"]
        self.worker = g.worker_clock.read()

    def listener(self, port: int) -> dict:
        return self.listeners.get(f"0.0.0.0_{port}", {})

    def cluster(self, name: str, port: int) -> dict:
        return self.clusters.get(f"outbound|{port}||{name}.l4.test", {})


def delta(a: Snapshot, b: Snapshot) -> dict:
    ev = {k: b.events[k] - a.events.get(k, 0) for k in b.events}
    dr = {k: b.drops[k] - a.drops.get(k, 0) for k in b.drops if b.drops[k] != a.drops.get(k, 0)}
    worker = {k: b.worker[k] - a.worker[k] for k in b.worker}
    return {"busy_cycles": b.busy_cycles - a.busy_cycles, "busy_iterations": b.busy_iterations - a.busy_iterations,
            "wall_s": b.t - a.t, "events": ev, "drops": dr, "worker_thread": worker}


def wait_closed(g: lgtest.Linegate, listen: int, name: str, port: int, timeout: float = 20) -> bool:
    """Both sides of every proxied connection closed, so the closing work is
    inside the measured interval."""
    def done():
        s = Snapshot(g)
        return s.listener(listen).get("downstream_cx_active") == 0 and \
            s.cluster(name, port).get("upstream_cx_active") == 0
    return bool(lgtest.wait_until(done, timeout, interval=0.05))


def user_share(worker: dict) -> float:
    """Share of the worker's on-CPU time spent in user space (the rest is
    the kernel: mostly the tap PMD's one read()/write() per frame). From
    10 ms ticks, so only an estimate over short phases."""
    ticks = worker.get("user_s", 0) + worker.get("system_s", 0)
    return worker["user_s"] / ticks if ticks else 0.0


# ---------------------------------------------------------------- peers

class Discard:
    """Kernel upstream that reads and discards one connection at a time."""

    def __init__(self, host: str, port: int):
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((host, port))
        self.ls.listen(16)
        self.received = 0
        self.done = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        buf = bytearray(1 << 20)
        try:
            while True:
                c, _ = self.ls.accept()
                with c:
                    while True:
                        n = c.recv_into(buf)
                        if n == 0:
                            break
                        self.received += n
                self.done.set()
        except OSError:
            return

    def close(self):
        self.ls.close()


def bulk_send(host: str, port: int, total: int, timeout: float):
    chunk = memoryview(bytes(1 << 20))
    with socket.create_connection((host, port), timeout=timeout) as s:
        sent = 0
        while sent < total:
            n = min(len(chunk), total - sent)
            s.sendall(chunk[:n])
            sent += n
        mss = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
        s.shutdown(socket.SHUT_WR)
        # The upstream closes after EOF; the gateway then closes us.
        while s.recv(4096):
            pass
    return mss


def churn(host: str, port: int, count: int, threads: int, want: bytes, timeout: float) -> dict:
    """count connections over `threads` client threads; each connects, reads
    the greeting line and closes."""
    lock = threading.Lock()
    result = {"ok": 0, "failed": 0, "errors": []}
    next_i = [0]

    def client():
        while True:
            with lock:
                if next_i[0] >= count:
                    return
                next_i[0] += 1
            try:
                with socket.create_connection((host, port), timeout=timeout) as s:
                    got = b""
                    while not got.endswith(b"\n"):
                        b = s.recv(256)
                        if not b:
                            break
                        got += b
                ok = got == want
                err = None if ok else f"got {got!r}"
            except OSError as e:
                ok, err = False, repr(e)
            with lock:
                if ok:
                    result["ok"] += 1
                else:
                    result["failed"] += 1
                    if len(result["errors"]) < 5:
                        result["errors"].append(err)

    ts = [threading.Thread(target=client) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return result


# ---------------------------------------------------------------- phases

def run_bulk(g: lgtest.Linegate, nbytes: int, timeout: float) -> dict:
    name, port = BULK_UPSTREAM
    sink = Discard(g.peer4, port)
    try:
        bulk_send(g.ip4, LISTEN_PORT, 1 << 20, timeout)  # warm-up: neighbors, first connect
        wait_closed(g, LISTEN_PORT, name, port)
        sink.done.clear()
        before = sink.received
        a = Snapshot(g)
        t0 = time.monotonic()
        mss = bulk_send(g.ip4, LISTEN_PORT, nbytes, timeout)
        sink.done.wait(timeout)
        wall = time.monotonic() - t0
        closed = wait_closed(g, LISTEN_PORT, name, port)
        b = Snapshot(g)
        got = sink.received - before
    finally:
        sink.close()
    d = delta(a, b)
    rx, tx = d["events"]["tcp_segments_received"], d["events"]["tcp_segments_sent"]
    cyc = d["busy_cycles"]
    ds = {k: b.listener(LISTEN_PORT)[k] - a.listener(LISTEN_PORT)[k]
          for k in ("downstream_cx_total", "downstream_cx_rx_bytes_total")}
    us = {k: b.cluster(name, port)[k] - a.cluster(name, port)[k]
          for k in ("upstream_cx_total", "upstream_cx_tx_bytes_total")}
    return {
        "bytes": nbytes, "upstream_received_bytes": got, "closed_cleanly": closed,
        "wall_s": wall, "goodput_gbit_s": got * 8 / wall / 1e9,
        "busy_cycles": cyc, "busy_s": cyc / b.tsc_hz, "busy_iterations": d["busy_iterations"],
        "segments_received": rx, "segments_sent": tx,
        "cycles_per_segment_received": cyc / rx if rx else 0,
        "cycles_per_segment_rx_or_tx": cyc / (rx + tx) if rx + tx else 0,
        "cycles_per_kib": cyc / (got / 1024) if got else 0,
        "gbit_s_per_busy_core_s": got * 8 / (cyc / b.tsc_hz) / 1e9 if cyc else 0,
        "user_share": user_share(d["worker_thread"]),
        "cycles_per_segment_received_user_est": cyc * user_share(d["worker_thread"]) / rx if rx else 0,
        "frames_per_busy_pass": d["events"]["rx_frames"] / d["busy_iterations"] if d["busy_iterations"] else 0,
        "client_mss": mss,
        # Lower bound on the client's data segments (all full-sized); the
        # gateway forwards each as about one data segment to the upstream.
        "client_data_segments_min": -(-got // mss),
        "cycles_per_client_data_segment": cyc / -(-got // mss) if got else 0,
        "retransmits": d["events"].get("tcp_retransmits", 0),
        "listener": ds, "cluster": us, "drops": d["drops"], "tsc_hz": b.tsc_hz,
        "worker_thread": d["worker_thread"],
    }


def run_churn(g: lgtest.Linegate, count: int, threads: int, timeout: float) -> dict:
    name, port = CHURN_UPSTREAM
    server = TcpServer(g.peer4, port, mode="greet", name=name)
    want = name.encode() + b"\n"
    try:
        warm = churn(g.ip4, LISTEN_PORT + 1, 50, threads, want, timeout)
        wait_closed(g, LISTEN_PORT + 1, name, port)
        a = Snapshot(g)
        t0 = time.monotonic()
        res = churn(g.ip4, LISTEN_PORT + 1, count, threads, want, timeout)
        wall = time.monotonic() - t0
        closed = wait_closed(g, LISTEN_PORT + 1, name, port)
        b = Snapshot(g)
    finally:
        server.close()
    d = delta(a, b)
    cyc = d["busy_cycles"]
    proxied = b.cluster(name, port)["upstream_cx_total"] - a.cluster(name, port)["upstream_cx_total"]
    accepted = b.listener(LISTEN_PORT + 1)["downstream_cx_total"] - a.listener(LISTEN_PORT + 1)["downstream_cx_total"]
    busy_s = cyc / b.tsc_hz
    rx, tx = d["events"]["tcp_segments_received"], d["events"]["tcp_segments_sent"]
    return {
        "connections": count, "threads": threads, "ok": res["ok"], "failed": res["failed"],
        "errors": res["errors"], "warmup_failed": warm["failed"], "closed_cleanly": closed,
        "downstream_accepted": accepted, "upstream_opened": proxied,
        "wall_s": wall, "wall_conn_s": res["ok"] / wall,
        "busy_cycles": cyc, "busy_s": busy_s, "busy_iterations": d["busy_iterations"],
        "conn_per_busy_core_s": res["ok"] / busy_s if busy_s else 0,
        "cycles_per_connection": cyc / res["ok"] if res["ok"] else 0,
        "segments_received": rx, "segments_sent": tx,
        "segments_per_connection": (rx + tx) / res["ok"] if res["ok"] else 0,
        "user_share": user_share(d["worker_thread"]),
        "cycles_per_connection_user_est": cyc * user_share(d["worker_thread"]) / res["ok"] if res["ok"] else 0,
        "frames_per_busy_pass": d["events"]["rx_frames"] / d["busy_iterations"] if d["busy_iterations"] else 0,
        "drops": d["drops"], "tsc_hz": b.tsc_hz, "worker_thread": d["worker_thread"],
    }


# ---------------------------------------------------------------- main

def table(bulk: dict, ch: dict) -> str:
    rows = [
        ("bulk: bytes client -> upstream", f"{bulk['upstream_received_bytes']:,} of {bulk['bytes']:,}"),
        ("bulk: goodput Gbit/s (wall)", f"{bulk['goodput_gbit_s']:.2f}"),
        ("bulk: segments received / sent", f"{bulk['segments_received']:,} / {bulk['segments_sent']:,}"),
        ("bulk: busy cycles", f"{bulk['busy_cycles']:,} ({bulk['busy_s']:.2f} s of {bulk['wall_s']:.2f} s wall)"),
        ("bulk: cycles / segment received", f"{bulk['cycles_per_segment_received']:,.0f}"),
        ("bulk: cycles / segment (rx + tx)", f"{bulk['cycles_per_segment_rx_or_tx']:,.0f}"),
        ("bulk: cycles / client data segment", f"{bulk['cycles_per_client_data_segment']:,.0f} "
         f"(bytes / MSS {bulk['client_mss']} = {bulk['client_data_segments_min']:,})"),
        ("bulk: Gbit/s per busy core-second", f"{bulk['gbit_s_per_busy_core_s']:.2f}"),
        ("bulk: frames received per busy pass", f"{bulk['frames_per_busy_pass']:.2f}"),
        ("bulk: retransmits", f"{bulk['retransmits']}"),
        ("churn: connections ok / failed", f"{ch['ok']:,} / {ch['failed']} ({ch['threads']} threads)"),
        ("churn: wall-clock conn/s", f"{ch['wall_conn_s']:,.0f} ({ch['wall_s']:.2f} s)"),
        ("churn: busy cycles", f"{ch['busy_cycles']:,} ({ch['busy_s']:.3f} s)"),
        ("churn: conn/s per busy core-second", f"{ch['conn_per_busy_core_s']:,.0f}"),
        ("churn: cycles / proxied connection", f"{ch['cycles_per_connection']:,.0f}"),
        ("churn: segments (rx + tx) / connection", f"{ch['segments_per_connection']:.1f}"),
        ("churn: frames received per busy pass", f"{ch['frames_per_busy_pass']:.2f}"),
        ("tsc_hz", f"{bulk['tsc_hz']:,}"),
    ]
    for phase, r in (("bulk", bulk), ("churn", ch)):
        wt = r["worker_thread"]
        if wt:
            rows.append((f"{phase}: worker thread on-CPU (user/sys)",
                         f"{wt['on_cpu_s']:.2f} s ({wt['user_s']:.2f}/{wt['system_s']:.2f}); "
                         f"runqueue wait {wt['runqueue_wait_s']:.2f} s"))
    rows.append(("bulk: cycles / segment received, user space (est.)",
                 f"{bulk['cycles_per_segment_received_user_est']:,.0f}"))
    rows.append(("churn: cycles / connection, user space (est.)", f"{ch['cycles_per_connection_user_est']:,.0f}"))
    w = max(len(r[0]) for r in rows)
    return "\n".join(f"{k:<{w}}  {v}" for k, v in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bytes", type=int, default=512 << 20, help="bulk transfer size (default 512 MiB)")
    ap.add_argument("--connections", type=int, default=5000, help="churn connections (default 5000)")
    ap.add_argument("--threads", type=int, default=4, help="churn client threads (default 4)")
    ap.add_argument("--idle-sleep-us", type=int, default=50, help="worker idle sleep (default 50, as the tests)")
    ap.add_argument("--timeout", type=float, default=60, help="per-socket timeout in seconds")
    ap.add_argument("--json", metavar="FILE", help="write every figure and raw delta here")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (linegate log, bootstrap)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("l4_bench needs root (tap interfaces, hugepages)", file=sys.stderr)
        return 2
    binary = lgtest.linegate_binary()
    if not os.access(binary, os.X_OK):
        print(f"no linegate binary at {binary} (ninja -C build, or LINEGATE_BIN)", file=sys.stderr)
        return 2
    crds = REPO.parent / "shared" / "testdata" / "istio-api" / "customresourcedefinitions.gen.yaml"
    if "LINEGATE_CRDS" not in os.environ and crds.exists():
        os.environ["LINEGATE_CRDS"] = str(crds)

    workdir = Path(tempfile.mkdtemp(prefix="l4bench-"))
    factory = lgtest.Factory(workdir)
    ok = False
    try:
        g = start(factory, args.idle_sleep_us)
        bulk = run_bulk(g, args.bytes, args.timeout)
        ch = run_churn(g, args.connections, args.threads, args.timeout)
        out = {"binary": str(binary), "bytes": args.bytes, "connections": args.connections,
               "threads": args.threads, "idle_sleep_us": args.idle_sleep_us, "workers": 1,
               "bulk": bulk, "churn": ch}
        print(table(bulk, ch))
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        ok = bulk["upstream_received_bytes"] == args.bytes and ch["failed"] == 0
        if not ok:
            print(f"FAILED: bulk got {bulk['upstream_received_bytes']} of {args.bytes}; churn failures "
                  f"{ch['failed']} {ch['errors']}; log {g.log_path}", file=sys.stderr)
    finally:
        notes = factory.cleanup()
        if notes:
            print("cleanup had to force: " + "; ".join(notes), file=sys.stderr)
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"work directory kept: {workdir}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
