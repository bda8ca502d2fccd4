"""Command line and bootstrap validation: exit 2 with a message that names the
key path, before EAL or any port is touched; --check exits 0 on a valid file."""
import copy
import subprocess

import pytest

import lgtest

pytestmark = pytest.mark.usefixtures("linegate_env")


def run_linegate(args, timeout=20):
    """Runs linegate to completion. A run that does not exit (a bad file was
    accepted and the dataplane started) is stopped and reported."""
    proc = subprocess.Popen([str(lgtest.linegate_binary()), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
        pytest.fail(f"linegate {' '.join(args)} kept running (accepted?)\nstdout: {out}\nstderr: {err}")
    return proc.returncode, out, err


@pytest.fixture
def valid(tmp_path):
    """A valid bootstrap (never started: a Linegate only allocates names)."""
    lg = lgtest.Linegate(tmp_path)
    return lg


def write(tmp_path, config_or_text) -> str:
    path = tmp_path / "bs.yaml"
    text = config_or_text if isinstance(config_or_text, str) else lgtest.to_yaml(config_or_text)
    path.write_text(text)
    return str(path)


def port0(cfg):
    return cfg["ports"][0]


def mutate(fn):
    def apply(cfg):
        cfg = copy.deepcopy(cfg)
        fn(cfg)
        return cfg

    return apply


# (id, mutation of a valid config, substrings stderr must contain)
BAD_CONFIGS = [
    ("unknown_top_key", mutate(lambda c: c.update(bogus=1)),
     ["bogus: unknown key (expected one of: node, eal, workers"]),
    ("unknown_port_key", mutate(lambda c: port0(c).update(ipv5="1.2.3.4")),
     ["ports[0].ipv5: unknown key"]),
    ("bad_ipv4", mutate(lambda c: port0(c).update(ipv4="10.77.0.300/24")),
     ['ports[0].ipv4: expected an IPv4 address with prefix length such as 10.77.0.2/24, got "10.77.0.300/24"']),
    ("ipv4_without_prefix_length", mutate(lambda c: port0(c).update(ipv4="10.77.0.2")),
     ['ports[0].ipv4: expected an IPv4 address with prefix length']),
    ("ipv4_network_address", mutate(lambda c: port0(c).update(ipv4="10.77.0.0/24", gateway="10.77.0.1")),
     ['ports[0].ipv4: expected a host address in its subnet, got the network address "10.77.0.0/24"']),
    ("bad_ipv6", mutate(lambda c: port0(c).update(ipv6="fd77::zz/64")),
     ['ports[0].ipv6: expected an IPv6 address with prefix length such as fd77::2/64, got "fd77::zz/64"']),
    ("gateway_outside_subnet", mutate(lambda c: port0(c).update(ipv4="10.77.0.2/24", gateway="10.78.0.1")),
     ["ports[0].gateway: expected an address inside the port's subnet 10.77.0.0/24"]),
    ("missing_ports", mutate(lambda c: c.pop("ports")),
     ["ports: missing (expected a list of 1 to 16 ports)"]),
    ("empty_ports", mutate(lambda c: c.update(ports=[])),
     ["ports: expected a list of 1 to 16 ports, got an empty list"]),
    ("missing_node", mutate(lambda c: c.pop("node")),
     ["node: missing"]),
    ("port_without_addresses", mutate(lambda c: [port0(c).pop(k, None) for k in ("ipv4", "ipv6", "gateway")]),
     ["ports[0]: missing ipv4 and ipv6"]),
    ("vlan_out_of_range", mutate(lambda c: port0(c).update(vlan=4095)),
     ['ports[0].vlan: expected an integer from 0 to 4094, got "4095"']),
    ("workers_zero", mutate(lambda c: c.update(workers=0)),
     ['workers: expected an integer from 1 to 64, got "0"']),
    ("bad_admin", mutate(lambda c: c.update(admin="127.0.0.1")),
     ["admin: expected host:port"]),
    ("admin_port_out_of_range", mutate(lambda c: c.update(admin="127.0.0.1:70000")),
     ["admin: expected a port from 1 to 65535"]),
    ("eal_proc_type", mutate(lambda c: c["eal"].append("--proc-type=secondary")),
     ["eal[1]: expected an EAL argument other than --proc-type"]),
    ("duplicate_port_name", mutate(lambda c: c["ports"].append(dict(port0(c), device="net_tap99,iface=lgtdup"))),
     ['ports[1].name: expected a name no other port uses, got "p0" (also ports[0].name)']),
]


@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("name,mutation,expected", [pytest.param(*c, id=c[0]) for c in BAD_CONFIGS])
def test_bad_bootstrap_exits_2(tmp_path, valid, name, mutation, expected, check):
    path = write(tmp_path, mutation(valid.config))
    rc, out, err = run_linegate(["--bootstrap", path] + (["--check"] if check else []))
    assert rc == 2, f"exit {rc}\nstdout: {out}\nstderr: {err}"
    for text in expected:
        assert f"{path}: {text}" in err, f"{text!r} not in stderr:\n{err}"
    assert "bootstrap rejected" in err
    assert "EAL arguments" not in err + out, "EAL must not start for a rejected bootstrap"
    assert not lgtest.link_exists(valid.tap)
    assert not (lgtest.DPDK_RUN_DIR / valid.prefix).exists()


def test_several_errors_reported_at_once(tmp_path, valid):
    cfg = copy.deepcopy(valid.config)
    port0(cfg).update(ipv4="10.1.2.3/33", vlan="x")
    cfg["workers"] = 100
    path = write(tmp_path, cfg)
    rc, _, err = run_linegate(["--bootstrap", path])
    assert rc == 2
    for text in ("ports[0].ipv4: expected a prefix length from 1 to 32", "ports[0].vlan:", "workers:"):
        assert text in err, err
    assert "bootstrap rejected (3 errors)" in err


def test_yaml_syntax_error(tmp_path, valid):
    text = lgtest.to_yaml(valid.config) + "ports: [unclosed\n"
    path = write(tmp_path, text)
    rc, _, err = run_linegate(["--bootstrap", path])
    assert rc == 2, err
    assert f"{path}:" in err and "YAML syntax error" in err, err
    # The position is given as file:line:column.
    assert any(line.startswith(f"linegate: {path}:") and line.split(":")[2].strip().isdigit()
               for line in err.splitlines()), err


def test_empty_file(tmp_path):
    path = write(tmp_path, "")
    rc, _, err = run_linegate(["--bootstrap", path])
    assert rc == 2
    assert "expected a map with at least node and ports, got an empty file" in err


def test_nonexistent_file(tmp_path):
    path = str(tmp_path / "no-such-file.yaml")
    rc, _, err = run_linegate(["--bootstrap", path])
    assert rc == 2
    assert f"{path}: cannot read: No such file or directory" in err, err


def test_directory_as_bootstrap(tmp_path):
    rc, _, err = run_linegate(["--bootstrap", str(tmp_path)])
    assert rc == 2
    assert f"{tmp_path}: cannot read" in err, err


@pytest.mark.parametrize("args", [
    pytest.param(["--bogus"], id="unknown_flag_only"),
    pytest.param(["--bootstrap", "/dev/null", "--bogus"], id="unknown_flag"),
    pytest.param([], id="missing_bootstrap"),
    pytest.param(["--check"], id="check_without_bootstrap"),
    pytest.param(["--bootstrap"], id="bootstrap_without_value"),
    pytest.param(["--bootstrap", "a.yaml", "extra-positional"], id="extra_positional"),
])
def test_bad_cli_exits_2(args):
    rc, out, err = run_linegate(args)
    assert rc == 2, f"exit {rc}\nstdout: {out}\nstderr: {err}"
    assert err.strip(), "a usage error must say what is wrong on stderr"


def test_check_valid_file(tmp_path, valid):
    path = write(tmp_path, valid.config)
    rc, out, err = run_linegate(["--bootstrap", path, "--check"])
    assert rc == 0, err
    assert f"{path} is valid" in out
    assert not lgtest.link_exists(valid.tap), "--check must not open ports"


def test_check_valid_file_full_options(tmp_path, valid):
    cfg = copy.deepcopy(valid.config)
    port0(cfg).update(gateway6=valid.peer6, mtu=9000, vlan=100, rx_desc=512, tx_desc=2048)
    cfg.update(workers=2, mbufs_per_port=4096)
    path = write(tmp_path, cfg)
    rc, out, err = run_linegate(["--bootstrap", path, "--check"])
    assert rc == 0, err


def test_help_and_version():
    rc, out, _ = run_linegate(["--help"])
    assert rc == 0 and "--bootstrap" in out
    rc, out, _ = run_linegate(["--version"])
    assert rc == 0 and out.startswith("linegate ")
