"""Inference cost per 512 x 512 slice on this CPU: ours against the notebook's two networks, same run.

    .venv/bin/python benchmarks/bench_inference.py [repeats]
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ich_viewer.training.baselines import inference_cost

if __name__ == "__main__":
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    print(json.dumps(inference_cost(repeats), indent=1))
