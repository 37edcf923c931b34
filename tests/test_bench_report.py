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


def _gpu_results(tmp_path, gpu=None):
    """A GPU run's JSON (``pytest bench/ -m gpu``): CuPy and torch CUDA cases only; ``gpu``: the recorded GPU."""
    shape = {"layer_dims": [2, 4, 1], "m": 400}
    info = {"cpu": "Host CPU 1", "cores": 16, "python": "3.12.3", "numpy": "2.5.2", "torch": "2.11.0",
            "cupy-cuda13x": "14.2.0", "dnn_xp": "0.1.0", "blas": "openblas", "gpu": gpu}
    data = {
        "datetime": "2026-01-01T00:00:00",
        "machine_info": {"dnn_xp": info},
        "benchmarks": [
            _bench("step-planar", "vectorized-cupy-float64", 4e-4, 5e-4, **shape),
            _bench("step-planar", "vectorized-cupy-float32", 3.5e-4, 5e-4, **shape),
            _bench("step-planar", "vectorized-torch-cuda-float64", 3e-4, 4e-4, **shape),
            _bench("step-planar", "vectorized-torch-cuda-float32", 2e-4, 4e-4, **shape),
            _bench("step-planar", "per-example-cupy-float64", 0.2, 0.2, **shape),
            _bench("step-planar", "per-example-torch-cuda-float64", 0.15, 0.2, **shape),
            _bench("step-planar", "torch-eager-cuda-float64", 5e-4, 9e-4, **shape),
            _bench("step-planar", "torch-eager-cuda-float32", 2.5e-4, 9e-4, **shape),
            _bench("targets", "cat-float64: cupy step / torch eager cuda step", 1, 1,
                   ratio=_ratio("cat float64: one CuPy iteration / one PyTorch eager CUDA iteration", 9e-4, 1e-3, 1)),
        ] + [
            _bench("scaling-m", impl, m * scale, m * scale * 1.1, curve="m", x=m, layer_dims=[784, 128, 64, 1], m=m)
            for impl, scale in (("vectorized-cupy", 1e-6), ("per-example-cupy", 1e-3)) for m in (16, 64)
        ],
    }
    path = tmp_path / "gpu-test.json"
    path.write_text(json.dumps(data))
    return path


def test_gpu_report_names_the_recorded_gpu_and_compares_on_the_gpu(tmp_path):
    path = _gpu_results(tmp_path, gpu={"name": "NVIDIA H200", "driver": "580.159.04", "cuda_runtime": "13.0",
                                       "seen_by": "cupy"})
    assert bench_report.main([str(path)]) == 0
    text = path.with_suffix(".md").read_text()
    lines = text.splitlines()
    assert lines[0] == "# dnn_xp benchmarks: NVIDIA H200 (driver 580.159.04, CUDA runtime 13.0); host Host CPU 1, 16 cores"
    assert lines[2].startswith("- Machine: GPU NVIDIA H200 (driver 580.159.04, CUDA runtime 13.0); host Host CPU 1 "
                               "(16 cores)")
    assert "cupy-cuda13x 14.2.0" in text
    assert "produced by `bench/run_gpu.sh` (`pytest bench/ -m gpu --benchmark-only" in text
    assert "run_cpu.sh" not in text and "GPU cases (CuPy, torch CUDA) did not run" not in text
    assert "## Vectorization speed-ups (GPU, float64)" in text and "NumPy, float64" not in text
    assert "| planar | [2, 4, 1], m=400 | cupy | 400 µs | 200 ms (500x) | 500 µs (1.25x) |" in text
    assert "| planar | [2, 4, 1], m=400 | torch-cuda | 300 µs | 150 ms (500x) | 500 µs (1.67x) |" in text
    assert "## Fastest dnn_xp backend per shape (this GPU)" in text and "this CPU" not in text
    assert "| shape | dtype | fastest dnn_xp backend | PyTorch eager (CUDA) |" in text
    assert "| planar | float64 | torch-cuda: 300 µs | 500 µs |" in text
    assert "| planar | float32 | torch-cuda: 200 µs | 250 µs |" in text
    assert "not run" not in text and "hand-written JAX" not in text
    assert "| 64 | 64 ms | 64 µs | 1,000x |" in text  # loop / vectorized on CuPy
    assert path.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gpu_report_takes_the_gpu_from_the_nvidia_smi_csv_of_an_older_json(tmp_path):
    path = _gpu_results(tmp_path)  # written before bench/conftest.py recorded the GPU
    path.with_name("gpu-test-nvidia-smi.csv").write_text("name, driver_version\nNVIDIA H200, 580.159.04\n")
    text = bench_report.render_markdown(json.loads(path.read_text()), path)
    assert text.startswith("# dnn_xp benchmarks: NVIDIA H200 (driver 580.159.04); host Host CPU 1, 16 cores\n")
    assert "- Machine: GPU NVIDIA H200 (driver 580.159.04); host Host CPU 1 (16 cores)" in text
    path.with_name("gpu-test-nvidia-smi.csv").unlink()
    assert bench_report.render_markdown(json.loads(path.read_text()), path).startswith(
        "# dnn_xp benchmarks: unknown GPU; host Host CPU 1, 16 cores\n")


