"""Benchmark options and fixtures: ``--smoke`` sizes, scaling points, and the machine named in the JSON.

The full suite: ``pytest bench/ --benchmark-only --benchmark-json FILE`` (see ``bench/run_cpu.sh``).
CI's pass: ``pytest bench/ --benchmark-disable --smoke`` (or ``DNN_XP_BENCH_SMOKE=1``) runs every
case once on tiny sizes, so the benchmarks and their correctness checks never rot.
"""

from __future__ import annotations

import os
import resource
import time

import pytest

import workloads
from dnn_xp import bench_report
from dnn_xp.backend import gpu_info

SMOKE_ENV = "DNN_XP_BENCH_SMOKE"
_LOAD_AT_START = pytest.StashKey[tuple]()


def pytest_addoption(parser):
    parser.addoption("--smoke", action="store_true", default=False,
                     help=f"shrink every benchmark size so the suite runs in seconds (CI); also ${SMOKE_ENV}=1")


def pytest_configure(config):
    config.stash[_LOAD_AT_START] = _load()


def _load() -> tuple:
    """The 1, 5 and 15 minute load averages: other work on the machine skews the timings."""
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return ()


def is_smoke(config) -> bool:
    return config.getoption("--smoke") or os.environ.get(SMOKE_ENV, "") not in ("", "0")


def pytest_generate_tests(metafunc):
    smoke = is_smoke(metafunc.config)
    if "m" in metafunc.fixturenames:
        points = workloads.SMOKE_SCALING_M if smoke else workloads.SCALING_M
        metafunc.parametrize("m", points, ids=[f"m={m}" for m in points])
    if "width" in metafunc.fixturenames:
        points = workloads.SMOKE_SCALING_WIDTHS if smoke else workloads.SCALING_WIDTHS
        metafunc.parametrize("width", points, ids=[f"width={w}" for w in points])


def _cpu_snapshot():
    """(wall seconds, CPU seconds busy on the whole machine, CPU seconds of this process), or None."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    except OSError:
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    return time.perf_counter(), busy, usage.ru_utime + usage.ru_stime


@pytest.fixture(autouse=True)
def _others_cpu(request):
    """Record in each benchmark's ``extra_info["others_cpu"]`` how many cores other processes kept busy.

    Timings taken while other work ran on the machine are not measurements of
    dnn_xp; the report flags them.
    """
    before = _cpu_snapshot()
    yield
    bench = request.node.funcargs.get("benchmark")
    after = _cpu_snapshot()
    if bench is not None and before is not None and after is not None and after[0] > before[0]:
        others = (after[1] - before[1]) - (after[2] - before[2])
        bench.extra_info["others_cpu"] = round(max(others, 0.0) / (after[0] - before[0]), 3)


@pytest.fixture(scope="session")
def smoke(pytestconfig) -> bool:
    return is_smoke(pytestconfig)


@pytest.fixture(scope="session")
def shapes(smoke) -> dict[str, workloads.Shape]:
    return workloads.SMOKE_SHAPES if smoke else workloads.SHAPES


def pytest_benchmark_update_machine_info(config, machine_info):
    """Name the CPU, cores, GPU (if one is usable) and library versions in the JSON (read by
    ``python -m dnn_xp.bench_report``)."""
    machine_info["dnn_xp"] = {
        **bench_report.machine_info(),
        "gpu": gpu_info(),
        "smoke": is_smoke(config),
        "load_at_start": config.stash.get(_LOAD_AT_START, ()),
        "load_at_end": _load(),
        "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                       if k in os.environ},
    }
