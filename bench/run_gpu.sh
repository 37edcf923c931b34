#!/usr/bin/env bash
# GPU run in one command, on a machine with an NVIDIA GPU and driver:
#   bash bench/run_gpu.sh
# Installs the project with ".[cuda12,test]" into .venv-gpu (or into the current
# Python when DNN_XP_NO_VENV=1), checks that CuPy really computes on the GPU, runs
# the GPU tests, then the GPU benchmarks (the CPU ones: bench/run_cpu.sh), and writes
# to bench/results/:
#   gpu-<device>-nvidia-smi.csv   GPU name and driver version
#   gpu-<device>.json             pytest-benchmark results
#   plus the markdown table and plot that dnn_xp.bench_report writes from that JSON.
# Environment: PYTHON (default python3) builds the venv; DNN_XP_NO_VENV=1 skips it;
# DNN_XP_CUDA_EXTRA picks the CuPy extra (default cuda12; cuda13 for a CUDA 13 driver);
# DNN_XP_NO_INSTALL=1 installs nothing and runs this checkout with the current Python's
# packages (a machine with no package index: CuPy, pytest, pytest-benchmark, torch and
# array-api-compat must be there already).
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
    echo "run_gpu.sh: error: $*" >&2
    exit 1
}

command -v nvidia-smi >/dev/null \
    || die "nvidia-smi not found: no NVIDIA driver here. Run this on a machine with an NVIDIA GPU (CPU benchmarks: pytest bench/ --benchmark-only)."
gpu_names=$(nvidia-smi --query-gpu=name --format=csv,noheader) \
    || die "nvidia-smi failed: the NVIDIA driver cannot see a GPU (see its message above)."
[[ -n "$gpu_names" ]] || die "nvidia-smi lists no GPU."

# "NVIDIA H100 80GB HBM3" -> "nvidia-h100-80gb-hbm3" (the first GPU names the results).
device=$(head -n 1 <<<"$gpu_names" | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-' | sed 's/^-*//; s/-*$//')
results=bench/results
mkdir -p "$results"
nvidia-smi --query-gpu=name,driver_version --format=csv | tee "$results/gpu-$device-nvidia-smi.csv"

python=${PYTHON:-python3}
if [[ "${DNN_XP_NO_VENV:-0}" != 1 && "${DNN_XP_NO_INSTALL:-0}" != 1 ]]; then
    "$python" -m venv .venv-gpu
    # shellcheck disable=SC1091
    . .venv-gpu/bin/activate
    python=python
fi
if [[ "${DNN_XP_NO_INSTALL:-0}" == 1 ]]; then
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    "$python" -m pip install --quiet ".[${DNN_XP_CUDA_EXTRA:-cuda12},test]"
fi

# Without this check a broken CuPy install would make every GPU test skip and the run pass.
"$python" -c "from dnn_xp.backend import resolve_backend; print('GPU backend:', resolve_backend('cupy'))" \
    || die "CuPy cannot use the GPU (message above); the GPU tests and benchmarks would only skip."

# A failing test does not stop the benchmarks; the script's status reports it at the end.
tests=0
"$python" -m pytest -m gpu -rs || tests=$?
json="$results/gpu-$device.json"
"$python" -m pytest bench/ -m gpu --benchmark-only --benchmark-json "$json"
"$python" -m dnn_xp.bench_report "$json"
echo "run_gpu.sh: results in $results/ (gpu-$device.*)"
[[ $tests == 0 ]] || die "the GPU tests failed (pytest status $tests; see above)."
