#!/usr/bin/python3
"""Lists what scripts/test.sh builds and runs in one build tree.

  meson_targets.py BUILD build [--suite S] [--skip DIR]
      ninja targets: with --suite, the programs of that test suite; without,
      every target built by default. Outputs under DIR (source-relative,
      e.g. tests/unit/ctrl) are left out.
  meson_targets.py BUILD tests [--suite S] [--skip DIR]
      test names for `meson test`, left out when their program is under DIR.
"""
import argparse
import json
import os
import subprocess
import sys


def introspect(build, what):
    out = subprocess.run(["meson", "introspect", build, what], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def under(path, build, skip):
    rel = os.path.relpath(path, os.path.abspath(build))
    return skip is not None and (rel == skip or rel.startswith(skip.rstrip("/") + "/"))


def in_suite(test, suite):
    return suite is None or any(s.split(":")[-1] == suite for s in test["suite"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("what", choices=["build", "tests"])
    ap.add_argument("--suite")
    ap.add_argument("--skip")
    a = ap.parse_args()
    if a.what == "tests":
        names = [t["name"] for t in introspect(a.build, "--tests")
                 if in_suite(t, a.suite) and not under(t["cmd"][0], a.build, a.skip)]
        print("\n".join(names))
        return 0
    if a.suite:
        paths = [t["cmd"][0] for t in introspect(a.build, "--tests") if in_suite(t, a.suite)]
    else:
        paths = [f for t in introspect(a.build, "--targets") if t["build_by_default"] for f in t["filename"]]
    build = os.path.abspath(a.build)
    seen = set()
    for p in paths:
        if under(p, a.build, a.skip) or p in seen:
            continue
        seen.add(p)
        print(os.path.relpath(p, build))
    return 0


if __name__ == "__main__":
    sys.exit(main())
