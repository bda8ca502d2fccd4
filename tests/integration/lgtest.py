"""Helpers for linegate integration tests.

A `Linegate` is one dataplane process with its own tap interface(s), /24,
/64, EAL file prefix and admin port, all derived from the test run's pid and
a counter so that tests (and parallel runs) never share any of them.
`Factory` starts instances and always cleans every one of them up: process
stopped (SIGTERM, then SIGKILL), taps deleted, /var/run/dpdk/<prefix> and
/dev/hugepages/<prefix>map_* removed.

Only the standard library is used here; scapy is imported by the tests that
build frames.
"""
from __future__ import annotations

import errno
import glob
import http.client
import itertools
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Optional

REPO = Path(__file__).resolve().parents[2]
COUNTER_DEFS = REPO / "dataplane" / "counters" / "counter_defs.h"
DPDK_RUN_DIR = Path("/var/run/dpdk")
HUGEPAGE_DIR = Path("/dev/hugepages")

READY_TIMEOUT = 20.0  # start-up: tap present and /ready LIVE
STOP_TIMEOUT = 10.0  # graceful stop before SIGKILL
COUNTER_TIMEOUT = 5.0  # counters move within milliseconds; this is only a bound

# Every Linegate ever created in this pytest process, for failure reports.
REGISTRY: list["Linegate"] = []
# nodeid of the test being set up / run (set by conftest), to attribute logs.
CURRENT_TEST: Optional[str] = None

_instance_counter = itertools.count()


# ---------------------------------------------------------------------------
# Binary and counter names


def linegate_binary() -> Path:
    env = os.environ.get("LINEGATE_BIN")
    if env:
        return Path(env)
    primary = REPO / "build" / "dataplane" / "linegate"
    if primary.exists():
        return primary
    return REPO / "build-notest" / "dataplane" / "linegate"


def _x_names(macro: str) -> list[str]:
    text = COUNTER_DEFS.read_text()
    start = text.index(f"#define {macro}(X)")
    # The macro body runs until the first line that does not end in a backslash.
    body = []
    for line in text[start:].splitlines():
        body.append(line)
        if not line.rstrip().endswith("\\"):
            break
    return re.findall(r"X\((\w+),", "\n".join(body))


def drop_reasons() -> list[str]:
    """Drop reasons in counter_defs.h order (the single source of truth)."""
    return _x_names("LG_DROP_REASONS")


def event_names() -> list[str]:
    return _x_names("LG_EVENTS")


# ---------------------------------------------------------------------------
# Small utilities


def wait_until(pred: Callable[[], object], timeout: float, interval: float = 0.02):
    """Polls pred until it returns something truthy; returns that, or the last
    (falsy) value when the timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def settle(read: Callable[[], dict], expect: dict, timeout: float = COUNTER_TIMEOUT) -> dict:
    """Polls read() until the keys of `expect` hold its values; returns
    those keys' last values (equal to expect unless the timeout passed)."""
    last = {}

    def settled():
        now = read()
        last.clear()
        last.update({k: now.get(k) for k in expect})
        return last == expect

    wait_until(settled, timeout)
    return last


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], check: bool = True, timeout: float = 30, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def hugetlbfs_mounts() -> list[str]:
    with open("/proc/mounts") as f:
        return [fields[1] for fields in (line.split() for line in f) if len(fields) > 2 and fields[2] == "hugetlbfs"]


def hugepage_files(prefix: str) -> list[str]:
    """EAL's hugepage files for a file prefix (<mount>/<prefix>map_<n>) on
    any hugetlbfs mount (/dev/hugepages on the machines here)."""
    mounts = set(hugetlbfs_mounts()) | {str(HUGEPAGE_DIR)}
    return sorted(f for m in mounts for f in glob.glob(os.path.join(glob.escape(m), f"{glob.escape(prefix)}map_*")))


