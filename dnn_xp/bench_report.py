"""Turn the benchmark suite's pytest-benchmark JSON into a markdown report and a log-log scaling plot.

Usage::

    python -m dnn_xp.bench_report bench/results/cpu-amd-epyc.json [--out-dir DIR]

writes ``<name>.md`` and ``<name>.png`` next to the JSON (or in ``DIR``). The report
names the machine and library versions recorded by ``bench/conftest.py`` when the
suite ran, tables every group's times with speed-ups, and checks the core's
targets (side-by-side ratios recorded by ``bench/test_targets.py``).
``bench/run_cpu.sh`` runs the suite and this report in one go; ``bench/run_gpu.sh`` runs the
GPU cases (``pytest bench/ -m gpu``), whose report names the GPU and compares against PyTorch
eager CUDA.
"""

from __future__ import annotations

import argparse
import csv
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
GPU_BACKENDS = ("cupy", "torch-cuda")  # the dnn_xp backends of a GPU run, as named in its case labels
DEMO_BASELINE = "xp-vecdot-numpy"
DASK_SCALING_TARGET, DASK_OVERHEAD_TARGET = 1.6, 1.3  # 2 workers vs 1 at least; 1 worker vs NumPy at most
_LIBRARIES = ("numpy", "torch", "array-api-compat", "cupy-cuda12x", "cupy-cuda13x", "jax", "jaxlib", "dask",
              "pytest-benchmark")
_CUPY = ("cupy-cuda12x", "cupy-cuda13x")


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


def _on_gpu(bench: dict) -> bool:
    return re.search(r"cupy|cuda", _label(bench)) is not None


def gpu_run(data: dict) -> bool:
    """Whether every case ran on a GPU (``pytest bench/ -m gpu``, as ``bench/run_gpu.sh`` runs it)."""
    return bool(data["benchmarks"]) and all(_on_gpu(b) for b in data["benchmarks"])


def _machine(data: dict, source: Path | None) -> dict:
    """The machine as ``bench/conftest.py`` recorded it; a JSON written before it recorded the GPU
    takes the GPU from the ``<stem>-nvidia-smi.csv`` beside it (``bench/run_gpu.sh``)."""
    machine = data.get("machine_info", {})
    info = dict(machine.get("dnn_xp") or {"cpu": machine.get("cpu", {}).get("brand_raw", "unknown CPU"),
                                          "cores": machine.get("cpu", {}).get("count"),
                                          "python": machine.get("python_version")})
    csv_path = source and source.with_name(f"{source.stem}-nvidia-smi.csv")
    if not info.get("gpu") and csv_path and csv_path.is_file():
        with csv_path.open(newline="") as f:
            row = next(csv.DictReader(f, skipinitialspace=True), None)
        if row:
            info["gpu"] = {"name": row["name"].strip(), "driver": row.get("driver_version", "").strip() or None}
    return info


