"""The larger fuzz run: mutated DICOM of every transfer syntax and images, opened as a reader would.

    .venv/bin/python benchmarks/bench_fuzz.py [--cases 3000] [--seed 15] [--time-limit 20]

Prints cases, loaded, clear errors, crashes, hangs (and each crash or hang).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fuzzing import run_fuzz  # noqa: E402  (imported once sys.path holds the repo root)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--time-limit", type=int, default=20)
    args = parser.parse_args()
    result = run_fuzz(args.cases, args.seed, args.time_limit)
    counts = result["counts"]
    print(f"cases {result['cases']}  loaded {counts['loaded']}  clear errors {counts['clear']}  "
          f"crashes {counts['crash']}  hangs {counts['hang']}")
    for case, outcome in result["failures"].items():
        print(f"  {case}: {outcome}")


if __name__ == "__main__":
    main()
