"""Runs the training plan: prepares the data once, trains each run, ships the results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ich_viewer import paths
from ich_viewer.segmentation.model_file import shipped_network_path, write_manifest
from ich_viewer.training.ct_ich import read_patients
from ich_viewer.training.dataset import prepare_all
from ich_viewer.training.folds import load_folds
from ich_viewer.training.notebook_recipe import (
    NotebookRun,
    continue_from_shipped,
    notebook_runs,
    train_notebook_runs,
    write_run_manifest,
)
from ich_viewer.training.onnx_export import export_onnx
from ich_viewer.training.plan import NETWORK_NAME, NETWORK_VERSION, all_runs, notebook_pool_slices, notebook_split
from ich_viewer.training.train import OURS, REFINE, TUNE, configure_tensorflow, train_run


def train_all(data: Path, runs_dir: Path, only: list[str], threads: int | None, ship: bool,
              budget_minutes: float | None = None, from_shipped: bool = False) -> int:
    configure_tensorflow(threads)
    if from_shipped:
        _continue_from_shipped(runs_dir, only)
    patients = read_patients(data)
    folds = load_folds()
    runs = [r for r in all_runs() if not only or r.name in only]
    if runs:
        print(f"preparing {len(patients)} patients ...", flush=True)
        prepared = prepare_all(patients, cache=runs_dir / "ct_ich_256.npz")
    for run in runs:
        if run.notebook_split:
            ordered = list(prepared.values())
            if run.notebook_pool:
                train_slices = notebook_pool_slices(patients, ordered)
            else:
                train_slices, _ = notebook_split(ordered)
            train_run(run.config, ordered, runs_dir / run.name, log=_log, slices=train_slices)
        else:
            chosen = [p for n, p in prepared.items() if folds[n] != run.held_out_fold]
            start, hard = None, None
            if run.refines and not (runs_dir / run.name / "final.keras").exists():
                start = runs_dir / run.refines / "final.keras"
                hard = _hard_examples(runs_dir / run.refines, chosen, runs_dir / run.name)
            train_run(run.config, chosen, runs_dir / run.name, log=_log, start_from=start, hard_examples=hard)
        if ship and run.ships_as:
            ship_network(runs_dir / run.name / "final.keras", run.ships_as)
    trained = train_notebook_runs(patients, folds, runs_dir, only, log=_log, budget_minutes=budget_minutes)
    if ship:
        for run in (r for r in trained if r.ships):
            ship_notebook_network(run, runs_dir / run.name)
    return 0


def _continue_from_shipped(runs_dir: Path, only: list[str]) -> None:
    """Seed each shipping notebook-recipe run whose folder is gone from models/ and baselines.json."""
    trained = json.loads((paths.models_dir() / "baselines.json").read_text())["notebook_protocol"]
    for run in notebook_runs():
        if run.ships and (not only or run.name in only) and not (runs_dir / run.name / "state.json").exists():
            weights = paths.models_dir() / f"{run.config.architecture}.keras"
            continue_from_shipped(run.config, runs_dir / run.name, weights, trained[run.name]["training"])
            _log(f"{run.name}: continuing from {weights.name} after epoch {trained[run.name]['training']['epochs']}")


def _hard_examples(start_run: Path, patients, run_dir: Path):
    """The start run's network's mistakes on its own training slices (found once, then cached)."""
    from ich_viewer.training import hard_examples
    from ich_viewer.training.baselines import load_run

    cache = run_dir / "hard_examples.npz"
    if cache.exists():
        return hard_examples.load(cache)
    run_dir.mkdir(parents=True, exist_ok=True)
    found = hard_examples.find_hard_examples(*load_run(start_run), patients)
    hard_examples.save(found, cache)
    _log(f"{run_dir.name}: {len(found)} slices with mistakes")
    return found


def ship_network(source: Path, name: str) -> None:
    """Copy a finished run's weights to models/ and write its manifest."""
    target = shipped_network_path(name)
    shutil.copyfile(source, target)
    write_manifest(target, NETWORK_NAME, NETWORK_VERSION, training_description(name))
    stale = target.with_name(target.name + ".sha256")  # version 1 kept the checksum apart
    stale.unlink(missing_ok=True)
    export_onnx(target)  # what the engine runs on the CPU; the new manifest lists it once checked
    _log(f"shipped {target.name} and {target.with_suffix('.onnx').name}")


def ship_notebook_network(run: NotebookRun, run_dir: Path) -> None:
    """models/<architecture>.keras and its manifest, for a finished notebook-recipe run."""
    target = paths.models_dir() / f"{run.config.architecture}.keras"
    shutil.copyfile(run_dir / "final.keras", target)
    write_run_manifest(run, run_dir, target)
    export_onnx(target)
    _log(f"shipped {target.name} and {target.with_suffix('.onnx').name}")


def training_description(name: str) -> str:
    if name == "final":
        patients = "all 82 patients"
    else:
        patients = f"the 4 cross-validation folds other than fold {name.removeprefix('fold')} (models/cv_folds.json)"
    return (f"CT-ICH JPG release (Hssayeni et al., PhysioNet, doi:10.13026/w8q8-ky94, CC BY 4.0), "
            f"brain and bone windows, {patients}; `ich-viewer train` {OURS.epochs} x {OURS.steps_per_epoch} "
            f"steps of {OURS.batch_size}, then {REFINE.epochs} x {REFINE.steps_per_epoch} and {TUNE.epochs} x "
            f"{TUNE.steps_per_epoch} on its own hard examples.")


def _log(message: str) -> None:
    print(message, flush=True)
