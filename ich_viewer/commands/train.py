"""`ich-viewer train`: train the networks on CT-ICH, resumably (heavy work in ich_viewer.training)."""

from __future__ import annotations

import argparse
import sys
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
    p.add_argument("--export-onnx", action="store_true",
                   help="only export every network in models/ for ONNX Runtime (checked against Keras)")
    p.set_defaults(run=_train)


def tensorflow_missing(command: str) -> bool:
    """True (after saying so) where TensorFlow is not installed: the offline bundle leaves it out,
    as the shipped networks run in ONNX Runtime; training and evaluation need a source checkout."""
    import importlib.util

    if importlib.util.find_spec("tensorflow") is not None:
        return False
    print(f"ich-viewer {command} needs TensorFlow, which this installation (the offline bundle) leaves out; "
          "run it from a source checkout (README: Two commands)", file=sys.stderr)
    return True


def _train(args: argparse.Namespace) -> int:
    if tensorflow_missing("train"):
        return 2
    if args.export_onnx:
        from ich_viewer.training.onnx_export import export_shipped

        for path in export_shipped():
            print(f"exported {path}")
        return 0
    from ich_viewer.training.pipeline import train_all

    only = [name for name in args.only.split(",") if name]
    return train_all(args.data or paths.ct_ich_dir(), args.runs_dir, only, args.threads, args.ship,
                     args.budget_minutes, args.from_shipped)
