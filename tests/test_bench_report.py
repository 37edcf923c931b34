"""The benchmark report: machine naming, tables, target verdicts and the scaling plot, from a small JSON."""

from __future__ import annotations

import json

import pytest

from dnn_xp import bench_report


def _bench(group, case, minimum, median, **extra):
    return {"group": group, "name": f"test[{case}]", "param": case, "extra_info": {"case": case, **extra},
            "stats": {"min": minimum, "median": median, "rounds": 5}}


def _ratio(what, top, bottom, target):
    return {"what": what, "numerator": "step", "denominator": "base", "step": {"min": top, "median": top},
            "base": {"min": bottom, "median": bottom}, "ratio_min": top / bottom, "ratio_median": top / bottom,
            "target": target}


@pytest.fixture
def results(tmp_path):
    shape = {"layer_dims": [2, 4, 1], "m": 400}
    data = {
        "datetime": "2026-01-01T00:00:00",
        "machine_info": {"dnn_xp": {"cpu": "Test CPU 9000", "cores": 2, "python": "3.11.7", "numpy": "2.4.6",
                                    "torch": "2.13.0", "dnn_xp": "0.1.0", "blas": "openblas",
                                    "load_at_start": [0.1, 0.2, 0.3], "load_at_end": [0.5, 0.4, 0.3]}},
        "benchmarks": [
            _bench("step-planar", "vectorized-numpy-float64", 1e-4, 2e-4, **shape),
            _bench("step-planar", "per-example-numpy-float64", 5e-3, 6e-3, **shape),
            _bench("step-planar", "scalar-python-float64", 2e-3, 3e-3, **shape),
            _bench("targets", "planar: step / hand-written", 1, 1,
                   ratio=_ratio("planar float64: step / hand-written", 1.1e-4, 1e-4, 1.2)),
            _bench("targets", "cat: step / matmuls", 1, 1, ratio=_ratio("cat float64: step / matmuls", 1.3, 1.0, 1.1)),
            _bench("step-planar", "vectorized-torch-cpu-float64", 3e-4, 4e-4, **shape),
            _bench("step-planar", "torch-eager-cpu-float64", 3.5e-4, 4e-4, **shape),
            _bench("targets", "planar-float64: fit jax / hand-written jax", 1, 1,
                   ratio=_ratio("planar float64: fit / hand-written", 8e-3, 6e-3, 1.1),
                   jax_fit={"shape": "planar", "dtype": "float64", "iterations_per_call": 1000}),
        ] + [
            _bench("scaling-m", impl, m * scale, m * scale * 1.1, curve="m", x=m, layer_dims=[784, 128, 64, 1], m=m)
            for impl, scale in (("vectorized-numpy", 1e-6), ("per-example-numpy", 1e-4)) for m in (16, 64, 256)
        ],
    }
    path = tmp_path / "cpu-test.json"
    path.write_text(json.dumps(data))
    return path


def test_report_tables_speedups_and_verdicts(results):
    assert bench_report.main([str(results)]) == 0
    text = results.with_suffix(".md").read_text()
    assert text.startswith("# dnn_xp benchmarks: Test CPU 9000, 2 cores")
    assert "numpy 2.4.6, torch 2.13.0" in text and "(0.1, 0.2, 0.3) at the start" in text
    assert "| planar | [2, 4, 1], m=400 | 100 µs | 5 ms (50x) | 2 ms (20x) | 350 µs (3.5x) |" in text
    assert "| planar float64: step / hand-written |" in text and "| 1.100 | 1.100 | <= 1.2 | yes |" in text
    assert "| 1.300 | 1.300 | <= 1.1 | **NO** |" in text
    assert "| 256 | 25.6 ms | 256 µs | 100x |" in text
    assert "| planar | float64 | jax (Network.fit): 8 µs | 350 µs | 6 µs |" in text
    assert "GPU cases (CuPy, torch CUDA) did not run" in text
    png = results.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"![scaling curves]({png.name})" in text


def test_machine_is_named_for_files():
    assert bench_report.machine_slug({"cpu": "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"}) == \
        "cpu-intel-xeon-platinum-8375c"
    assert bench_report.machine_slug({"cpu": "AMD EPYC"}) == "cpu-amd-epyc"
    info = bench_report.machine_info()
    assert info["cores"] >= 1 and info["numpy"] and info["dnn_xp"]
