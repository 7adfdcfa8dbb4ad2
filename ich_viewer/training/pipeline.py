"""Runs the training plan: prepares the data once, trains each run, ships the results."""

from __future__ import annotations

import shutil
from pathlib import Path

from ich_viewer import paths
from ich_viewer.training.ct_ich import read_patients
from ich_viewer.training.dataset import prepare_all
from ich_viewer.training.folds import load_folds
from ich_viewer.training.plan import all_runs, notebook_split
from ich_viewer.training.train import configure_tensorflow, train_run


def train_all(data: Path, runs_dir: Path, only: list[str], threads: int | None, ship: bool) -> int:
    configure_tensorflow(threads)
    patients = read_patients(data)
    print(f"preparing {len(patients)} patients ...", flush=True)
    prepared = prepare_all(patients, cache=runs_dir / "ct_ich_256.npz")
    folds = load_folds()
    runs = [r for r in all_runs() if not only or r.name in only]
    for run in runs:
        if run.notebook_split:
            ordered = list(prepared.values())
            train_slices, _ = notebook_split([len(p.images) for p in ordered])
            train_run(run.config, ordered, runs_dir / run.name, log=_log, slices=train_slices)
        else:
            chosen = [p for n, p in prepared.items() if folds[n] != run.held_out_fold]
            train_run(run.config, chosen, runs_dir / run.name, log=_log)
        if ship and (run.name == "final" or run.name.startswith("fold") and "_" not in run.name):
            ship_network(runs_dir / run.name / "final.keras", run.name)
    return 0


def shipped_network_path(name: str) -> Path:
    """models/ich_unet25d_final.keras, models/ich_unet25d_fold0.keras, ..."""
    return paths.models_dir() / f"ich_unet25d_{name}.keras"


def ship_network(source: Path, name: str) -> None:
    from ich_viewer.segmentation.model_file import write_sha256  # noqa: PLC0415

    target = shipped_network_path(name)
    shutil.copyfile(source, target)
    write_sha256(target)
    _log(f"shipped {target.name}")


def _log(message: str) -> None:
    print(message, flush=True)
