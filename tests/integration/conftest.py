"""Fixtures for the linegate integration tests.

`linegate` (per test) and `shared_linegate` (per module) are factories:
call them with Linegate keyword arguments (gateway=, gateway6=, vlan=,
workers=, eal=, ...) to get a running dataplane whose kernel side is already
addressed. Everything they start is stopped and cleaned up afterwards, also
when the test fails; a failing test's report carries the linegate logs.
"""
import os
import shutil
import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lgtest  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


# Istio's CRD schemas for the control plane's structural checks: the product
# reads them at run time (--crds / LINEGATE_CRDS); tests use the copy in the
# shared test data. Child processes (linegate, agent, linegatectl) inherit it.
_CRDS = lgtest.REPO.parent / "shared" / "testdata" / "istio-api" / "customresourcedefinitions.gen.yaml"
if "LINEGATE_CRDS" not in os.environ and _CRDS.exists():
    os.environ["LINEGATE_CRDS"] = str(_CRDS)


@pytest.fixture(scope="session")
def linegate_env():
    """Root, the tools, and the binary; every linegate test module uses it."""
    if os.geteuid() != 0:
        pytest.skip("linegate integration tests need root (tap interfaces, hugepages, raw sockets)")
    missing = [t for t in ("ip", "ping", "dpdk-telemetry.py") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"missing tools: {', '.join(missing)} (scripts/install-deps.sh installs them)", pytrace=False)
    binary = lgtest.linegate_binary()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"linegate binary not found at {binary}: build it (ninja -C build) or set LINEGATE_BIN",
                    pytrace=False)
    # Counter names come from the source tree; a stale binary fails in confusing ways.
    if binary.stat().st_mtime < lgtest.COUNTER_DEFS.stat().st_mtime:
        warnings.warn(f"{binary} is older than {lgtest.COUNTER_DEFS}: rebuild it, or counter checks will fail")
    yield


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    lgtest.CURRENT_TEST = item.nodeid


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    # Logs of the instances this test started, plus shared ones still running.
    for lg in lgtest.REGISTRY:
        if lg.owner == item.nodeid or lg.alive():
            rep.sections.append((f"linegate {lg.tap} ({lg.prefix}) log {lg.log_path}", lg.describe()))


def _cleanup(factory, what):
    notes = factory.cleanup()
    if notes:
        # Leftovers after a test that stopped linegate itself are a finding, not noise.
        warnings.warn(f"{what}: cleanup had to force: " + "; ".join(notes))


@pytest.fixture
def linegate(linegate_env, tmp_path):
    """Factory: linegate(**kw) -> running, kernel-configured lgtest.Linegate."""
    factory = lgtest.Factory(tmp_path)
    try:
        yield factory.start
    finally:
        _cleanup(factory, "linegate")


@pytest.fixture
def linegate_factory(linegate_env, tmp_path):
    """The Factory itself, for tests that create/start instances step by step."""
    factory = lgtest.Factory(tmp_path)
    try:
        yield factory
    finally:
        _cleanup(factory, "linegate_factory")


@pytest.fixture(scope="module")
def shared_linegate(linegate_env, tmp_path_factory, request):
    """Module-scoped factory, for tables of checks against one instance."""
    factory = lgtest.Factory(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
    try:
        yield factory.start
    finally:
        _cleanup(factory, "shared_linegate")
