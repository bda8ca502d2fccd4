#!/usr/bin/python3
"""tls_handshakes: TLS 1.3 full and resumed handshakes per second per core,
ECDSA P-256 and RSA-2048 server certificates, linegate and nginx on this
machine in the same run.

Workload, identical for both servers: `openssl s_time -tls1_3 -www /`
(--clients processes in parallel, all on CPU 0 by `taskset -c`) connects,
does a TLS 1.3 handshake, sends `GET / HTTP/1.0`, reads the small answer
until the server closes, and starts over. `-new` makes every handshake a
full one; `-reuse` resumes the session of the client's first connection
with its TLS 1.3 ticket (PSK with (EC)DHE, OpenSSL's default). s_time
resumes on TLS 1.3 only with -www: the server's NewSessionTicket arrives
after the handshake and s_time reads it only while reading the page.
Each connection therefore also carries one tiny HTTP/1.0 exchange, answered
by the server itself: linegate by a VirtualService directResponse, nginx by
`return 200`. Neither server has an upstream.

Servers, each alone on CPU 1 (`taskset -c`) while it is measured:
  linegate  1 worker, DPDK net_tap port; the clients reach it through the
            tap's kernel address. An Istio Gateway with two HTTPS servers
            (tls.mode SIMPLE, credentialName → kubernetes.io/tls Secret):
            port 8443 ECDSA P-256, port 8444 RSA-2048.
  nginx     1 worker process, listening on 127.0.0.1:18443 (P-256) and
            :18444 (RSA-2048), ssl_protocols TLSv1.3, ssl_session_tickets
            on (its default), an access log of $ssl_session_reused.
Both use Debian's OpenSSL for the handshake; their defaults pick the same
key exchange (X25519) and suite for s_time.

Phases: {P-256, RSA-2048} × {full, resumed}, --duration seconds each (s_time
takes whole seconds), for each server, repeated --repetitions times; one
linegate process and one nginx process per repetition, counters read
around each phase.

Server CPU cycles per handshake:
  linegate  delta of the worker's busy_cycles (admin /stats?format=json,
            TSC cycles over loop passes that found work) / delta of the
            listener's ssl_handshake (a resumed handshake counts there too;
            ssl_session_reused counts the resumptions).
  nginx     delta of user+system time of all its processes (/proc/<pid>/stat)
            × the TSC rate linegate reports (tsc_hz) / handshakes in its
            access log (one line per connection: s_time sends one request
            per connection), as bench/compare.py does for kernel proxies.
handshakes/s per core = tsc_hz / cycles per handshake.

The same on the scheduler's clock (on-CPU ns from /proc/.../schedstat ×
tsc_hz / handshakes): linegate's worker thread, all nginx processes. Busy
cycles are TSC time, so they keep counting while the worker is preempted
inside a busy pass; on-CPU time does not, but for linegate it holds the idle
polls (a tap read() every idle_sleep_us). Each linegate start measures its
idle worker's on-CPU share for 1 s; "less idle polls (est.)" subtracts that
share of the phase's off-CPU time.

The clients' own rate (their connections / the wall time around the s_time
processes) is recorded too; it is usually the clients' limit, not the
server's: they verify the server's signature (ECDSA verify costs more than
sign) and run on one CPU shared with whatever else the machine does.

Accounting differences (docs/performance.md discusses them): linegate's
busy cycles include the tap PMD's read()/write() system calls and any time
the worker was preempted inside a busy pass; nginx's process time excludes
the kernel's receive path for loopback, which runs in the sending client's
context on CPU 0. Runqueue waits and other processes' CPU use per phase are
recorded and turned into warnings, as in bench/compare.py.

Writes configs, logs, per-phase s_time output and summary.json into --out,
and prints the table (also as markdown). Needs root (tap, DPDK).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "integration"))
import compare  # noqa: E402
import lgtest  # noqa: E402
from compare import Failure, Proc, fmt, log_tail, proc_tree, say  # noqa: E402
from http_peers import crd, docs  # noqa: E402
from l4_bench import WorkerClock  # noqa: E402
from tls_peers import Pki, gateway, https_server, tls_secret  # noqa: E402

KEYS = {"p256": ("ec", "ECDSA P-256"), "rsa2048": ("rsa", "RSA-2048")}
MODES = {"full": "-new", "resumed": "-reuse"}
SERVERS = ("linegate", "nginx")
LINEGATE_PORTS = {"p256": 8443, "rsa2048": 8444}
NGINX_PORTS = {"p256": 18443, "rsa2048": 18444}
NGINX_ADDR = "127.0.0.1"
REQUEST = b"GET / HTTP/1.0\r\n\r\n"  # what s_time -www / sends
CLIENT_SLACK = 30.0  # s_time start-up and exit beyond --duration
LOG_FLUSH_S = 0.4    # nginx's access log buffer is flushed every 100 ms
IDLE_SAMPLE_S = 1.0  # linegate's idle worker: on-CPU time of its idle polls


# ---------------------------------------------------------------- configs

def istio_yaml() -> str:
    """Two HTTPS servers (one per key type) and a directResponse for any host."""
    servers = [https_server(LINEGATE_PORTS[k], f"https-{k}", ["*"], credential=f"hs-{k}") for k in KEYS]
    vs = crd("VirtualService", "hs", {"hosts": ["*"], "gateways": ["istio-system/hs"],
                                      "http": [{"directResponse": {"status": 200, "body": {"string": "ok\n"}}}]})
    return docs(gateway("hs", servers), vs)


def nginx_conf(d: Path, certs: dict) -> str:
    servers = "".join(f"""\
  server {{
    listen {NGINX_ADDR}:{NGINX_PORTS[k]} ssl backlog=4096;
    ssl_certificate {certs[k].chain};
    ssl_certificate_key {certs[k].key};
    location / {{ return 200 "ok\\n"; }}
  }}