def to_yaml(value, indent: int = 0) -> str:
    """Block-style YAML for the dicts/lists/scalars a bootstrap holds."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        out = ""
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out += f"{pad}{k}:\n" + to_yaml(v, indent + 1)
            else:
                out += f"{pad}{k}: {_scalar(v)}\n"
        return out
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        out = ""
        for v in value:
            if isinstance(v, dict) and v:
                body = to_yaml(v, indent + 1)
                out += f"{pad}- " + body[len(pad) + 2 :]
            else:
                out += f"{pad}- {_scalar(v)}\n"
        return out
    return pad + _scalar(value) + "\n"


def _scalar(v) -> str:
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v))  # a JSON string is a valid YAML double-quoted scalar


# ---------------------------------------------------------------------------
# Parsing admin output


def inet_checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum, for frames the tests build by hand."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def parse_stats_text(text: str) -> dict:
    """`name: value` lines into a dict; integer values become ints."""
    out = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(": ")
        assert sep, f"malformed /stats line: {line!r}"
        value = value.strip()
        out[name] = int(value) if re.fullmatch(r"-?\d+", value) else value
    return out


_PROM_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_PROM_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text: str) -> dict:
    """Samples as {(metric, frozenset(labels.items())): float}; also
    {('# TYPE', metric): type} for TYPE lines."""
    out: dict = {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            out[("# TYPE", name)] = kind
            continue
        if line.startswith("#"):
            continue
        m = _PROM_LINE.match(line)
        assert m, f"malformed Prometheus line: {line!r}"
        labels = frozenset(_PROM_LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def prom_drops(samples: dict, port: str = "p0") -> dict:
    """linegate_drops_total for one port as {reason: int}."""
    out = {}
    for (name, labels), value in samples.items():
        if name != "linegate_drops_total":
            continue
        lab = dict(labels)
        if lab.get("port") == port:
            out[lab["reason"]] = int(value)
    return out


# ---------------------------------------------------------------------------
# ping


class PingResult:
    def __init__(self, proc: subprocess.CompletedProcess, count: int):
        self.count = count
        self.output = proc.stdout + proc.stderr
        m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", self.output)
        self.transmitted = int(m.group(1)) if m else 0
        self.received = int(m.group(2)) if m else 0
        replies = re.findall(r"icmp_seq=(\d+) .*?(\(DUP!\))?$", self.output, re.M)
        self.answered = {int(seq) for seq, dup in replies if not dup}
        self.duplicates = sum(1 for _, dup in replies if dup)

    @property
    def missing(self) -> list[int]:
        """Requests 1..count without a reply."""
        return sorted(set(range(1, self.count + 1)) - self.answered)

    def __repr__(self):
        return (f"PingResult({self.received} of {self.transmitted} answered; missing {self.missing[:20]}; "
                f"duplicates {self.duplicates})\n{self.output[-3000:]}")


def ping(dst: str, count: int = 3, interval: float = 0.005, src: Optional[str] = None, v6: bool = False,
         expect_reply: bool = True, wait: float = 1.0, extra: Iterable[str] = ()) -> PingResult:
    """Runs the system ping.

    Expecting replies, it runs with a deadline (-w), so it waits for late
    replies instead of lingering only two RTTs after the last request (which
    on a busy 2-CPU box loses replies that were merely late). With -w, ping
    keeps sending until it has `count` replies, so "all answered" is judged
    from the per-reply lines: every icmp_seq 1..count answered (see
    assert_ping). Expecting no reply, it sends exactly `count` and waits
    `wait` seconds (-W) for stragglers."""
    cmd = ["ping", "-6" if v6 else "-4", "-n", "-c", str(count), "-i", str(interval)]
    if expect_reply:
        cmd += ["-w", str(int(count * interval) + 15)]
    else:
        cmd += ["-W", str(wait)]
    if src:
        cmd += ["-I", src]
    cmd += list(extra) + [dst]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=count * interval + wait + 60)
    return PingResult(p, count)


def assert_ping(dst: str, count: int = 3, **kw) -> PingResult:
    """Pings and asserts that every request was answered, once."""
    r = ping(dst, count=count, **kw)
    assert not r.missing and r.duplicates == 0, f"ping {dst}: {r!r}"
    return r


# ---------------------------------------------------------------------------
# Raw frames


def send_frames(iface: str, frames: Iterable, tolerate=(errno.EINVAL,)) -> int:
    """Writes each frame (bytes or anything bytes() accepts, e.g. a scapy
    packet) to iface through an AF_PACKET socket, which the tap hands to the
    dataplane. Returns how many the kernel accepted. Frames the kernel refuses
    with an errno in `tolerate` (EINVAL: shorter than an Ethernet header) are
    skipped. (Same as scapy's sendp, without turning on promiscuous mode.)"""
    sent = 0
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((iface, 0))
        for f in frames:
            data = f if isinstance(f, (bytes, bytearray)) else bytes(f)
            for attempt in range(200):
                try:
                    s.send(data)
                    sent += 1
                    break
                except OSError as e:
                    if e.errno == errno.ENOBUFS:
                        time.sleep(0.005)
                        continue
                    if e.errno in tolerate:
                        break
                    raise
    return sent


# AF_PACKET details the socket module does not name (linux/if_packet.h).
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
ETH_P_ALL = 0x0003
_AUXDATA = struct.Struct("IIIHHHH")  # struct tpacket_auxdata


def packet_socket(iface: str) -> socket.socket:
    """AF_PACKET socket on iface that reports 802.1Q tags (the kernel strips
    them on receive and hands them over as auxiliary data)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((iface, ETH_P_ALL))
    return s


def recv_frame(sock: socket.socket) -> tuple[bytes, int]:
    """One frame as it was on the wire (tag put back), and its packet type."""
    data, ancillary, _, addr = sock.recvmsg(65535, socket.CMSG_SPACE(_AUXDATA.size))
    for level, kind, cdata in ancillary:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= _AUXDATA.size:
            status, _, _, _, _, tci, tpid = _AUXDATA.unpack_from(cdata)
            if status & TP_STATUS_VLAN_VALID:
                tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100
                data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    return data, addr[2]


class Sniffer:
    """Frames the dataplane sends to the kernel through the tap (incoming from
    the kernel's point of view), with their VLAN tags. Open it before
    provoking the frame."""

    def __init__(self, iface: str):
        self.sock = packet_socket(iface)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def wait_for(self, pred: Callable[[bytes], bool], timeout: float = COUNTER_TIMEOUT) -> Optional[bytes]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data, pkttype = recv_frame(self.sock)
            except socket.timeout:
                return None
            if pkttype != PACKET_OUTGOING and pred(data):
                return data


class VlanRelay:
    """802.1Q between the kernel and a tagged dataplane port when the kernel
    has no 8021q support (CONFIG_VLAN_8021Q unset, as on some CI kernels): a
    veth pair whose end `kernel_if` the kernel addresses like a VLAN
    interface; a thread tags what it sends and writes it to the tap, and
    delivers the dataplane's frames tagged `vid` to it untagged."""

    def __init__(self, tap: str, vid: int):
        self.tap, self.vid = tap, vid
        self.kernel_if, self.relay_if = f"{tap}k", f"{tap}r"
        run(["ip", "link", "add", self.kernel_if, "type", "veth", "peer", "name", self.relay_if])
        Path(f"/proc/sys/net/ipv6/conf/{self.relay_if}/disable_ipv6").write_text("1")
        run(["ip", "link", "set", self.relay_if, "up"])
        self.from_kernel = packet_socket(self.relay_if)
        self.from_dataplane = packet_socket(self.tap)
        self.relayed = [0, 0]  # to dataplane, to kernel
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"vlan-relay-{tap}", daemon=True)
        self._thread.start()

    def _run(self):
        tag = struct.pack("!HH", 0x8100, self.vid)
        socks = [self.from_kernel, self.from_dataplane]
        while not self._stop.is_set():
            ready, _, _ = select.select(socks, [], [], 0.1)
            for s in ready:
                try:
                    data, pkttype = recv_frame(s)
                    if pkttype == PACKET_OUTGOING or len(data) < 14:
                        continue
                    if s is self.from_kernel:
                        self.from_dataplane.send(data[:12] + tag + data[12:])
                        self.relayed[0] += 1
                    elif data[12:14] == b"\x81\x00" and (struct.unpack("!H", data[14:16])[0] & 0xFFF) == self.vid:
                        self.from_kernel.send(data[:12] + data[16:])
                        self.relayed[1] += 1
                except OSError:  # e.g. the tap went away with the dataplane
                    if self._stop.is_set():
                        return
                    time.sleep(0.01)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.from_kernel.close()
        self.from_dataplane.close()
        if link_exists(self.kernel_if):
            run(["ip", "link", "del", self.kernel_if], check=False)


# ---------------------------------------------------------------------------
# The dataplane under test


class Port:
    """One dataplane port and the kernel end of its tap.

    Addresses, with a = 77 + n (n: the instance counter) and b = (pid + port
    index) % 256:
      dataplane  10.a.b.2/24         fd77:0:a:b::2/64
      kernel     10.a.b.1/24         fd77:0:a:b::1/64   (also the gateways)
      off-subnet 10.(a+100).b.1/24   fd77:1:a:b::1/64   (add_off_subnet_addresses)
    """

    def __init__(self, index: int, n: int, tap: str, vlan: int, ipv4: bool, ipv6: bool):
        a, b = 77 + (n % 78), (os.getpid() + index) % 256
        self.index, self.name, self.tap, self.vlan = index, f"p{index}", tap, vlan
        self.device = f"net_tap{n},iface={tap}" if index == 0 else f"net_tap{n}_{index},iface={tap}"
        self.has_v4, self.has_v6 = ipv4, ipv6
        self.ip4, self.peer4, self.plen4 = f"10.{a}.{b}.2", f"10.{a}.{b}.1", 24
        self.bcast4 = f"10.{a}.{b}.255"
        self.other4 = f"10.{a}.{b}.99"  # on-link, nobody has it
        self.off4 = f"10.{a + 100}.{b}.1"  # off-subnet kernel address
        self.ip6, self.peer6 = f"fd77:0:{a:x}:{b:x}::2", f"fd77:0:{a:x}:{b:x}::1"
        self.other6 = f"fd77:0:{a:x}:{b:x}::99"
        self.off6 = f"fd77:1:{a:x}:{b:x}::1"
        self.kernel_if = f"{tap}.{vlan}" if vlan else tap  # where the kernel's addresses live
        self.mac: Optional[str] = None  # known once linegate runs
        self.relay: Optional[VlanRelay] = None

    def bootstrap(self, gateway: bool, gateway6: bool) -> dict:
        port = {"name": self.name, "device": self.device}
        if self.has_v4:
            port["ipv4"] = f"{self.ip4}/{self.plen4}"
        if self.has_v6:
            port["ipv6"] = f"{self.ip6}/64"
        if self.has_v4 and gateway:
            port["gateway"] = self.peer4
        if self.has_v6 and gateway6:
            port["gateway6"] = self.peer6
        if self.vlan:
            port["vlan"] = self.vlan
        return port

    def configure_kernel(self):
        """Addresses the kernel end of the tap (or of its VLAN)."""
        if self.vlan:
            p = run(["ip", "link", "add", "link", self.tap, "name", self.kernel_if, "type", "vlan", "id",
                     str(self.vlan)], check=False)
            if p.returncode != 0:
                if "Unknown device type" not in p.stderr:
                    raise RuntimeError(f"cannot create VLAN interface {self.kernel_if}: {p.stderr}")
                self.relay = VlanRelay(self.tap, self.vlan)
                self.kernel_if = self.relay.kernel_if
        dev = self.kernel_if
        if self.has_v4:
            run(["ip", "addr", "add", f"{self.peer4}/{self.plen4}", "dev", dev])
        if self.has_v6:
            run(["ip", "-6", "addr", "add", f"{self.peer6}/64", "dev", dev, "nodad"])
        run(["ip", "link", "set", self.tap, "up"])
        if self.vlan:
            run(["ip", "link", "set", dev, "up"])

    def add_off_subnet_addresses(self):
        run(["ip", "addr", "add", f"{self.off4}/24", "dev", self.kernel_if])
        run(["ip", "-6", "addr", "add", f"{self.off6}/64", "dev", self.kernel_if, "nodad"])

    def kernel_static_neighbor(self, addr: str):
        """A permanent kernel neighbor entry for one of the dataplane's addresses,
        so the kernel sends to it without soliciting first."""
        run(["ip", "neigh", "replace", addr, "lladdr", self.mac, "dev", self.kernel_if, "nud", "permanent"])

    def kernel_neighbors(self) -> list[dict]:
        p = run(["ip", "-j", "neigh", "show", "dev", self.kernel_if])
        return json.loads(p.stdout or "[]")

    def kernel_tx_dropped(self) -> int:
        return int(Path(f"/sys/class/net/{self.tap}/statistics/tx_dropped").read_text())

    def cleanup(self):
        if self.relay is not None:
            self.relay.close()
            self.relay = None


# Port attributes a Linegate exposes for its first port (lg.ip4 == lg.ports[0].ip4).
_PORT0_ATTRS = {"tap", "kernel_if", "device", "vlan", "has_v4", "has_v6", "ip4", "peer4", "plen4", "bcast4",
                "other4", "off4", "ip6", "peer6", "other6", "off6", "mac", "relay", "add_off_subnet_addresses",
                "kernel_static_neighbor", "kernel_neighbors", "kernel_tx_dropped"}


class Linegate:
    """One linegate process with its own taps, subnets, EAL file prefix and
    admin port. Attributes of the first port are available directly
    (lg.tap, lg.ip4, lg.mac, ...); all ports are in lg.ports."""

    def __init__(self, workdir: Path, *, gateway: bool = True, gateway6: bool = False, vlan: int = 0,
                 workers: int = 1, eal: Iterable[str] = (), ipv4: bool = True, ipv6: bool = True,
                 extra_top: Optional[dict] = None, node_id: Optional[str] = None,
                 hide_hugepages: Optional[bool] = None, nports: int = 1):
        pid = os.getpid()
        while True:
            n = next(_instance_counter)
            tap = f"lgt{pid % 1000}{n}"
            taps = [tap] + [f"{tap}-{i}" for i in range(1, nports)]
            prefix = f"lgt{pid}-{n}"
            if not any(link_exists(t) for t in taps) and not (DPDK_RUN_DIR / prefix).exists():
                break
        self.n = n
        self.prefix = prefix
        self.ports = [Port(i, n, t, vlan, ipv4, ipv6) for i, t in enumerate(taps)]
        self.workdir = Path(workdir) / tap
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Run linegate in a private mount namespace without hugetlbfs, as on a
        # machine without hugepages (it must fall back to --no-huge). The
        # environment switch runs the whole suite that way.
        if hide_hugepages is None:
            hide_hugepages = os.environ.get("LINEGATE_TEST_NO_HUGEPAGES") == "1"
        self.hide_hugepages = hide_hugepages
        self.admin_port = free_tcp_port()
        self.node_id = node_id or f"gw-{prefix}"
        self.proc: Optional[subprocess.Popen] = None
        self.returncode: Optional[int] = None
        self.owner = CURRENT_TEST
        self.log_path = self.workdir / "linegate.log"
        self.bootstrap_path = self.workdir / "bootstrap.yaml"
        self._log = None
        self.config = {
            "node": {"id": self.node_id, "cluster": "cluster1", "network": "network1",
                     "labels": {"istio": "ingressgateway"}},
            "eal": [f"--file-prefix={prefix}", *eal],
            "workers": workers,
            "idle_sleep_us": 50,
            "ports": [p.bootstrap(gateway, gateway6) for p in self.ports],
            "admin": f"127.0.0.1:{self.admin_port}",
        }
        if extra_top:
            self.config.update({k: v for k, v in extra_top.items() if k != "node"})
            self.config["node"].update(extra_top.get("node", {}))
        REGISTRY.append(self)

    def __getattr__(self, name):
        if name in _PORT0_ATTRS and "ports" in self.__dict__:
            return getattr(self.__dict__["ports"][0], name)
        raise AttributeError(name)

    # -- process ------------------------------------------------------------

    def launch(self) -> "Linegate":
        """Writes the bootstrap and starts the process, without waiting."""
        self.bootstrap_path.write_text(to_yaml(self.config))
        if self._log is not None:
            self._log.close()
        self._log = open(self.log_path, "ab")  # a restart appends
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        return self

    def start(self, timeout: float = READY_TIMEOUT) -> "Linegate":
        """Launches and waits until ready (taps present, /ready LIVE)."""
        self.launch()
        self.wait_ready(timeout)
        return self

    def command(self) -> list[str]:
        cmd = [str(linegate_binary()), "--bootstrap", str(self.bootstrap_path)]
        if self.hide_hugepages:
            # unshare and sh exec in place: the pid stays linegate's.
            unmount = ("for m in $(awk '$3 == \"hugetlbfs\" {print $2}' /proc/mounts); "
                       "do umount \"$m\" || exit 97; done; exec \"$@\"")
            cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", unmount, "sh", *cmd]
        return cmd

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self, tail_lines: int = 200) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-tail_lines:])

    def describe(self) -> str:
        rc = self.proc.poll() if self.proc else None
        return (f"linegate taps={[p.tap for p in self.ports]} prefix={self.prefix} admin=127.0.0.1:{self.admin_port} "
                f"pid={self.proc.pid if self.proc else None} exit={rc}\n"
                f"bootstrap ({self.bootstrap_path}):\n{self.bootstrap_path.read_text() if self.bootstrap_path.exists() else ''}"
                f"log ({self.log_path}):\n{self.log_text()}")

    def _fail(self, msg: str):
        import pytest

        pytest.fail(f"{msg}\n{self.describe()}", pytrace=False)

    def wait_ready(self, timeout: float = READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self._fail(f"linegate exited with code {self.proc.returncode} before becoming ready")
            if all(link_exists(p.tap) for p in self.ports):
                try:
                    status, _, body = self.request("GET", "/ready", timeout=1)
                    if status == 200 and body.strip() == "LIVE":
                        break
                except OSError:
                    pass
            if time.monotonic() >= deadline:
                self._fail(f"linegate not ready (taps present and /ready LIVE) within {timeout:.0f}s")
            time.sleep(0.05)
        info = self.server_info()
        for port, pinfo in zip(self.ports, info["ports"]):
            assert pinfo["name"] == port.name, info
            port.mac = pinfo["mac"].lower()

    def send_signal(self, sig: int):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float = STOP_TIMEOUT) -> Optional[int]:
        """Exit code, or None if still running after timeout."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> Optional[int]:
        if not self.alive():
            return self.proc.poll() if self.proc else None
        self.send_signal(sig)
        return self.wait_exit(timeout)

    def cleanup(self) -> list[str]:
        """Stops the process and removes whatever it left. Returns notes about
        anything that needed forcing (empty when all was clean)."""
        notes = []
        for port in self.ports:
            port.cleanup()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                notes.append(f"{self.prefix}: did not stop within {STOP_TIMEOUT:.0f}s of SIGTERM; SIGKILL")
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        for port in self.ports:
            if link_exists(port.tap):
                notes.append(f"{port.tap}: tap left behind; deleted")
                run(["ip", "link", "del", port.tap], check=False)
        run_dir = DPDK_RUN_DIR / self.prefix
        if run_dir.exists():
            notes.append(f"{run_dir} left behind; removed")
            shutil.rmtree(run_dir, ignore_errors=True)
        for f in hugepage_files(self.prefix):
            notes.append(f"{f} left behind; removed")
            try:
                os.unlink(f)
            except OSError:
                pass
        return notes

    # -- kernel side ----------------------------------------------------------

    def configure_kernel(self):
        for port in self.ports:
            port.configure_kernel()

    # -- admin ------------------------------------------------------------------

    def request(self, method: str, path: str, timeout: float = 5.0, body: Optional[bytes] = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=timeout)
        try:
            conn.request(method, path, body=body)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def get(self, path: str) -> str:
        status, _, body = self.request("GET", path)
        assert status == 200, f"GET {path}: {status} {body}"
        return body

    def stats(self) -> dict:
        return parse_stats_text(self.get("/stats"))

    def prometheus(self) -> dict:
        return parse_prometheus(self.get("/stats/prometheus"))

    def server_info(self) -> dict:
        return json.loads(self.get("/server_info"))

    def counter(self, name: str, port: str = "p0") -> int:
        """A per-port counter from /stats: an event (`rx_frames`) or a drop
        (`drop.no_route`)."""
        return self.stats()[f"port.{port}.{name}"]

    def wait_counter(self, name: str, at_least: int, timeout: float = COUNTER_TIMEOUT, port: str = "p0") -> int:
        """Polls until the counter reaches at_least; returns its last value."""
        last = [0]

        def check():
            last[0] = self.counter(name, port)
            return last[0] >= at_least

        wait_until(check, timeout)
        return last[0]

    def telemetry(self, command: str) -> dict:
        p = run(["dpdk-telemetry.py", "-f", self.prefix], input=command + "\n", timeout=30)
        # Non-interactive: one JSON object per command line.
        for line in p.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)
        raise AssertionError(f"no JSON from dpdk-telemetry.py for {command!r}: {p.stdout!r} {p.stderr!r}")


def assert_clean_stop(lg: "Linegate"):
    """What a clean stop leaves: no tap, no EAL runtime directory, no
    hugepage files, and the shutdown line in the log."""
    for port in lg.ports:
        assert wait_until(lambda: not link_exists(port.tap), 2), f"tap {port.tap} still there"
    assert not (DPDK_RUN_DIR / lg.prefix).exists(), f"/var/run/dpdk/{lg.prefix} left behind"
    assert hugepage_files(lg.prefix) == [], hugepage_files(lg.prefix)
    assert "stopped; ports closed and EAL cleaned up" in lg.log_text(), lg.log_text()


class Factory:
    """Starts Linegate instances and cleans up every one of them."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.instances: list[Linegate] = []

    def create(self, **kw) -> Linegate:
        lg = Linegate(self.workdir, **kw)
        self.instances.append(lg)
        return lg

    def start(self, configure_kernel: bool = True, **kw) -> Linegate:
        lg = self.create(**kw)
        lg.start()
        if configure_kernel:
            lg.configure_kernel()
        return lg

    def cleanup(self) -> list[str]:
        notes = []
        for lg in reversed(self.instances):
            try:
                notes += lg.cleanup()
            except Exception as e:  # keep cleaning the others
                notes.append(f"{lg.prefix}: cleanup error {e!r}")
        self.instances.clear()
        return notes