def test_report_omits_sections_without_rows(tmp_path):
    data = json.loads(_gpu_results(tmp_path).read_text())
    data["benchmarks"] = [b for b in data["benchmarks"] if b["group"] != "step-planar"]
    text = bench_report.render_markdown(data, tmp_path / "gpu-test.json")
    assert "## Targets" in text and "## Scaling" in text
    assert "Vectorization speed-ups" not in text and "Fastest dnn_xp backend" not in text
    assert "Training step, every case" not in text and "\n\n## Scaling\n" in text
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("| --- |")]
    assert len(rules) == 2 and all(lines[i + 1].startswith("| ") for i in rules)  # a row under every table's header


def test_report_renders_the_dask_groups_and_ratios_of_every_group(tmp_path):
    scaling = {"dims": [784, 512, 1], "m": 200_000, "iterations": 3}
    chunked = {"dims": [784, 64, 1], "m": 20_000, "iterations": 3}
    data = {
        "datetime": "2026-01-01T00:00:00",
        "machine_info": {"dnn_xp": {"cpu": "Test CPU", "cores": 2}},
        "benchmarks": [
            _bench("dask-scaling", "dask-1-workers", 12.0, 12.3, **scaling),
            _bench("dask-scaling", "dask-2-workers", 6.0, 6.6, **scaling),
            _bench("dask-scaling", "numpy-1-thread", 8.7, 8.7, **scaling),
            *(_bench("dask-chunks", f"dask-{c}-chunks", 0.6 * c, 0.7 * c, chunks=c, **chunked) for c in (4, 1)),
            _bench("minibatch", "epoch", 1, 1, ratio=_ratio("epoch: library / hand-written", 1.2, 1.0, 1.3)),
            _bench("minibatch", "epoch-64", 1, 1, ratio={**_ratio("epoch 64: library / torch", 0.7, 1.0, 1.0),
                                                         "target": None}),
        ],
    }
    path = tmp_path / "cpu-dask.json"
    path.write_text(json.dumps(data))
    assert bench_report.main([str(path)]) == 0
    text = path.with_suffix(".md").read_text()
    assert "| dask-1-workers | 4 s / 4.1 s |" in text and "| numpy-1-thread | 2.9 s / 2.9 s |" in text
    assert "2 workers vs 1: **2.00x** faster (target >= 1.6x): met." in text
    assert "1 worker vs NumPy in one process: **1.38x** its time (target <= 1.3x): **not met**." in text
    assert "| chunks | 1 | 4 |" in text and "| per iteration | 200 ms | 800 ms |" in text
    assert "| epoch: library / hand-written |" in text and "| 1.200 | 1.200 | <= 1.3 | yes |" in text
    assert "| 0.700 | 0.700 | - | - |" in text