""" for k in KEYS)
    return f"""\
# nginx for bench/tls_handshakes.py: one worker (pinned by taskset), TLS 1.3 only, tickets on.
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
{compare.nginx_dir(d)}  log_format hs '$server_port $ssl_protocol $ssl_session_reused';
  access_log {d}/access.log hs buffer=64k flush=100ms;
  ssl_protocols TLSv1.3;
  ssl_session_tickets on;
{servers}}}
"""


# ---------------------------------------------------------------- linegate

class PinnedLinegate(lgtest.Linegate):
    """An lgtest.Linegate (tap, addresses, cleanup) started under taskset."""

    def __init__(self, workdir: Path, cpu: int, **kw):
        self.cpu = cpu
        super().__init__(workdir, **kw)

    def command(self) -> list[str]:
        return ["taskset", "-c", str(self.cpu), *super().command()]


def linegate_counters(g: lgtest.Linegate) -> dict:
    j = json.loads(g.get("/stats?format=json"))
    out = {"busy_cycles": sum(w["busy_cycles"] for w in j["workers"]), "tsc_hz": j["tsc_hz"]}
    for k, port in LINEGATE_PORTS.items():
        li = j["listeners"].get(f"0.0.0.0_{port}", {})
        out[k] = {c: li.get(c, 0) for c in ("ssl_handshake", "ssl_session_reused", "ssl_connection_error")}
    return out


# ---------------------------------------------------------------- clients

def parse_s_time(text: str) -> dict:
    """Connections s_time made in its timed loop, and how many it saw
    resumed: it prints one character per connection, 'r' for a resumed
    session, '*' (or 't', '3' for old versions) for a new one. Its own
    "real seconds" are whole seconds (it runs from -time to -time + 1 s), so
    rates come from the wall time measured around the processes."""
    m = re.search(r"^(\d+) connections in ", text, re.M)
    marks = "".join(re.findall(r"^[rt3*]+$", text[:m.start()] if m else text, re.M))
    return {"connections": int(m.group(1)) if m else 0, "reused": marks.count("r"),
            "new": len(marks) - marks.count("r")}


class Run:
    def __init__(self, a, out: Path):
        self.a, self.out = a, out
        self.client_cpu, self.server_cpu = a.cpus
        self.procs: list[Proc] = []
        self.factory = lgtest.Factory(out / "linegate")
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.rows: list[dict] = []
        self.tsc_hz = 0
        self.certs: dict = {}

    # -- setup --------------------------------------------------------------

    def preflight(self):
        if os.geteuid() != 0:
            raise Failure("needs root (tap, DPDK): run with sudo")
        allowed = os.sched_getaffinity(0)
        for c in self.a.cpus:
            if c not in allowed:
                raise Failure(f"CPU {c} is not available to this process (allowed: {sorted(allowed)}); see --cpus")
        for tool in ("taskset", "ip", "openssl", *(["nginx"] if "nginx" in self.a.only else [])):
            if shutil.which(tool) is None:
                raise Failure(f"{tool} not found: run scripts/install-deps.sh")
        if "linegate" in self.a.only and not os.access(lgtest.linegate_binary(), os.X_OK):
            raise Failure(f"no linegate binary at {lgtest.linegate_binary()} (ninja -C build, --build or LINEGATE_BIN)")

    def write_configs(self):
        pki = Pki(self.out / "pki")
        self.certs = {k: pki.issue(f"server-{k}", f"{k}.hs.example.com", [f"{k}.hs.example.com"], kind=kind)
                      for k, (kind, _) in KEYS.items()}
        istio = self.out / "linegate-istio"
        istio.mkdir(exist_ok=True)
        (istio / "hs.yaml").write_text(docs(istio_yaml(), *(tls_secret(f"hs-{k}", c) for k, c in self.certs.items())))
        d = self.out / "nginx"
        (d / "nginx.conf").write_text(nginx_conf(d, self.certs))

    def spawn(self, name: str, cmd: list) -> Proc:
        p = Proc(name, cmd, self.out / f"{name}.log")
        self.procs.append(p)
        return p

    # -- servers ------------------------------------------------------------

    def start_linegate(self, rep: int) -> PinnedLinegate:
        g = PinnedLinegate(self.factory.workdir, self.server_cpu, ipv6=False, extra_top={
            "idle_sleep_us": self.a.idle_sleep_us,
            "tcp": {"time_wait_ms": 0, "max_connections": 16384},
            "config_dir": str(self.out / "linegate-istio")})
        self.factory.instances.append(g)  # its cleanup: process, tap, DPDK files
        say(f"+ {shlex.join(g.command())}  (rep {rep}, log {g.log_path})")
        try:
            g.start()
        except BaseException as e:  # lgtest reports through pytest.fail (an OutcomeException)
            if isinstance(e, KeyboardInterrupt):
                raise
            raise Failure(f"linegate did not start: {e}\n{log_tail(g.log_path)}")
        g.configure_kernel()
        cfg = g.server_info()["config"]
        if cfg.get("update_success", 0) < 1 or cfg.get("last_error"):
            raise Failure(f"linegate did not apply {self.out / 'linegate-istio'}: {cfg}\n{log_tail(g.log_path)}")
        g.worker_clock = WorkerClock(g.proc.pid)
        w0 = g.worker_clock.read()
        time.sleep(IDLE_SAMPLE_S)
        g.idle_on_cpu_fraction = (g.worker_clock.read()["on_cpu_s"] - w0["on_cpu_s"]) / IDLE_SAMPLE_S
        return g

    def stop_linegate(self, g: PinnedLinegate):
        if g.alive():
            try:
                g.request("POST", "/quitquitquit", timeout=2)
            except OSError:
                pass
            if g.wait_exit() is None:
                self.notes.append(f"linegate {g.prefix} ignored /quitquitquit")
        self.notes += g.cleanup()
        self.factory.instances.remove(g)
        if g.returncode not in (0, None):
            self.warnings.append(f"linegate exited {g.returncode}; see {g.log_path}")

    def start_nginx(self, rep: int) -> Proc:
        d = self.out / "nginx"
        (d / "access.log").unlink(missing_ok=True)
        p = self.spawn(f"nginx-{rep}", ["taskset", "-c", self.server_cpu, "nginx", "-p", d, "-e", d / "error.log",
                                        "-c", d / "nginx.conf", "-g", "daemon off;"])
        compare.wait_listening(p, NGINX_ADDR, list(NGINX_PORTS.values()), (d / "error.log",))
        return p

    def nginx_log_lines(self) -> list[str]:
        try:
            return (self.out / "nginx" / "access.log").read_text().splitlines()
        except OSError:
            return []

    # -- one phase ----------------------------------------------------------

    def check_server(self, addr: str, port: int, what: str):
        """One handshake and request with s_client before measuring: the
        server answers 200 on TLS 1.3 (and the first handshake's one-time
        costs stay out of the phases)."""
        cmd = ["openssl", "s_client", "-connect", f"{addr}:{port}", "-tls1_3", "-noservername", "-ign_eof",
               "-brief"]
        p = subprocess.run(cmd, input=REQUEST, capture_output=True, timeout=20)
        text = (p.stdout + p.stderr).decode("latin-1")
        if "HTTP/1.1 200" not in text or "TLSv1.3" not in text:
            raise Failure(f"{what}: {shlex.join(cmd)} did not get a 200 over TLS 1.3:\n{text[-2000:]}")

    def run_clients(self, key: str, addr: str, port: int, rep: int, server: str, mode: str) -> dict:
        """--clients s_time processes on the client CPU, each for --duration s."""
        t0 = time.monotonic()
        procs = [self.spawn(f"s_time-{server}-{key}-{mode}-{rep}-{i}",
                            ["taskset", "-c", self.client_cpu, "openssl", "s_time", "-connect", f"{addr}:{port}",
                             MODES[mode], "-tls1_3", "-www", "/", "-time", self.a.duration])
                 for i in range(self.a.clients)]
        limit = time.monotonic() + self.a.duration + CLIENT_SLACK
        for p in procs:
            rc = p.wait(max(0.1, limit - time.monotonic()))
            if rc is None:
                self.notes += p.stop()
                raise Failure(f"{p.name} did not finish within {self.a.duration + CLIENT_SLACK:.0f}s:\n{log_tail(p.log)}")
            p.close_log()
            if rc != 0:
                raise Failure(f"{p.name} exited {rc}:\n{log_tail(p.log)}")
        parsed = [parse_s_time(p.log.read_text(errors="replace")) for p in procs]
        total = {k: sum(x[k] for x in parsed) for k in ("connections", "reused", "new")}
        total["wall_s"] = time.monotonic() - t0  # the processes ran side by side
        total["rate"] = total["connections"] / total["wall_s"]
        total["cmd"] = procs[0].cmdline
        return total

    def phase(self, server: str, key: str, mode: str, rep: int, g: Optional[PinnedLinegate],
              nginx: Optional[Proc]) -> dict:
        port = LINEGATE_PORTS[key] if g else NGINX_PORTS[key]
        addr = g.ip4 if g else NGINX_ADDR
        pids = [g.proc.pid] if g else proc_tree(nginx.pid)
        before_others = compare.all_cpu_ticks()
        sched0 = compare.schedstat(pids)
        if g:
            c0, w0 = linegate_counters(g), g.worker_clock.read()
        else:
            ticks0, lines0 = compare.cpu_ticks_split(pids), len(self.nginx_log_lines())
        t0 = time.monotonic()
        client = self.run_clients(key, addr, port, rep, server, mode)
        wall = time.monotonic() - t0
        sched1 = compare.schedstat(pids)
        row = {"server": server, "key": key, "mode": mode, "rep": rep, "wall_s": wall, "client": client,
               "server_on_cpu_s": (sched1[0] - sched0[0]) / 1e9,
               "server_runqueue_wait_s": (sched1[1] - sched0[1]) / 1e9}
        if g:
            c1, w1 = linegate_counters(g), g.worker_clock.read()
            self.tsc_hz = c1["tsc_hz"]
            d = {c: c1[key][c] - c0[key][c] for c in c0[key]}
            cycles = c1["busy_cycles"] - c0["busy_cycles"]
            worker = {k: w1[k] - w0[k] for k in w1}
            # Idle polls (a tap read() every idle_sleep_us) are on-CPU time too: an estimate of them, from
            # the idle worker measured before the phases, over the time the worker was not on the CPU.
            idle_s = g.idle_on_cpu_fraction * max(0.0, wall - worker["on_cpu_s"] - worker["runqueue_wait_s"])
            row.update(handshakes=d["ssl_handshake"], reused=d["ssl_session_reused"],
                       errors=d["ssl_connection_error"], server_cycles=cycles, worker_thread=worker,
                       server_on_cpu_s=worker["on_cpu_s"], server_runqueue_wait_s=worker["runqueue_wait_s"],
                       server_user_s=worker["user_s"], server_system_s=worker["system_s"],
                       idle_on_cpu_fraction=g.idle_on_cpu_fraction, idle_polls_on_cpu_s_est=idle_s,
                       on_cpu_less_idle_cycles_per_handshake_est=(worker["on_cpu_s"] - idle_s) * c1["tsc_hz"] / d[
                           "ssl_handshake"] if d["ssl_handshake"] else None,
                       how="worker busy_cycles / listener ssl_handshake (admin /stats?format=json)")
        else:
            ticks1 = compare.cpu_ticks_split(proc_tree(nginx.pid))
            time.sleep(LOG_FLUSH_S)
            lines = self.nginx_log_lines()[lines0:]
            mine = [x.split() for x in lines if x.startswith(f"{port} ")]
            tick = os.sysconf("SC_CLK_TCK")
            user_s, system_s = (ticks1[0] - ticks0[0]) / tick, (ticks1[1] - ticks0[1]) / tick
            cpu_s = user_s + system_s
            row.update(handshakes=len(mine), reused=sum(1 for x in mine if x[-1] == "r"),
                       tls13=sum(1 for x in mine if x[1] == "TLSv1.3"), errors=None,
                       server_cpu_s=cpu_s, server_user_s=user_s, server_system_s=system_s,
                       server_cycles=cpu_s * self.tsc_hz,
                       how="nginx user+system time (/proc/<pid>/stat) × tsc_hz / access-log lines")
        hs = row["handshakes"]
        row["cycles_per_handshake"] = row["server_cycles"] / hs if hs else None
        row["handshakes_per_s_per_core"] = self.tsc_hz / row["cycles_per_handshake"] if hs and row["server_cycles"] \
            else None
        # The same on the scheduler's clock (on-CPU ns, no preemption, no idle): linegate's worker thread,
        # every nginx process.
        row["on_cpu_cycles_per_handshake"] = row["server_on_cpu_s"] * self.tsc_hz / hs if hs else None
        self.contention(row, pids, before_others)
        return row

    def contention(self, row: dict, ours: list[int], before: dict):
        """Warnings when the server waited for its CPU or others ran: on a
        shared 2-CPU machine those, not the server, can set the figures."""
        tick = os.sysconf("SC_CLK_TCK")
        mine = set(ours) | {os.getpid()} | {p.pid for p in self.procs}
        used = [(name, (t - before.get(pid, ("", 0))[1]) / tick)
                for pid, (name, t) in compare.all_cpu_ticks().items() if pid not in mine]
        others = sorted((u for u in used if u[1] >= 0.05), key=lambda u: -u[1])[:5]
        row["other_processes_cpu_s"] = dict(others)
        key = f"{row['server']} {row['key']} {row['mode']} rep {row['rep']}"
        if row["server_runqueue_wait_s"] > 0.02 * row["wall_s"]:
            self.warnings.append(f"{key}: the server waited {row['server_runqueue_wait_s']:.2f} s of "
                                 f"{row['wall_s']:.1f} s for CPU {self.server_cpu}; other processes: "
                                 + (", ".join(f"{n} {t:.2f} s" for n, t in others) or "none"))
        elif sum(t for _, t in others) > 0.1 * row["wall_s"]:
            self.warnings.append(f"{key}: other processes ran meanwhile: "
                                 + ", ".join(f"{n} {t:.2f} s" for n, t in others))

    def check_row(self, row: dict):
        key = f"{row['server']} {row['key']} {row['mode']} rep {row['rep']}"
        if not row["handshakes"]:
            raise Failure(f"{key}: the server counted no handshakes (client: {row['client']}); logs in {self.out}")
        if row["mode"] == "resumed" and not row["reused"]:
            raise Failure(f"{key}: no handshake was resumed ({row['handshakes']} handshakes, client saw "
                          f"{row['client']['reused']} reused)")
        if row["mode"] == "full" and row["reused"]:
            self.warnings.append(f"{key}: {row['reused']} of {row['handshakes']} handshakes resumed in a full phase")
        gap = abs(row["handshakes"] - row["client"]["connections"])
        if gap > max(2 * self.a.clients, 0.02 * row["handshakes"]):
            self.warnings.append(f"{key}: server counted {row['handshakes']} handshakes, clients "
                                 f"{row['client']['connections']} connections")
        if row.get("errors"):
            self.warnings.append(f"{key}: {row['errors']} handshakes failed (ssl_connection_error)")

    def report(self, row: dict):
        cph = row["cycles_per_handshake"]
        say(f"   {row['server']:8s} {KEYS[row['key']][1]:11s} {row['mode']:7s}: {row['handshakes']:,} handshakes "
            f"({row['reused']:,} resumed), {fmt(cph)} cycles/handshake → {fmt(row['handshakes_per_s_per_core'])}/s "
            f"per core; clients {row['client']['rate']:,.0f}/s")

    # -- the run ------------------------------------------------------------

    def run_all(self):
        for rep in range(1, self.a.repetitions + 1):
            for server in (s for s in SERVERS if s in self.a.only):
                say(f"\n== repetition {rep}: {server} on CPU {self.server_cpu}, {self.a.clients} s_time clients "
                    f"on CPU {self.client_cpu}, {self.a.duration} s per phase")
                if server == "linegate":
                    g = self.start_linegate(rep)
                    try:
                        self.server_phases(server, rep, g, None)
                    finally:
                        self.stop_linegate(g)
                else:
                    if not self.tsc_hz:
                        self.tsc_hz = tsc_hz_from_cpuinfo()
                    p = self.start_nginx(rep)
                    try:
                        self.server_phases(server, rep, None, p)
                    finally:
                        self.notes += [n for n in p.stop((signal.SIGQUIT, signal.SIGTERM)) if "SIGKILL" in n]

    def server_phases(self, server: str, rep: int, g, nginx):
        for key in KEYS:
            addr, port = (g.ip4, LINEGATE_PORTS[key]) if g else (NGINX_ADDR, NGINX_PORTS[key])
            self.check_server(addr, port, f"{server} {key}")
            if nginx:
                time.sleep(LOG_FLUSH_S)  # its access-log line out before the phase counts lines
            for mode in MODES:
                row = self.phase(server, key, mode, rep, g, nginx)
                self.check_row(row)
                self.rows.append(row)
                self.report(row)

    def cleanup(self):
        for p in reversed(self.procs):
            if p.alive():
                self.notes += p.stop((signal.SIGTERM,))
            p.close_log()
        self.notes += self.factory.cleanup()


def tsc_hz_from_cpuinfo() -> int:
    """Only when linegate is not in the run: the TSC rate from the kernel's
    log line (`tsc: Refined TSC clocksource calibration`) or cpu MHz."""
    p = subprocess.run(["dmesg"], capture_output=True, text=True)
    m = re.findall(r"tsc: (?:Refined TSC clocksource calibration|Detected): ([\d.]+) MHz", p.stdout)
    if m:
        return int(float(m[-1]) * 1e6)
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("cpu MHz"):
            return int(float(line.split(":")[1]) * 1e6)
    raise Failure("cannot tell the TSC rate")


# ---------------------------------------------------------------- summary

def med_range(values: list) -> dict:
    v = [x for x in values if x is not None]
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)} if v else None


def summarize(r: Run, command: str) -> dict:
    a = r.a
    servers = [s for s in SERVERS if s in a.only]
    cells = []
    for key in KEYS:
        for mode in MODES:
            cell = {"key": key, "key_name": KEYS[key][1], "mode": mode}
            rows = {s: [x for x in r.rows if (x["server"], x["key"], x["mode"]) == (s, key, mode)] for s in servers}
            for server, rs in rows.items():
                cell[server] = {f: med_range([x.get(f) for x in rs]) for f in
                                ("cycles_per_handshake", "handshakes_per_s_per_core", "on_cpu_cycles_per_handshake",
                                 "on_cpu_less_idle_cycles_per_handshake_est") if f in rs[0]}
                cell[server].update(client_handshakes_per_s=med_range([x["client"]["rate"] for x in rs]),
                                    handshakes=[x["handshakes"] for x in rs], reused=[x["reused"] for x in rs])
            if len(servers) == 2:
                # linegate / nginx within each repetition (the two ran minutes apart, not hours).
                pairs = list(zip(rows["linegate"], rows["nginx"]))
                for f, nf in (("cycles_per_handshake", "cycles_per_handshake"),
                              ("on_cpu_cycles_per_handshake", "on_cpu_cycles_per_handshake"),
                              ("on_cpu_less_idle_cycles_per_handshake_est", "on_cpu_cycles_per_handshake")):
                    cell[f"linegate_over_nginx_{f}"] = med_range([lg[f] / ng[nf] for lg, ng in pairs
                                                                  if lg[f] and ng[nf]])
            cells.append(cell)
    env = {**compare.machine_environment(), "openssl": compare.version_of(["openssl", "version"])}
    if "linegate" in a.only:
        env["linegate"] = compare.version_of([lgtest.linegate_binary(), "--version"])
        env["linegate_binary"] = str(lgtest.linegate_binary())
    if "nginx" in a.only:
        env["nginx"] = compare.version_of(["nginx", "-v"]).replace("nginx version: ", "")
    return {"tool": "bench/tls_handshakes.py", "command": command, "out": str(r.out), "environment": env,
            "workload": {"duration_s": a.duration, "repetitions": a.repetitions, "clients": a.clients,
                         "client_cpu": r.client_cpu, "server_cpu": r.server_cpu, "tsc_hz": r.tsc_hz,
                         "idle_sleep_us": a.idle_sleep_us,
                         "client": "openssl s_time -tls1_3 -www / (-new: full, -reuse: resumed)",
                         "request": REQUEST.decode().strip()},
            "cells": cells, "rows": r.rows, "warnings": r.warnings}


def mr(m: Optional[dict], spec: str = ",.0f", suffix: str = "") -> str:
    if not m:
        return "—"
    if m["n"] == 1:
        return fmt(m["median"], spec) + suffix
    return f"{fmt(m['median'], spec)}{suffix} [{fmt(m['min'], spec)}–{fmt(m['max'], spec)}]"


def markdown_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|",
            *("| " + " | ".join(r) + " |" for r in rows)]


def tables(s: dict) -> list[str]:
    """Two markdown tables: the headline (busy cycles for linegate, process
    time for nginx, as bench/compare.py), then the scheduler's on-CPU view
    and what the clients saw."""
    servers = [x for x in SERVERS if x in s["cells"][0]]
    both = len(servers) == 2
    head1, head2, rows1, rows2 = ["key", "handshake"], ["key", "handshake"], [], []
    for x in servers:
        head1 += [f"{x} cycles/handshake", f"{x} handshakes/s/core"]
        head2 += [f"{x} on-CPU cycles/handshake"] + (["linegate less idle polls (est.)"] if x == "linegate" else [])
    head1 += ["linegate/nginx cycles"] if both else []
    head2 += (["linegate/nginx on-CPU", "less idle polls (est.)"] if both else []) + \
        [f"{x} clients' handshakes/s" for x in servers]
    for c in s["cells"]:
        r1, r2 = [c["key_name"], c["mode"]], [c["key_name"], c["mode"]]
        for x in servers:
            r1 += [mr(c[x]["cycles_per_handshake"]), mr(c[x]["handshakes_per_s_per_core"])]
            r2 += [mr(c[x]["on_cpu_cycles_per_handshake"])]
            if x == "linegate":
                r2.append(mr(c[x]["on_cpu_less_idle_cycles_per_handshake_est"]))
        if both:
            r1.append(mr(c["linegate_over_nginx_cycles_per_handshake"], ".2f", "×"))
            r2 += [mr(c["linegate_over_nginx_on_cpu_cycles_per_handshake"], ".2f", "×"),
                   mr(c["linegate_over_nginx_on_cpu_less_idle_cycles_per_handshake_est"], ".2f", "×")]
        r2 += [mr(c[x]["client_handshakes_per_s"]) for x in servers]
        rows1.append(r1)
        rows2.append(r2)
    return markdown_table(head1, rows1) + [""] + markdown_table(head2, rows2)


# ---------------------------------------------------------------- main

def parse_args(argv: list[str]):
    ap = argparse.ArgumentParser(prog="bench/tls_handshakes.py", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=5, help="seconds per phase, whole (s_time -time) (5)")
    ap.add_argument("--repetitions", type=int, default=3, help="runs of every phase (3)")
    ap.add_argument("--clients", type=int, default=4, help="s_time processes in parallel (4)")
    ap.add_argument("--only", default=",".join(SERVERS), help="comma list of linegate,nginx")
    ap.add_argument("--cpus", default="0,1", help="CLIENT_CPU,SERVER_CPU (0,1)")
    ap.add_argument("--idle-sleep-us", type=int, default=50,
                    help="linegate's idle_sleep_us (50, as the integration tests and bench/l4_bench.py)")
    ap.add_argument("--build", help="build directory holding dataplane/linegate (default: LINEGATE_BIN, or build/)")
    ap.add_argument("--out", help="directory for configs, logs and JSON (default: a new /tmp/linegate-tls-hs.*)")
    a = ap.parse_args(argv)
    a.only = [x.strip() for x in a.only.split(",") if x.strip()]
    if not a.only or any(x not in SERVERS for x in a.only):
        ap.error(f"--only: choose from {','.join(SERVERS)}")
    a.cpus = compare.parse_cpus(ap, a.cpus)
    for name, v in (("--duration", a.duration), ("--repetitions", a.repetitions), ("--clients", a.clients)):
        if v < 1:
            ap.error(f"{name} must be at least 1")
    if a.build:
        build = Path(a.build) if Path(a.build).is_absolute() else REPO / a.build
        os.environ["LINEGATE_BIN"] = str(build / "dataplane" / "linegate")
    return a


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    if os.geteuid() != 0:
        say("tls_handshakes: needs root (tap, DPDK): run with sudo")
        return 1
    crds = REPO.parent / "shared" / "testdata" / "istio-api" / "customresourcedefinitions.gen.yaml"
    if "LINEGATE_CRDS" not in os.environ and crds.exists():
        os.environ["LINEGATE_CRDS"] = str(crds)
    out = Path(a.out).resolve() if a.out else Path(tempfile.mkdtemp(prefix="linegate-tls-hs.", dir="/tmp"))
    out.mkdir(parents=True, exist_ok=True)
    r = Run(a, out)
    command = "sudo bench/tls_handshakes.py " + shlex.join(argv) if argv else "sudo bench/tls_handshakes.py"
    say(f"output: {out}")

    def body():
        r.preflight()
        r.write_configs()
        r.run_all()

    def cleanup():
        r.cleanup()
        return r.notes, [f"process {p.name} (pid {p.pid}) still running" for p in r.procs if p.alive()]

    rc = compare.run_guarded("tls_handshakes", body, cleanup)
    if rc != 0:
        say(f"logs and configs: {out}")
        return rc
    s = summarize(r, command)
    (out / "summary.json").write_text(json.dumps(s, indent=2) + "\n")
    say("\n" + "\n".join(tables(s)))
    for w in s["warnings"]:
        say(f"warning: {w}")
    say(f"\nsummary: {out / 'summary.json'}; logs and configs: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
