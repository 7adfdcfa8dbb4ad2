"""Peak memory of `ich-viewer segment` and `ich-viewer report` on long 512 x 512 series.

    .venv/bin/python benchmarks/bench_memory.py [--slices 300,1000] [--runs 1]

Each command runs in a fresh process that reports its own peak RSS. What a command needs
for a series on top of the runtime (TensorFlow, the model, the program) is its peak on that
series minus its peak on a 30-slice series, in the same run; the goal (issue 16) is at most
1.5x the series' float32 volume. Series are written once (bench_load's cache).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_load import COLS, ROWS, cached_series  # noqa: E402  (benchmarks/ is not a package)

BASE_SLICES = 30
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child of this (large) process
# would report the parent's size; the high-water mark of the new address space starts afresh.
CHILD = """
import json, sys
from ich_viewer.cli import main
code = main(sys.argv[1:])
hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"code": code, "peak_mb": hwm_kb / 1024}))
"""


def peak_mb(command: list[str]) -> float:
    """The peak RSS of one `ich-viewer` command in a fresh process, in MiB."""
    env = {"OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-c", CHILD, *command], capture_output=True, text=True,
                         env=env, cwd=REPO, check=False)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result['code']}): {run.stderr[-2000:]}")
    return result["peak_mb"]


def command_peaks(series: Path, out: Path) -> dict[str, float]:
    return {"segment": peak_mb(["segment", str(series), "--out", str(out / "seg"), "--force", "--cpu"]),
            "report": peak_mb(["report", str(series), "--out", str(out / "report.pdf"), "--cpu"])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slices", default="300,1000")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(n) for n in args.slices.split(",")]
    series = {n: cached_series("uncompressed", n) for n in [BASE_SLICES, *sizes]}
    peaks: dict[int, dict[str, list[float]]] = {n: {"segment": [], "report": []} for n in series}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.runs):
            for n, folder in series.items():
                for name, mb in command_peaks(folder, Path(scratch) / str(n)).items():
                    peaks[n][name].append(mb)
    for name in ("segment", "report"):
        base = statistics.median(peaks[BASE_SLICES][name])
        print(f"{name}: peak RSS on {BASE_SLICES} slices {base:.0f} MiB (the runtime and the model)")
        for n in sizes:
            volume_mb = n * ROWS * COLS * 4 / 2**20
            peak = statistics.median(peaks[n][name])
            print(f"  {n} slices: peak {peak:.0f} MiB; above the runtime {peak - base:.0f} MiB = "
                  f"{(peak - base) / volume_mb:.2f}x the {volume_mb:.0f} MiB float32 volume (goal <= 1.5x)")


if __name__ == "__main__":
    main()
