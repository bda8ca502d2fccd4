"""Helpers for the linegate-agent / linegatectl integration tests.

`AgentProcess` runs one linegate-agent on a kernel-picked loopback port (it
logs `listening on 127.0.0.1:PORT`, which is read back), keeps its stderr in
a file, and is always stopped: SIGTERM, then SIGKILL. `ctl()` runs
linegatectl. `ConfigDumpServer` plays a linegate admin server serving a
fixed /config_dump. Only the standard library.
"""
from __future__ import annotations

import http.server
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[2]

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


def _binary(env: str, *candidates: str) -> Path:
    value = os.environ.get(env)
    if value:
        return Path(value)
    for c in candidates:
        p = REPO / c
        if p.exists():
            return p
    return REPO / candidates[0]


def agent_binary() -> Path:
    return _binary("LINEGATE_AGENT_BIN", "build/ctrl/agent/linegate-agent")


def linegatectl_binary() -> Path:
    return _binary("LINEGATECTL_BIN", "build/ctrl/cli/linegatectl")


def crds_path() -> Optional[Path]:
    """Istio's CRDs from the shared test data, for the schema checks (absent
    outside the project's machines: the checks are then skipped with a warning)."""
    p = REPO.parent / "shared" / "testdata" / "istio-api" / "customresourcedefinitions.gen.yaml"
    return p if p.exists() else None


def crds_args() -> list[str]:
    p = crds_path()
    return ["--crds", str(p)] if p else []


def ctl(*args: str, timeout: float = 30, input: Optional[str] = None) -> subprocess.CompletedProcess:
    """Runs linegatectl; never raises on a non-zero exit (tests check it)."""
    return subprocess.run([str(linegatectl_binary()), *args], capture_output=True, text=True, timeout=timeout,
                          input=input if input is not None else "")


def run_agent_once(*args: str, timeout: float = 10) -> subprocess.CompletedProcess:
    """For arguments that must make the agent exit at once (bad usage)."""
    return subprocess.run([str(agent_binary()), *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


class AgentProcess:
    def __init__(self, log_path: Path, watch: list[Path] = (), debounce_ms: int = 100, extra: list[str] = ()):
        self.log_path = log_path
        self.cmd = [str(agent_binary()), "--listen", "127.0.0.1:0", "--debounce-ms", str(debounce_ms)]
        for w in watch:
            self.cmd += ["--watch", str(w)]
        self.cmd += crds_args() + list(extra)
        self.proc: Optional[subprocess.Popen] = None
        self.port: Optional[int] = None
        self._log = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def bootstrap(self) -> dict:
        """The gateway's bootstrap `agent:` section for this agent, with quick
        reconnects (tests start the gateway and the agent together)."""
        return {"address": self.address, "initial_backoff_ms": 50, "max_backoff_ms": 500}

    def start(self) -> "AgentProcess":
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log())
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f"linegate-agent did not start ({' '.join(self.cmd)}):\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern: str, timeout: float = 5.0, after: int = 0) -> Optional[re.Match]:
        """First match of `pattern` in the log past character `after`."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.log()[after:])
            if m or time.monotonic() >= deadline:
                return m
            time.sleep(0.02)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> Optional[int]:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; returns the exit code."""
        if self.proc is None:
            if self._log:
                self._log.close()
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


class ConfigDumpServer:
    """A stand-in for linegate's admin server: GET /config_dump returns `body`
    with `status`; anything else 404."""

    def __init__(self, body: str, status: int = 200):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                code, payload = (outer.status, outer.body) if self.path == "/config_dump" else (404, "not found\n")
                data = payload.encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.body, self.status = body, status
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
