"""Kernel-side TCP peers for the userspace TCP tests: a streaming echo
checker, a sink server, and raw-frame builders for floods and injection."""
import hashlib
import os
import random
import socket
import struct
import threading

from lgtest import inet_checksum

PATTERN_MOD = 251  # dataplane/apps/test_apps.h: byte k of a stream is k % 251


def pattern_sha256(n: int) -> str:
    block = bytes(i % PATTERN_MOD for i in range(PATTERN_MOD * 4096))
    h = hashlib.sha256()
    full, rem = divmod(n, len(block))
    for _ in range(full):
        h.update(block)
    h.update(block[:rem])
    return h.hexdigest()


def echo_transfer(host: str, port: int, total: int, timeout: float = 300.0) -> tuple[int, bool]:
    """Streams `total` bytes to an echo server while reading the echo back;
    returns (bytes received, sha256 equal)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    chunk = os.urandom(1 << 16)
    h_out, h_in = hashlib.sha256(), hashlib.sha256()
    got = [0]
    err = []

    def reader():
        try:
            while True:
                b = s.recv(1 << 18)
                if not b:
                    break
                h_in.update(b)
                got[0] += len(b)
        except OSError as e:  # reported through the result
            err.append(e)

    t = threading.Thread(target=reader)
    t.start()
    sent = 0
    while sent < total:
        n = min(len(chunk), total - sent)
        s.sendall(chunk[:n])
        h_out.update(chunk[:n])
        sent += n
    s.shutdown(socket.SHUT_WR)  # half-close: the echo must still flow back
    t.join(timeout)
    s.close()
    assert not err, err
    return got[0], h_in.hexdigest() == h_out.hexdigest()


class Sink:
    """A kernel TCP server that hashes what each connection sends."""

    def __init__(self, host: str, port: int, connections: int = 1, timeout: float = 300.0):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.ls = socket.socket(fam, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((host, port))
        self.ls.listen(1024)
        self.ls.settimeout(timeout)
        self.results: list[tuple[int, str]] = []
        self.errors: list[Exception] = []
        self.thread = threading.Thread(target=self._run, args=(connections, timeout), daemon=True)
        self.thread.start()

    def _run(self, connections, timeout):
        try:
            for _ in range(connections):
                c, _ = self.ls.accept()
                c.settimeout(timeout)
                h, n = hashlib.sha256(), 0
                while True:
                    b = c.recv(1 << 18)
                    if not b:
                        break
                    h.update(b)
                    n += len(b)
                c.close()
                self.results.append((n, h.hexdigest()))
        except OSError as e:
            self.errors.append(e)

    def wait(self, timeout: float):
        self.thread.join(timeout)
        self.ls.close()
        return self.results


def mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


def tcp_frame(dst_mac: str, src_mac: str, src_ip: str, dst_ip: str, sport: int, dport: int, seq: int, ack: int,
              flags: int, window: int = 65535, payload: bytes = b"") -> bytes:
    """An Ethernet/IPv4/TCP frame with correct checksums."""
    src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, window, 0,
                      0) + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", inet_checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", inet_checksum(ip)) + ip[12:]
    return mac_bytes(dst_mac) + mac_bytes(src_mac) + b"\x08\x00" + ip + tcp


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def parse_tcp(frame: bytes):
    """(src ip, dst ip, sport, dport, seq, ack, flags) of an IPv4/TCP frame, else None."""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 0x0F) * 4
    t = 14 + ihl
    sport, dport, seq, ack, _, flags = struct.unpack("!HHIIBB", frame[t:t + 14])
    return socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34]), sport, dport, seq, ack, flags
