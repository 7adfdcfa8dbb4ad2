"""Launch time: from process start to the first slice of the sample study painted, and to its findings.

Runs `python -m ich_viewer --sample` (or the bundle, with --bundle) in a fresh
process several times with ICH_VIEWER_BENCH_EXIT_AFTER_FIRST_PAINT=1 and
ICH_VIEWER_BENCH_WAIT_FOR_FINDINGS=1; the viewer prints the seconds since
ICH_VIEWER_BENCH_T0 (the time.time() taken here just before starting it) at
its first painted slice, whether TensorFlow was imported by then, and when
the model's findings are on screen, then quits. Prints every run and the
medians. Goals: first slice < 2 s with no TensorFlow; findings <= 3 s (issue 16) when
the sample is opened at once; with --idle S the sample is opened only after S seconds
without a study (the reader in the file dialog), and the goal is findings <= 1.5 s after
opening, for S = 5.

    .venv/bin/python benchmarks/bench_launch.py [--runs 5] [--idle 5] [--bundle dist/ich-viewer/ich-viewer]
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
FINDINGS_GOAL_S = 3.0
FINDINGS_AFTER_IDLE_GOAL_S = 1.5
ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"first_paint_s=(?P<s>[\d.]+) tensorflow_imported=(?P<tf>True|False)")
FINDINGS = re.compile(r"findings_s=(?P<s>[\d.]+)")
OPENED = re.compile(r"opened_s=(?P<s>[\d.]+)")


def launch_once(settings_dir: str, command: list[str], idle_s: float = 0.0) -> tuple[float, bool, float]:
    """(first slice painted, TensorFlow imported by then, findings), in seconds from launch; with
    idle_s, both are counted from the moment the sample was opened."""
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["XDG_CONFIG_HOME"] = settings_dir  # never the reader's real settings
    env["ICH_VIEWER_BENCH_EXIT_AFTER_FIRST_PAINT"] = "1"
    env["ICH_VIEWER_BENCH_WAIT_FOR_FINDINGS"] = "1"
    if idle_s:
        env["ICH_VIEWER_BENCH_OPEN_SAMPLE_AFTER_S"] = str(idle_s)
    env["ICH_VIEWER_BENCH_T0"] = repr(time.time())
    done = subprocess.run([*command, "--sample"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    match, findings, opened = LINE.search(done.stdout), FINDINGS.search(done.stdout), OPENED.search(done.stdout)
    if not (match and findings) or (idle_s and not opened):
        raise SystemExit(f"no first-paint or findings line (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    start = float(opened["s"]) if idle_s else 0.0
    return float(match["s"]) - start, match["tf"] == "True", float(findings["s"]) - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bundle", type=Path, help="the bundle's executable (default: this checkout's Python)")
    parser.add_argument("--idle", type=float, default=0.0,
                        help="open the sample only after this many seconds without a study")
    args = parser.parse_args()
    command = [str(args.bundle.resolve())] if args.bundle else [sys.executable, "-m", "ich_viewer"]
    with tempfile.TemporaryDirectory(prefix="ich-bench-settings-") as settings_dir:
        launch_once(settings_dir, command)  # warm the file cache, as a second launch on a workstation would
        runs = [launch_once(settings_dir, command, args.idle) for _ in range(args.runs)]
    since_opening = " from opening" if args.idle else ""
    for i, (seconds, tf, findings) in enumerate(runs, 1):
        print(f"run {i}: first slice painted after {seconds:.3f} s{since_opening} (tensorflow imported: {tf}), "
              f"findings after {findings:.3f} s{since_opening}")
    median = statistics.median(s for s, _, _ in runs)
    findings_median = statistics.median(f for _, _, f in runs)
    any_tf = any(tf for _, tf, _ in runs)
    verdict = "" if args.idle else f" (goal < {GOAL_S:.0f} s from launch): {'PASS' if median < GOAL_S else 'FAIL'}"
    print(f"first slice: median {median:.3f} s{since_opening} over {args.runs} runs{verdict}; "
          f"tensorflow imported at first paint: {any_tf}")
    goal, since = (FINDINGS_AFTER_IDLE_GOAL_S, f"the sample was opened after {args.idle:g} s idle") if args.idle \
        else (FINDINGS_GOAL_S, "launch, the sample opened at once")
    print(f"findings: median {findings_median:.3f} s from {since} (goal <= {goal:g} s): "
          f"{'PASS' if findings_median <= goal else 'FAIL'}")


if __name__ == "__main__":
    main()
