"""`ich-viewer evaluate`: cross-validate the shipped networks; write the metrics and the model card."""

from __future__ import annotations

import argparse
from pathlib import Path

from ich_viewer import paths
from ich_viewer.commands.train import tensorflow_missing


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="cross-validate the shipped fold networks; write metrics and model card")
    p.add_argument("--data", type=Path, default=None, help="CT-ICH folder (default: $ICH_DATA/ct-ich)")
    p.add_argument("--runs-dir", type=Path, default=Path("runs"),
                   help="baseline and notebook-protocol runs, when present")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--baselines-only", action="store_true",
                   help="re-measure only the notebook baselines and the inference cost; keep the stored "
                        "cross-validation of the shipped networks")
    p.set_defaults(run=_evaluate)


def _evaluate(args: argparse.Namespace) -> int:
    if tensorflow_missing("evaluate"):
        return 2
    from ich_viewer.training.evaluate import evaluate_all

    return evaluate_all(args.data or paths.ct_ich_dir(), args.runs_dir, args.threads, args.baselines_only)
