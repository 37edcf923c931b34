#!/usr/bin/env bash
# Run the full benchmark suite on this machine's CPU and write the report:
#   bench/results/cpu-<model>.json  (pytest-benchmark), .md (tables, targets), .png (scaling curves).
# Takes a few minutes on a 2-core CPU. Run it on an otherwise idle machine: the load average at the
# start and the end is recorded in the report. Extra arguments go to pytest (e.g. -k step-planar).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python}
name=$("$python" -c 'from dnn_xp.bench_report import machine_slug; print(machine_slug())')
json="bench/results/$name.json"
mkdir -p bench/results
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
"$python" -m pytest bench/ --benchmark-only --benchmark-json "$json" -p no:cacheprovider -q "$@"
"$python" -m dnn_xp.bench_report "$json"
