"""Headless throughput: `ich-viewer segment` over the CT-ICH patients, studies per minute and peak memory.

    .venv/bin/python benchmarks/bench_batch.py [--limit N]

Runs the real command in a child process (model load included, printed
separately from the per-study rate) and reads the child's peak RSS.
"""

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from ich_viewer import paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0, help="only the first N patients (0: all 82)")
    args = parser.parse_args()
    patients = sorted((paths.ct_ich_dir() / "Patients_CT").iterdir())
    if args.limit:
        patients = patients[: args.limit]
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "ich_viewer", "segment", *map(str, patients),
                               "--out", out, "--cpu"], capture_output=True, text=True, env=env)
        wall = time.perf_counter() - started
    per_study = [float(s) for s in re.findall(r"\((\d+\.\d+) s\)", proc.stdout)]
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"exit code {proc.returncode}; {len(per_study)} studies segmented")
    print(f"wall time {wall:.1f} s including TensorFlow import and model load")
    median = statistics.median(per_study)
    print(f"throughput {60 * len(per_study) / wall:.1f} studies/min overall; "
          f"median {median:.2f} s per study ({60 / median:.1f} studies/min once the model is loaded)")
    print(f"peak memory (child RSS) {peak_mb:.0f} MB")
    if proc.returncode:
        print(proc.stderr[-2000:])


if __name__ == "__main__":
    main()
