"""Running linegate-loadgen in tests: a process wrapper that always stops
the generator and checks it left nothing behind (EAL run directory,
hugepage files, taps), and the JSON it writes."""
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Optional

import lgtest

LOADGEN_BIN = Path(os.environ.get("LOADGEN_BIN", lgtest.REPO / "build" / "bench" / "linegate-loadgen"))


def memif(index: int, sock: Path, server: bool) -> str:
    role = "server" if server else "client"
    return f"net_memif{index},role={role},socket={sock},socket-abstract=no"


class Loadgen:
    """One linegate-loadgen process. args are its options after the file
    prefix; the process is pinned with taskset when cpu is given."""

    def __init__(self, workdir: Path, name: str, args: list[str], cpu: Optional[int] = None):
        self.workdir = workdir
        self.prefix = f"lgt-{name}-{os.getpid()}"
        self.json_path = workdir / f"{name}.json"
        self.log_path = workdir / f"{name}.log"
        self.out_path = workdir / f"{name}.out"
        cmd = [str(LOADGEN_BIN), "--file-prefix", self.prefix, "--json", str(self.json_path), *args]
        if cpu is not None:
            cmd = ["taskset", "-c", str(cpu), *cmd]
        self.cmd = cmd
        self.proc: Optional[subprocess.Popen] = None
        self.killed = False

    def start(self) -> "Loadgen":
        self._out = open(self.out_path, "w")
        self._err = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self._out, stderr=self._err, stdin=subprocess.DEVNULL)
        return self

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"loadgen did not finish in {timeout}s:\n{self.log_text()}")

    def stop(self, timeout: float = 20) -> Optional[int]:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would; removes the EAL files
        the process could not."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.killed = True
        shutil.rmtree(lgtest.DPDK_RUN_DIR / self.prefix, ignore_errors=True)
        for f in lgtest.hugepage_files(self.prefix):
            os.unlink(f)

    def cleanup(self) -> list[str]:
        """Stops the process; returns what it left behind (should be
        nothing), and how it ended if not cleanly (with its log)."""
        rc = self.stop()
        for f in ("_out", "_err"):
            if hasattr(self, f):
                getattr(self, f).close()
        left = []
        if rc not in (0, 1) and not self.killed:  # 1: a run-time failure a test provoked on purpose
            left.append(f"{self.prefix} ended with {rc} (None: killed after SIGINT timed out):\n{self.log_text()}")
        if (lgtest.DPDK_RUN_DIR / self.prefix).exists():
            left.append(str(lgtest.DPDK_RUN_DIR / self.prefix))
        left += lgtest.hugepage_files(self.prefix)
        return left

    def log_text(self) -> str:
        text = self.log_path.read_text() if self.log_path.exists() else ""
        out = self.out_path.read_text() if self.out_path.exists() else ""
        return f"$ {' '.join(self.cmd)}\n--- stderr\n{text}\n--- stdout\n{out}"

    def result(self) -> dict:
        assert self.json_path.exists(), f"no JSON written:\n{self.log_text()}"
        return json.loads(self.json_path.read_text())

    def wait_for_log(self, text: str, timeout: float = 20) -> None:
        ok = lgtest.wait_until(lambda: text in (self.log_path.read_text() if self.log_path.exists() else ""), timeout)
        assert ok, f"'{text}' not in the loadgen log within {timeout}s:\n{self.log_text()}"


def wait_gone(path: Path, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not path.exists()
