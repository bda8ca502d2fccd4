#!/usr/bin/python3
"""plot: charts from linegate-loadgen --json files.

  bench/plot.py [--out DIR] [--prefix NAME] FILE.json [FILE.json ...]

writes three PNGs into DIR (default: the current directory):

  NAMElatency-vs-throughput.png  p50 / p99 / p99.9 latency against achieved
      throughput; runs sharing a --label form one curve (sorted by
      throughput), so runs at several --rate values trace where latency
      turns up as the system saturates.
  NAMElatency-percentiles.png    HDR-style percentile plot, one line per
      file: x is 1/(1-p) on a log axis, so 99 %, 99.9 %, 99.99 % get equal
      room and the tail is visible rather than squeezed against 100 %.
  NAMEtimeline.png               requests per second through the measured
      window, one line per file (and errors per second below, if any).

A file that is not a loadgen JSON stops the script with exit status 2 and a
message naming the file and what is missing. Needs python3-matplotlib.
"""
import argparse
import json
import os
import sys
from pathlib import Path

TOOL = "linegate-loadgen"
PERCENTILE_TICKS = (50, 90, 99, 99.9, 99.99, 99.999, 99.9999)
TAIL = (("p50", "p50", "o"), ("p99", "p99", "s"), ("p999", "p99.9", "^"))


class BadInput(Exception):
    pass


# ---------------------------------------------------------------- input

def _get(doc, path: str, file: str):
    """doc["a"]["b"] for path "a.b", or BadInput naming the file and key."""
    cur = doc
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            raise BadInput(f"{file}: missing key '{path}'")
        cur = cur[part]
    return cur


def _number(doc, path: str, file: str) -> float:
    v = _get(doc, path, file)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise BadInput(f"{file}: key '{path}' is not a number ({v!r})")
    return float(v)


def _pairs(doc, path: str, file: str) -> list:
    v = _get(doc, path, file)
    if not isinstance(v, list):
        raise BadInput(f"{file}: key '{path}' is not a list")
    out = []
    for i, item in enumerate(v):
        if (not isinstance(item, list) or len(item) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in item)):
            raise BadInput(f"{file}: key '{path}[{i}]' is not a [number, number] pair ({item!r})")
        out.append((float(item[0]), float(item[1])))
    return out


def _timeline(doc, file: str) -> list:
    v = _get(doc, "timeline", file)
    if not isinstance(v, list):
        raise BadInput(f"{file}: key 'timeline' is not a list")
    out = []
    for i, item in enumerate(v):
        if not isinstance(item, dict):
            raise BadInput(f"{file}: key 'timeline[{i}]' is not an object")
        t = _number(item, "t", f"{file}: timeline[{i}]")
        req = _number(item, "requests", f"{file}: timeline[{i}]")
        err = _number(item, "errors", f"{file}: timeline[{i}]") if "errors" in item else 0.0
        out.append((t, req, err))
    return sorted(out)


class Run:
    """The figures of one loadgen JSON that the plots use."""

    def __init__(self, path: str):
        self.path = path
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except OSError as e:
            raise BadInput(f"{path}: cannot read: {e.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise BadInput(f"{path}: not valid JSON: {e}") from None
        if not isinstance(doc, dict):
            raise BadInput(f"{path}: not a {TOOL} JSON (top level is not an object)")
        tool = _get(doc, "tool", path)
        if tool != TOOL:
            raise BadInput(f"{path}: not a {TOOL} JSON (key 'tool' is {tool!r})")
        label = doc.get("label") or ""
        self.label = label if isinstance(label, str) and label else Path(path).stem
        self.mode = doc.get("mode") if isinstance(doc.get("mode"), str) else "http"
        self.throughput = _number(doc, "throughput_rps", path)
        self.tail = {key: _number(doc, f"latency_us.{key}", path) for key, _, _ in TAIL}
        self.percentiles = _pairs(doc, "latency_percentiles", path)
        self.timeline = _timeline(doc, path)
        self.name = self.label  # made unique across files by name_runs


def name_runs(runs: list) -> None:
    """Legend names for per-file lines: the label, plus the rate when a label
    has several runs, plus the file when that is still ambiguous."""
    per_label = {}
    for r in runs:
        per_label.setdefault(r.label, []).append(r)
    for group in per_label.values():
        if len(group) > 1:
            for r in group:
                r.name = f"{r.label} @ {fmt_rate(r.throughput)}"
    seen = {}
    for r in runs:
        seen.setdefault(r.name, []).append(r)
    for group in seen.values():
        if len(group) > 1:
            for r in group:
                r.name = f"{r.name} ({Path(r.path).name})"


# ---------------------------------------------------------------- formatting

def fmt_rate(v: float) -> str:
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:.3g}{unit}/s"
    return f"{v:.3g}/s"


def fmt_us(v: float, _pos=None) -> str:
    if v >= 1e6:
        return f"{v / 1e6:g} s"
    if v >= 1e3:
        return f"{v / 1e3:g} ms"
    return f"{v:g} µs"


def fmt_percentile(p: float) -> str:
    return f"{p:g}%"


def rate_unit(runs: list) -> str:
    modes = {r.mode for r in runs}
    if modes <= {"tcp-connect", "http-close"}:
        return "connections/s"
    return "requests/s"


# ---------------------------------------------------------------- plots

