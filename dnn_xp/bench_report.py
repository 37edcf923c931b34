"""Turn the benchmark suite's pytest-benchmark JSON into a markdown report and a log-log scaling plot.

Usage::

    python -m dnn_xp.bench_report bench/results/cpu-amd-epyc.json [--out-dir DIR]

writes ``<name>.md`` and ``<name>.png`` next to the JSON (or in ``DIR``). The report
names the machine and library versions recorded by ``bench/conftest.py`` when the
suite ran, tables every group's times with speed-ups, and checks the core's
targets (side-by-side ratios recorded by ``bench/test_targets.py``).
``bench/run_cpu.sh`` runs the suite and this report in one go.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
from importlib import metadata
from pathlib import Path

from . import __version__

STAT = "min"  # the statistic speed-ups and curves use; on a shared machine noise only adds time
BUSY = 0.1  # cores other processes used during a case, above which its timing is marked unreliable
STEP_BASELINE = "vectorized-numpy-float64"
DEMO_BASELINE = "xp-vecdot-numpy"
_LIBRARIES = ("numpy", "torch", "array-api-compat", "cupy-cuda12x", "cupy-cuda13x", "jax", "jaxlib", "dask",
              "pytest-benchmark")


# --------------------------------------------------------------------------- the machine
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _blas() -> str:
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:  # numpy < 1.25 has no mode="dicts"; the BLAS is then just not named
        return "unknown"


def machine_info() -> dict:
    """The CPU model (from /proc/cpuinfo), core count, OS, Python, BLAS and library versions."""
    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "dnn_xp": __version__,
        "blas": _blas(),
    }
    for name in _LIBRARIES:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return info


def machine_slug(info: dict | None = None) -> str:
    """A file-name form of the CPU model, e.g. ``cpu-amd-epyc``."""
    cpu = (info or machine_info())["cpu"].split("@")[0]
    cpu = re.sub(r"\((R|TM|tm|r)\)|\bCPU\b|\bProcessor\b", " ", cpu)
    return "cpu-" + (re.sub(r"[^a-z0-9]+", "-", cpu.lower()).strip("-") or "unknown")


# --------------------------------------------------------------------------- reading
def _label(bench: dict) -> str:
    return bench.get("extra_info", {}).get("case") or bench.get("param") or bench["name"]


def _others(bench: dict) -> float | None:
    """Cores other processes kept busy while a timed case ran (recorded by ``bench/conftest.py``).

    None for memory measurements, which other processes do not skew.
    """
    ratio = bench.get("extra_info", {}).get("ratio")
    if ratio is not None and not isinstance(ratio[ratio["numerator"]], dict):
        return None
    return bench.get("extra_info", {}).get("others_cpu")


def _flag(bench: dict) -> str:
    others = _others(bench)
    return " †" if others is not None and others > BUSY else ""


def _groups(data: dict) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for bench in data["benchmarks"]:
        groups.setdefault(bench.get("group") or "ungrouped", []).append(bench)
    return groups


def _seconds(value: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def _times(value: float) -> str:
    return f"{value:.3g}x" if value < 100 else f"{value:,.0f}x"


# --------------------------------------------------------------------------- markdown
def _header(data: dict, source: Path, png: Path | None) -> list[str]:
    machine = data.get("machine_info", {})
    info = machine.get("dnn_xp") or {"cpu": machine.get("cpu", {}).get("brand_raw", "unknown CPU"),
                                     "cores": machine.get("cpu", {}).get("count"),
                                     "python": machine.get("python_version")}
    versions = ", ".join(f"{name} {info[name]}" for name in ("numpy", "torch", "array-api-compat", "cupy", "jax", "dask")
                         if name in info)
    lines = [
        f"# dnn_xp benchmarks: {info['cpu']}, {info.get('cores')} cores",
        "",
        f"- Machine: {info['cpu']} ({info.get('cores')} cores), {info.get('os', machine.get('system', ''))}",
        f"- Software: Python {info.get('python')}, dnn_xp {info.get('dnn_xp', '?')}, {versions}; "
        f"BLAS {info.get('blas', 'unknown')}",
        f"- Run: {data.get('datetime', '?')}" + (" (smoke sizes: not a measurement)" if info.get("smoke") else "")
        + (f"; load average (1, 5, 15 min) {tuple(info['load_at_start'])} at the start, "
           f"{tuple(info['load_at_end'])} at the end" if info.get("load_at_start") else ""),
        f"- Source: `{source.name}`, produced by `bench/run_cpu.sh` "
        f"(`pytest bench/ --benchmark-only --benchmark-json ...`, then `python -m dnn_xp.bench_report ...`)",
        f"- Times are per call (one training iteration, unless stated): min and median over the rounds; "
        f"speed-ups and curves use the {STAT} (the same statistic on both sides).",
    ]
    others = [(_others(b), b["name"]) for b in data["benchmarks"] if _others(b) is not None]
    if others:
        busy = [o for o in others if o[0] > BUSY]
        lines.append(f"- Other processes on the machine kept {sum(o for o, _ in others) / len(others):.2f} cores busy "
                     f"on average while the timed cases ran (at most {max(others)[0]:.2f}, in {max(others)[1]}); "
                     + (f"{len(busy)} cases ran while they used more than {BUSY} core and are marked †."
                        if busy else f"no case ran while they used more than {BUSY} core."))
    if not any(re.search(r"cupy|cuda", _label(b)) for b in data["benchmarks"]):
        lines.append("- GPU cases (CuPy, torch CUDA) did not run: no usable GPU on this machine.")
    if png is not None:
        lines += ["", f"![scaling curves]({png.name})"]
    return lines


def _targets(benches: list[dict]) -> list[str]:
    lines = [
        "## Targets",
        "",
        "Each ratio is measured side by side in one process (alternating blocks of calls); verdict on the min of "
        "each side, median shown too.",
        "",
        "| target | numerator: min / median | denominator: min / median | ratio (min) | ratio (median) "
        "| required | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for bench in benches:
        r = bench.get("extra_info", {}).get("ratio")
        if r is None:
            continue
        sides = []
        for name in (r["numerator"], r["denominator"]):
            side = r[name]
            if isinstance(side, dict):
                sides.append(f"{name}: {_seconds(side['min'])} / {_seconds(side['median'])}")
            else:
                sides.append(f"{name}: {side / 2**20:.2f} MiB")
        met = "yes" if r["ratio_min"] <= r["target"] else "**NO**"
        if (r["ratio_median"] <= r["target"]) != (r["ratio_min"] <= r["target"]):
            met += " (median disagrees)"
        lines.append(f"| {r['what']}{_flag(bench)} | {sides[0]} | {sides[1]} | {r['ratio_min']:.3f} "
                     f"| {r['ratio_median']:.3f} | <= {r['target']:g} | {met} |")
    return lines


def _by_label(benches: list[dict]) -> dict[str, dict]:
    return {_label(b): b for b in benches}


def _speedups(groups: dict[str, list[dict]]) -> list[str]:
    columns = ["per-example-numpy-float64", "scalar-python-float64", "torch-eager-cpu-float64"]
    lines = [
        "## Vectorization speed-ups (NumPy, float64)",
        "",
        f"Time of one training iteration ({STAT} over rounds); in brackets, how many times slower than the "
        f"vectorized core.",
        "",
        "| shape | layer_dims, m | vectorized | per-example loop | scalar loops | PyTorch eager (CPU) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for group, benches in groups.items():
        if not group.startswith("step-"):
            continue
        cases = _by_label(benches)
        if STEP_BASELINE not in cases:
            continue
        base = cases[STEP_BASELINE]
        cells = []
        for name in columns:
            if name in cases:
                t = cases[name]["stats"][STAT]
                cells.append(f"{_seconds(t)}{_flag(cases[name])} ({_times(t / base['stats'][STAT])})")
            else:
                cells.append("not run")
        info = base["extra_info"]
        lines.append(f"| {group.removeprefix('step-')} | {info['layer_dims']}, m={info['m']} "
                     f"| {_seconds(base['stats'][STAT])}{_flag(base)} | " + " | ".join(cells) + " |")
    return lines


def _fastest(groups: dict[str, list[dict]]) -> list[str]:
    """Per shape and dtype: the fastest dnn_xp backend next to PyTorch eager and a hand-written JAX loop.

    dnn_xp's candidates are the vectorized step on each backend (group ``step-<shape>``) and
    ``Network.fit`` on JAX (per iteration, from ``bench/test_targets_jax.py``); the JAX loop is
    that target's other side.
    """
    jax = {}
    for bench in groups.get("targets", []):
        fit, ratio = bench.get("extra_info", {}).get("jax_fit"), bench.get("extra_info", {}).get("ratio")
        if fit and ratio:
            n = fit["iterations_per_call"]
            jax[(fit["shape"], fit["dtype"])] = (ratio[ratio["numerator"]]["min"] / n,
                                                 ratio[ratio["denominator"]]["min"] / n, bench)
    rows = []
    for group in sorted(g for g in groups if g.startswith("step-")):
        shape, cases = group.removeprefix("step-"), _by_label(groups[group])
        for dtype in ("float64", "float32"):
            candidates = {label.removeprefix("vectorized-").removesuffix(f"-{dtype}"): (b["stats"][STAT], b)
                          for label, b in cases.items() if label.startswith("vectorized-") and label.endswith(dtype)}
            if (shape, dtype) in jax:
                candidates["jax (Network.fit)"] = jax[(shape, dtype)][0], jax[(shape, dtype)][2]
            if not candidates:
                continue
            name, (best, bench) = min(candidates.items(), key=lambda item: item[1][0])
            torch = cases.get(f"torch-eager-cpu-{dtype}")
            cells = [f"{name}: {_seconds(best)}{_flag(bench)}",
                     f"{_seconds(torch['stats'][STAT])}{_flag(torch)}" if torch else "not run",
                     f"{_seconds(jax[(shape, dtype)][1])}{_flag(jax[(shape, dtype)][2])}" if (shape, dtype) in jax
                     else "not run"]
            rows.append(f"| {shape} | {dtype} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    return ["## Fastest dnn_xp backend per shape (this CPU)", "",
            f"One training iteration ({STAT}); JAX times are a fit's time per iteration (steps compiled in chunks "
            f"between recorded costs).", "",
            "| shape | dtype | fastest dnn_xp backend | PyTorch eager (CPU) | hand-written JAX (jit + fori_loop) |",
            "| --- | --- | --- | --- | --- |"] + rows


def _group_table(group: str, benches: list[dict], baseline: str | None) -> list[str]:
    first = benches[0].get("extra_info", {})
    where = f": {first['layer_dims']}, m={first['m']}" if group.startswith("step-") and "layer_dims" in first else ""
    base = _by_label(benches).get(baseline) if baseline else None
    head = f" time / {baseline} |" if base else ""
    lines = [f"### {group}{where}", "", f"| case | min | median | rounds |{head}",
             "| --- | --- | --- | --- |" + (" --- |" if base else "")]
    for bench in sorted(benches, key=lambda b: b["stats"][STAT]):
        s = bench["stats"]
        row = f"| {_label(bench)}{_flag(bench)} | {_seconds(s['min'])} | {_seconds(s['median'])} | {s['rounds']} |"
        if base:
            row += f" {_times(s[STAT] / base['stats'][STAT])} |"
        lines.append(row)
    return lines


def _scaling_table(group: str, benches: list[dict]) -> list[str]:
    curves = sorted({b["extra_info"]["case"] for b in benches})
    xs = sorted({b["extra_info"]["x"] for b in benches})
    table = {(b["extra_info"]["case"], b["extra_info"]["x"]): b for b in benches}
    name = group.removeprefix("scaling-")
    first = benches[0]["extra_info"]
    network = (f"network {first['layer_dims']}" if name == "m"
               else f"network [{first['layer_dims'][0]}, w, w, 1], m={first['m']}")
    lines = [f"### {group} ({network}); time per iteration ({STAT} over rounds)", "",
             f"| {name} | " + " | ".join(curves) + " |" + (" loop / vectorized |" if len(curves) > 1 else ""),
             "| --- |" + " --- |" * (len(curves) + (len(curves) > 1))]
    for x in xs:
        cells = [_seconds(table[(c, x)]["stats"][STAT]) + _flag(table[(c, x)]) if (c, x) in table else "-"
                 for c in curves]
        row = f"| {x} | " + " | ".join(cells) + " |"
        if len(curves) > 1:
            loop, vec = table.get(("per-example-numpy", x)), table.get(("vectorized-numpy", x))
            row += f" {_times(loop['stats'][STAT] / vec['stats'][STAT])} |" if loop and vec else " - |"
        lines.append(row)
    return lines


def render_markdown(data: dict, source: Path, png: Path | None = None) -> str:
    """The whole report as markdown text."""
    groups = _groups(data)
    lines = _header(data, source, png)
    if "targets" in groups:
        lines += [""] + _targets(groups["targets"])
    lines += [""] + _speedups(groups)
    fastest = _fastest(groups)
    if fastest:
        lines += [""] + fastest
    lines += ["", "## Training step, every case", ""]
    for group in sorted(g for g in groups if g.startswith("step-")):
        lines += _group_table(group, groups[group], STEP_BASELINE) + [""]
    scaling = sorted(g for g in groups if g.startswith("scaling-"))
    if scaling:
        lines += ["## Scaling", ""]
        for group in scaling:
            lines += _scaling_table(group, groups[group]) + [""]
    if "vectorization-demo" in groups:
        n = groups["vectorization-demo"][0]["extra_info"].get("n")
        lines += ["## The course's vectorization demo", "",
                  f"Dot product of two vectors of {n:,} elements: one namespace call against a Python loop.", ""]
        lines += _group_table("vectorization-demo", groups["vectorization-demo"], DEMO_BASELINE) + [""]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- plot
def plot_scaling(data: dict, path: Path) -> bool:
    """Save the scaling curves (log-log, time per iteration) to ``path``; False if there are none."""
    groups = {g: b for g, b in _groups(data).items() if g.startswith("scaling-")}
    if not groups:
        return False
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise SystemExit("the plot needs matplotlib: pip install 'dnn_xp[plot]'") from None
    figure = Figure(figsize=(5.2 * len(groups), 4.4), layout="constrained")
    canvas = FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(groups), squeeze=False)[0]
    for ax, (group, benches) in zip(axes, sorted(groups.items())):
        first = benches[0]["extra_info"]
        for case in sorted({b["extra_info"]["case"] for b in benches}):
            points = sorted((b["extra_info"]["x"], b["stats"][STAT]) for b in benches
                            if b["extra_info"]["case"] == case)
            ax.plot(*zip(*points), marker="o", linestyle="--" if case.startswith("per-example") else "-",
                    label=case)
        if group == "scaling-m":
            ax.set_xlabel("examples m")
            ax.set_title(f"network {first['layer_dims']}", fontsize=10)
        else:
            ax.set_xlabel("hidden width w")
            ax.set_title(f"network [{first['layer_dims'][0]}, w, w, 1], m={first['m']}", fontsize=10)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        xs = sorted({b["extra_info"]["x"] for b in benches})
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.set_xticks([], minor=True)
        ax.set_ylabel(f"seconds per training iteration ({STAT})")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    info = data.get("machine_info", {}).get("dnn_xp", {})
    figure.suptitle(f"dnn_xp: vectorized vs per-example loop — {info.get('cpu', '?')}, {info.get('cores', '?')} "
                    f"cores, NumPy {info.get('numpy', '?')}", fontsize=11)
    canvas.print_png(str(path))
    return True


# --------------------------------------------------------------------------- command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dnn_xp.bench_report", description=__doc__.split("\n")[0])
    parser.add_argument("json", type=Path, help="pytest-benchmark JSON written by --benchmark-json")
    parser.add_argument("--out-dir", type=Path, default=None, help="where to write <name>.md and <name>.png "
                                                                   "(default: the JSON's folder)")
    args = parser.parse_args(argv)
    data = json.loads(args.json.read_text())
    out = args.out_dir or args.json.parent
    out.mkdir(parents=True, exist_ok=True)
    png = out / f"{args.json.stem}.png"
    markdown = out / f"{args.json.stem}.md"
    has_plot = plot_scaling(data, png)
    markdown.write_text(render_markdown(data, args.json, png if has_plot else None))
    print(markdown)
    if has_plot:
        print(png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
