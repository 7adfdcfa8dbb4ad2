"""What the pipeline's warm-up (segmentation/warm_up.py) saves the reader's first study.

    .venv/bin/python benchmarks/bench_warm_up.py [--runs 3]

Each run is a fresh process (first-call costs belong to a process): the shipped network is
loaded (its own warm-up included), then warmed up on the synthetic head or not, and the sample
study is segmented twice, as the viewer's worker does it (the slice on screen first, previews).
The two kinds of process take turns. Prints the first and second segmentation of each kind.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(warm: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from ich_viewer import paths
    from ich_viewer.segmentation.engine import SegmentationEngine
    from ich_viewer.study.loader import open_study

    engine = SegmentationEngine()
    engine.load()
    if warm:
        engine.warm_up()
    study = open_study(paths.sample_study_dir())
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        engine.segment(study, focus=lambda: study.n_slices // 2, preview=lambda indices, masks: None)
        seconds.append(time.perf_counter() - start)
    print(json.dumps(seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=("warm", "cold"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child == "warm")
        return
    timed = {"cold": [], "warm": []}
    for _ in range(args.runs):
        for kind in timed:
            out = subprocess.run([sys.executable, __file__, "--child", kind], check=True, capture_output=True,
                                 text=True).stdout
            timed[kind].append(json.loads(out.strip().splitlines()[-1]))
    for kind, label in (("cold", "network loaded only"), ("warm", "network loaded, pipeline warmed up")):
        first, second = ([run[k] for run in timed[kind]] for k in (0, 1))
        print(f"{label:36s}: first segmentation of the sample median {statistics.median(first):.3f} s "
              f"(runs {', '.join(f'{s:.2f}' for s in first)}); second {statistics.median(second):.3f} s")


if __name__ == "__main__":
    main()