def _log_latency_axis(ax, ticker) -> None:
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(fmt_us))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_ylabel("latency")
    ax.grid(True, which="major", alpha=0.4)
    ax.grid(True, which="minor", alpha=0.12)


def _legend_outside(ax) -> None:
    # One line per file: inside the axes the legend would hide the lines it names.
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def _save(plt, fig, out: Path) -> None:
    fig.tight_layout()
    fig.savefig(out, dpi=120, bbox_inches="tight")  # "tight" keeps an outside legend in the picture
    plt.close(fig)


def plot_latency_vs_throughput(plt, ticker, runs: list, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 5.5))
    labels = list(dict.fromkeys(r.label for r in runs))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    plotted = False
    for i, label in enumerate(labels):
        group = sorted((r for r in runs if r.label == label), key=lambda r: r.throughput)
        for key, name, marker in TAIL:
            pts = [(r.throughput, r.tail[key]) for r in group if r.tail[key] > 0]
            if not pts:
                continue
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker=marker, color=colors[i % len(colors)],
                    linestyle={"p50": "-", "p99": "--", "p999": ":"}[key], label=f"{label} {name}")
            plotted = True
    if plotted:
        _log_latency_axis(ax, ticker)
        ax.legend(fontsize="small", ncol=max(1, len(labels) // 4 + 1))
    else:
        ax.text(0.5, 0.5, "no latency samples", ha="center", va="center", transform=ax.transAxes)
    ax.xaxis.set_major_formatter(ticker.EngFormatter(sep=""))
    ax.set_xlim(left=0)
    ax.set_xlabel(f"achieved throughput ({rate_unit(runs)})")
    ax.set_title("Latency against throughput")
    _save(plt, fig, out)


def plot_percentiles(plt, ticker, runs: list, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 5.5))
    top = 10.0  # at least up to the 90 % tick
    plotted = False
    for r in runs:
        # p = 100 is at infinity on this axis; max() is in the legend's run anyway.
        pts = [(1.0 / (1.0 - p / 100.0), v) for p, v in r.percentiles if 0 <= p < 100 and v > 0]
        if not pts:
            continue
        xs, ys = zip(*pts)
        ax.plot(xs, ys, label=r.name, linewidth=1.5)
        top = max(top, max(xs))
        plotted = True
    ax.set_xscale("log")
    ticks = [p for p in PERCENTILE_TICKS if 1.0 / (1.0 - p / 100.0) <= top * 1.01]
    ax.xaxis.set_major_locator(ticker.FixedLocator([1.0 / (1.0 - p / 100.0) for p in ticks]))
    ax.xaxis.set_major_formatter(ticker.FixedFormatter([fmt_percentile(p) for p in ticks]))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.set_xlim(1, top)
    ax.set_xlabel("percentile")
    if plotted:
        _log_latency_axis(ax, ticker)
        _legend_outside(ax)
    else:
        ax.text(0.5, 0.5, "no latency samples", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("Latency by percentile")
    _save(plt, fig, out)


def plot_timeline(plt, ticker, runs: list, out: Path) -> None:
    with_errors = any(err > 0 for r in runs for _, _, err in r.timeline)
    if with_errors:
        fig, (ax, ax_err) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True,
                                         gridspec_kw={"height_ratios": (3, 1)})
    else:
        fig, ax = plt.subplots(figsize=(9, 5.5))
        ax_err = None
    for r in runs:
        if not r.timeline:
            continue
        ts = [t for t, _, _ in r.timeline]
        line, = ax.plot(ts, [req for _, req, _ in r.timeline], marker=".", label=r.name)
        if ax_err is not None:
            ax_err.plot(ts, [err for _, _, err in r.timeline], marker=".", color=line.get_color())
    unit = rate_unit(runs)
    ax.set_ylabel(unit)
    ax.yaxis.set_major_formatter(ticker.EngFormatter(sep=""))
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.4)
    if ax.get_legend_handles_labels()[0]:
        _legend_outside(ax)
    ax.set_title(f"{unit[0].upper()}{unit[1:]} over the measured window")
    bottom = ax
    if ax_err is not None:
        ax_err.set_ylabel("errors/s")
        ax_err.set_ylim(bottom=0)
        ax_err.grid(True, alpha=0.4)
        bottom = ax_err
    bottom.set_xlabel("time (s)")
    _save(plt, fig, out)


# ---------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=".", help="directory for the PNGs (created if missing)")
    ap.add_argument("--prefix", default="", help="prepended to each PNG's file name")
    ap.add_argument("files", nargs="+", metavar="FILE.json", help="linegate-loadgen --json output")
    args = ap.parse_args()

    try:
        runs = [Run(f) for f in args.files]
    except BadInput as e:
        print(f"plot.py: {e}", file=sys.stderr)
        return 2
    name_runs(runs)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib import ticker
    except ImportError:
        print("plot.py: matplotlib is missing: apt-get install python3-matplotlib", file=sys.stderr)
        return 1

    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"plot.py: {out_dir}: cannot create: {e.strerror}", file=sys.stderr)
        return 1
    for name, fn in (("latency-vs-throughput.png", plot_latency_vs_throughput),
                     ("latency-percentiles.png", plot_percentiles),
                     ("timeline.png", plot_timeline)):
        path = out_dir / f"{args.prefix}{name}"
        fn(plt, ticker, runs, path)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
