"""`ich-viewer train`: train the networks on CT-ICH, resumably (heavy work in ich_viewer.training)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ich_viewer import paths


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train the networks on CT-ICH (resumable)")
    p.add_argument("--data", type=Path, default=None, help="CT-ICH folder (default: $ICH_DATA/ct-ich)")
    p.add_argument("--runs-dir", type=Path, default=Path("runs"), help="checkpoints and logs")
    p.add_argument("--only", default="", help="comma-separated run names (default: all, in order)")
    p.add_argument("--threads", type=int, default=None, help="TensorFlow CPU threads")
    p.add_argument("--ship", action="store_true", help="copy finished fold/final networks to models/")
    p.add_argument("--budget-minutes", type=float, default=None,
                   help="CPU budget of each notebook-recipe run (a run stopped by a smaller one goes on)")
    p.add_argument("--from-shipped", action="store_true",
                   help="notebook-recipe runs whose folders are gone go on from the networks in models/")
    p.set_defaults(run=_train)


def _train(args: argparse.Namespace) -> int:
    from ich_viewer.training.pipeline import train_all

    only = [name for name in args.only.split(",") if name]
    return train_all(args.data or paths.ct_ich_dir(), args.runs_dir, only, args.threads, args.ship,
                     args.budget_minutes, args.from_shipped)