def _gpu_name(gpu: dict | None) -> str:
    """``NVIDIA H200 (driver 580.159.04, CUDA runtime 13.0)``, with what is known."""
    if not gpu:
        return "unknown GPU"
    details = [f"{what} {gpu[key]}" for what, key in (("driver", "driver"), ("CUDA runtime", "cuda_runtime"))
               if gpu.get(key)]
    return gpu["name"] + (f" ({', '.join(details)})" if details else "")


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
def _header(data: dict, source: Path, png: Path | None, gpu: bool) -> list[str]:
    machine = data.get("machine_info", {})
    info = _machine(data, source)
    versions = ", ".join(f"{name} {info[name]}" for name in ("numpy", "torch", "array-api-compat", *_CUPY, "jax", "dask")
                         if name in info)
    host = f"{info['cpu']} ({info.get('cores')} cores), {info.get('os', machine.get('system', ''))}"
    if gpu:
        title = f"{_gpu_name(info.get('gpu'))}; host {info['cpu']}, {info.get('cores')} cores"
        where = f"GPU {_gpu_name(info.get('gpu'))}; host {host}"
        run = "`bench/run_gpu.sh` (`pytest bench/ -m gpu --benchmark-only --benchmark-json ...`"
    else:
        title = f"{info['cpu']}, {info.get('cores')} cores"
        where = host + (f"; GPU {_gpu_name(info['gpu'])}" if info.get("gpu") else "")
        run = "`bench/run_cpu.sh` (`pytest bench/ --benchmark-only --benchmark-json ...`"
    lines = [
        f"# dnn_xp benchmarks: {title}",
        "",
        f"- Machine: {where}",
        f"- Software: Python {info.get('python')}, dnn_xp {info.get('dnn_xp', '?')}, {versions}; "
        f"BLAS {info.get('blas', 'unknown')}",
        f"- Run: {data.get('datetime', '?')}" + (" (smoke sizes: not a measurement)" if info.get("smoke") else "")
        + (f"; load average (1, 5, 15 min) {tuple(info['load_at_start'])} at the start, "
           f"{tuple(info['load_at_end'])} at the end" if info.get("load_at_start") else ""),
        f"- Source: `{source.name}`, produced by {run}, then `python -m dnn_xp.bench_report ...`)",
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
    if not any(_on_gpu(b) for b in data["benchmarks"]):
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
        if r["target"] is None:  # a ratio reported for scale, with no target
            required = met = "-"
        else:
            required, met = f"<= {r['target']:g}", "yes" if r["ratio_min"] <= r["target"] else "**NO**"
            if (r["ratio_median"] <= r["target"]) != (r["ratio_min"] <= r["target"]):
                met += " (median disagrees)"
        lines.append(f"| {r['what']}{_flag(bench)} | {sides[0]} | {sides[1]} | {r['ratio_min']:.3f} "
                     f"| {r['ratio_median']:.3f} | {required} | {met} |")
    return lines


def _dask(groups: dict[str, list[dict]]) -> list[str]:
    """The dask.distributed section: strong scaling and overhead against their targets, and the chunk-count curve.

    Each case is one ``fit`` of ``iterations`` full-batch iterations, so times are
    divided by that count. No † here: the other processes are the cluster's own workers.
    """
    scaling = {b["extra_info"]["case"]: b for b in groups.get("dask-scaling", [])}
    by_chunks = sorted(groups.get("dask-chunks", []), key=lambda b: b["extra_info"]["chunks"])
    if not scaling and not by_chunks:
        return []

    def per_iteration(bench, stat=STAT):
        return bench["stats"][stat] / bench["extra_info"]["iterations"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    lines = ["## dask.distributed", ""]
    if scaling:
        info = next(iter(scaling.values()))["extra_info"]
        lines += [f"Strong scaling: {info['dims']}, m = {info['m']:,}, full batch, single-threaded BLAS everywhere; "
                  f"one iteration ({STAT} / median over rounds).", "", "| case | per iteration |", "| --- | --- |"]
        lines += [f"| {case} | {_seconds(per_iteration(b))} / {_seconds(per_iteration(b, 'median'))} |"
                  for case, b in scaling.items()]
        one, two, numpy = (scaling.get(case) for case in ("dask-1-workers", "dask-2-workers", "numpy-1-thread"))
        lines.append("")
        if one and two:
            speedup = per_iteration(one) / per_iteration(two)
            lines.append(f"- 2 workers vs 1: **{speedup:.2f}x** faster (target >= {DASK_SCALING_TARGET:g}x): "
                         f"{verdict(speedup >= DASK_SCALING_TARGET)}.")
        if one and numpy:
            overhead = per_iteration(one) / per_iteration(numpy)
            lines.append(f"- 1 worker vs NumPy in one process: **{overhead:.2f}x** its time (target <= "
                         f"{DASK_OVERHEAD_TARGET:g}x): {verdict(overhead <= DASK_OVERHEAD_TARGET)}.")
    if by_chunks:
        info = by_chunks[0]["extra_info"]
        lines += ["", f"Time per iteration against the chunk count: {info['dims']}, m = {info['m']:,}, the embedded "
                  f"cluster ({STAT} over rounds).", "",
                  "| chunks | " + " | ".join(str(b["extra_info"]["chunks"]) for b in by_chunks) + " |",
                  "| --- |" + " --- |" * len(by_chunks),
                  "| per iteration | " + " | ".join(_seconds(per_iteration(b)) for b in by_chunks) + " |"]
    return lines


def _by_label(benches: list[dict]) -> dict[str, dict]:
    return {_label(b): b for b in benches}


def _speedups(groups: dict[str, list[dict]], gpu: bool) -> list[str]:
    """The vectorized step against the loops and PyTorch eager, float64: on NumPy, or per GPU backend.

    Empty when no shape has the vectorized case.
    """
    if gpu:
        title, backends = "GPU", GPU_BACKENDS
        columns = {"per-example loop": "per-example-{}-float64", "PyTorch eager (CUDA)": "torch-eager-cuda-float64"}
    else:
        title, backends = "NumPy", ("numpy",)
        columns = {"per-example loop": "per-example-{}-float64", "scalar loops": "scalar-python-float64",
                   "PyTorch eager (CPU)": "torch-eager-cpu-float64"}
    named = len(backends) > 1  # a backend column
    rows = []
    for group, benches in groups.items():
        if not group.startswith("step-"):
            continue
        cases = _by_label(benches)
        for backend in backends:
            base = cases.get(f"vectorized-{backend}-float64")
            if base is None:
                continue
            cells = []
            for pattern in columns.values():
                case = cases.get(pattern.format(backend))
                if case:
                    t = case["stats"][STAT]
                    cells.append(f"{_seconds(t)}{_flag(case)} ({_times(t / base['stats'][STAT])})")
                else:
                    cells.append("not run")
            info = base["extra_info"]
            rows.append(f"| {group.removeprefix('step-')} | {info['layer_dims']}, m={info['m']} "
                        + (f"| {backend} " if named else "")
                        + f"| {_seconds(base['stats'][STAT])}{_flag(base)} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    head = ["shape", "layer_dims, m"] + (["backend"] if named else []) + ["vectorized", *columns]
    return [
        f"## Vectorization speed-ups ({title}, float64)",
        "",
        f"Time of one training iteration ({STAT} over rounds); in brackets, how many times slower than the "
        f"vectorized core" + (" on the same backend." if named else "."),
        "",
        "| " + " | ".join(head) + " |",
        "|" + " --- |" * len(head),
    ] + rows


def _fastest(groups: dict[str, list[dict]], gpu: bool) -> list[str]:
    """Per shape and dtype: the fastest dnn_xp backend next to PyTorch eager and a hand-written JAX loop
    (on a GPU run: next to PyTorch eager CUDA only).

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
            torch = cases.get(f"torch-eager-{'cuda' if gpu else 'cpu'}-{dtype}")
            cells = [f"{name}: {_seconds(best)}{_flag(bench)}",
                     f"{_seconds(torch['stats'][STAT])}{_flag(torch)}" if torch else "not run"]
            if not gpu:
                cells.append(f"{_seconds(jax[(shape, dtype)][1])}{_flag(jax[(shape, dtype)][2])}"
                             if (shape, dtype) in jax else "not run")
            rows.append(f"| {shape} | {dtype} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    if gpu:
        return ["## Fastest dnn_xp backend per shape (this GPU)", "", f"One training iteration ({STAT}).", "",
                "| shape | dtype | fastest dnn_xp backend | PyTorch eager (CUDA) |",
                "| --- | --- | --- | --- |"] + rows
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
    paired = [c.removeprefix("vectorized-") for c in curves
              if c.startswith("vectorized-") and "per-example-" + c.removeprefix("vectorized-") in curves]
    backend = "numpy" if "numpy" in paired or not paired else paired[0]  # the backend of "loop / vectorized"
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
            loop, vec = table.get((f"per-example-{backend}", x)), table.get((f"vectorized-{backend}", x))
            row += f" {_times(loop['stats'][STAT] / vec['stats'][STAT])} |" if loop and vec else " - |"
        lines.append(row)
    return lines


def render_markdown(data: dict, source: Path, png: Path | None = None) -> str:
    """The whole report as markdown text."""
    groups, gpu = _groups(data), gpu_run(data)
    lines = _header(data, source, png, gpu)
    ratios = [bench for benches in groups.values() for bench in benches if "ratio" in bench.get("extra_info", {})]
    if ratios:
        lines += [""] + _targets(ratios)
    for section in (_speedups(groups, gpu), _fastest(groups, gpu), _dask(groups)):
        if section:
            lines += [""] + section
    steps = sorted(g for g in groups if g.startswith("step-"))
    lines += [""] + (["## Training step, every case", ""] if steps else [])
    for group in steps:
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
def plot_scaling(data: dict, path: Path, source: Path | None = None) -> bool:
    """Save the scaling curves (log-log, time per iteration) to ``path``; False if there are none.

    ``source`` is the JSON's path: a GPU run's GPU may be named in a CSV beside it.
    """
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
    info = _machine(data, source)
    if gpu_run(data):
        cupy = next((info[name] for name in _CUPY if name in info), "?")
        where = f"{(info.get('gpu') or {}).get('name', 'unknown GPU')}, CuPy {cupy}"
    else:
        where = f"{info.get('cpu', '?')}, {info.get('cores', '?')} cores, NumPy {info.get('numpy', '?')}"
    figure.suptitle(f"dnn_xp: vectorized vs per-example loop — {where}", fontsize=11)
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
    has_plot = plot_scaling(data, png, args.json)
    markdown.write_text(render_markdown(data, args.json, png if has_plot else None))
    print(markdown)
    if has_plot:
        print(png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
