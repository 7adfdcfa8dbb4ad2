"""Launch time: from process start to the first slice of the sample study painted.

Runs `python -m ich_viewer --sample` in a fresh process several times with
ICH_VIEWER_BENCH_EXIT_AFTER_FIRST_PAINT=1; the viewer prints the seconds
since ICH_VIEWER_BENCH_T0 (the time.time() taken here just before starting
it) at its first painted slice, and whether TensorFlow was imported by then,
then quits. Prints every run and the median. Goal: < 2 s, no TensorFlow.

    .venv/bin/python benchmarks/bench_launch.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 2.0
ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"first_paint_s=(?P<s>[\d.]+) tensorflow_imported=(?P<tf>True|False)")


def launch_once(settings_dir: str) -> tuple[float, bool]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["XDG_CONFIG_HOME"] = settings_dir  # never the reader's real settings
    env["ICH_VIEWER_BENCH_EXIT_AFTER_FIRST_PAINT"] = "1"
    env["ICH_VIEWER_BENCH_T0"] = repr(time.time())
    done = subprocess.run([sys.executable, "-m", "ich_viewer", "--sample"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    match = LINE.search(done.stdout)
    if not match:
        raise SystemExit(f"no first-paint line (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return float(match["s"]), match["tf"] == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ich-bench-settings-") as settings_dir:
        launch_once(settings_dir)  # warm the file cache, as a second launch on a workstation would
        runs = [launch_once(settings_dir) for _ in range(args.runs)]
    for i, (seconds, tf) in enumerate(runs, 1):
        print(f"run {i}: first slice painted after {seconds:.3f} s, tensorflow imported: {tf}")
    median = statistics.median(s for s, _ in runs)
    any_tf = any(tf for _, tf in runs)
    print(f"median {median:.3f} s over {args.runs} runs (goal < {GOAL_S:.0f} s): "
          f"{'PASS' if median < GOAL_S else 'FAIL'}; tensorflow imported at first paint: {any_tf}")


if __name__ == "__main__":
    main()
