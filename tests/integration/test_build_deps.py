"""A missing dependency stops `meson setup` with the Debian package to install.

The check hides one library's pkg-config file (jemalloc: it has no CMake
package that meson could fall back on) and runs a real `meson setup`.
"""
import glob
import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_missing_library_names_its_debian_package(tmp_path):
    pc_dir = tmp_path / "pkgconfig"
    pc_dir.mkdir()
    for d in ("/usr/lib/x86_64-linux-gnu/pkgconfig", "/usr/share/pkgconfig", "/usr/lib/pkgconfig"):
        for pc in glob.glob(os.path.join(d, "*.pc")):
            if os.path.basename(pc) != "jemalloc.pc":
                shutil.copy(pc, pc_dir)
    env = dict(os.environ, PKG_CONFIG_LIBDIR=str(pc_dir), PKG_CONFIG_PATH="")
    r = subprocess.run(["meson", "setup", str(tmp_path / "build"), "-Dtests=false"],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "jemalloc not found: install the Debian package libjemalloc-dev" in out, out


def test_all_dependencies_present_configures(tmp_path):
    r = subprocess.run(["meson", "setup", str(tmp_path / "build"), "-Dtests=false"],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
