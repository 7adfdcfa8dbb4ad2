"""The comparison with the reference notebook's two networks (notebook_recipe.py), and inference cost.

- The notebook's protocol: its random split of the balanced pool, pixel by
  pixel at 160 x 160, twice: as the notebook counted (every test slice,
  augmented copies of training slices included) and on the original slices
  only. Ours (trained on the same original training slices) on the latter.
- Patient-wise folds 0 and 1: every held-out patient through the engine, as
  the viewer runs each network, with per-patient Dice, slice AUC and
  patient detection. The difference between the two is a slice split's leak.

These read the training runs in runs/; `evaluate` stores the tables in
models/baselines.json so the model card can be rebuilt without them.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from ich_viewer.segmentation.engine import SegmentationEngine
from ich_viewer.segmentation.model_file import shipped_network_path
from ich_viewer.segmentation.preprocessing import NETWORK_SIZE, network_batch
from ich_viewer.training.ct_ich import read_patients
from ich_viewer.training.dataset import PreparedPatient, prepare_all
from ich_viewer.training.evaluate import outcome_of, scan_patient, summarise
from ich_viewer.training.folds import load_folds
from ich_viewer.training.metrics import PixelTally
from ich_viewer.training.notebook_recipe import (
    NOTEBOOK_SIZE,
    NOTEBOOK_THRESHOLDS,
    SlicePool,
    notebook_data,
    notebook_runs,
    originals,
    run_summary,
    write_run_manifest,
)
from ich_viewer.training.plan import NETWORK_VERSION, all_runs
from ich_viewer.training.train import TrainConfig

BATCH = 16


def load_run(run_dir: Path):
    """A finished run's network and the config it was trained with."""
    import keras

    config = TrainConfig(**json.loads((run_dir / "config.json").read_text()))
    return keras.models.load_model(run_dir / "final.keras", compile=False), config


def predict_slices(model, config: TrainConfig, patient: PreparedPatient, indices) -> np.ndarray:
    """Probabilities at network resolution (NETWORK_SIZE) for the given slices of a patient."""
    indices = list(indices)
    out = np.empty((len(indices), NETWORK_SIZE, NETWORK_SIZE), np.float32)
    for start in range(0, len(indices), BATCH):
        chunk = indices[start:start + BATCH]
        if config.channels == 1:
            batch = np.stack([cv2.resize(patient.images[z], (config.input_size,) * 2,
                                         interpolation=cv2.INTER_AREA) for z in chunk])[..., None]
        else:
            batch = network_batch(patient.images, patient.bone, chunk)
        prob = np.asarray(model(batch, training=False))[..., 0]
        for k, p in enumerate(prob):
            out[start + k] = cv2.resize(p, (NETWORK_SIZE,) * 2, interpolation=cv2.INTER_LINEAR)
    return out


def _probabilities(model, images: np.ndarray) -> np.ndarray:
    """A 160 x 160 network's probabilities for notebook-prepared slices (n, 160, 160)."""
    out = [np.asarray(model(images[s:s + BATCH, ..., None], training=False))[..., 0]
           for s in range(0, len(images), BATCH)]
    return np.concatenate(out) if out else np.zeros((0, *images.shape[1:]), np.float32)


def _tally(probability: np.ndarray, masks: np.ndarray) -> dict:
    tally = PixelTally()
    tally.add(probability, masks)
    return {"slices": len(masks), **tally.summary()}


def _ours_on_notebook_test(run_dir: Path, prepared: list[PreparedPatient], test: SlicePool) -> np.ndarray:
    """Our notebook-split network's probabilities for the test pool's original slices, on its 160 grid."""
    model, config = load_run(run_dir)
    pairs = [(i, z) for i, p in enumerate(prepared) for z in range(len(p.images))]
    wanted = [pairs[k] for k in test.source]
    out = np.empty((len(wanted), NOTEBOOK_SIZE, NOTEBOOK_SIZE), np.float32)
    for i, patient in enumerate(prepared):  # in batches, one patient at a time
        rows = [row for row, (j, _) in enumerate(wanted) if j == i]
        if rows:
            prob = predict_slices(model, config, patient, [wanted[row][1] for row in rows])
            for row, p in zip(rows, prob):
                out[row] = cv2.resize(p, (NOTEBOOK_SIZE,) * 2, interpolation=cv2.INTER_AREA)
    return out


def notebook_protocol(patients, runs_dir: Path) -> dict:
    """Pixel figures on the notebook's test split, at 160 x 160: every network on the original
    test slices, the notebook's own also on every test slice as it counted them (copies included)."""
    pool = originals(patients)
    test = notebook_data(pool).test
    is_original = ~test.augmented
    rows = {}
    for run in notebook_runs():
        run_dir = runs_dir / run.name
        if run.held_out_fold is None and (run_dir / "final.keras").exists():
            model, _ = load_notebook_run(run_dir)
            prob = _probabilities(model, test.images)
            rows[run.name] = {"as_notebook_counted": _tally(prob, test.masks),
                              "original_slices": _tally(prob[is_original], test.masks[is_original]),
                              "training": run_summary(run_dir), "parameters": int(model.count_params())}
    # Ours on the notebook's split (plan.py: on its training slices, or on its whole pool).
    finished = [run.name for run in all_runs() if run.notebook_split and (runs_dir / run.name / "final.keras").exists()]
    if finished:
        originals_only = test.subset(np.flatnonzero(is_original))
        prepared = list(prepare_all(patients, cache=runs_dir / "ct_ich_256.npz").values())
        for name in finished:
            prob = _ours_on_notebook_test(runs_dir / name, prepared, originals_only)
            rows[name] = {"original_slices": _tally(prob, originals_only.masks), "network_version": NETWORK_VERSION}
    return rows


def load_notebook_run(run_dir: Path):
    import keras

    return keras.models.load_model(run_dir / "final.keras", compile=False), run_summary(run_dir)


FOLD_KEYS = ("per_patient_dice_mean", "pooled_dice", "slice_auc", "patient_auc", "patients_detected",
             "negatives_cleared", "n_patients", "n_patients_with_hemorrhage")


def patient_folds(patients, runs_dir: Path, folds_scored=(0, 1)) -> dict:
    """Held-out patients of these folds through the engine, as the viewer runs each network: the
    baselines by their runs' manifests (the notebook's reading: 0.5, no rules), ours by the shipped
    fold networks (their own thresholds and skull rule, and once more with the notebook's reading)."""
    folds = load_folds()
    tables: dict = {}
    outcomes: dict[str, list] = {}
    for fold in folds_scored:
        held_out = [p for p in patients if folds[p.patient] == fold]
        engines = {"ich_unet25d": SegmentationEngine(shipped_network_path(f"fold{fold}"), force_cpu=True)}
        for run in notebook_runs():
            run_dir = runs_dir / run.name
            if run.held_out_fold == fold and (run_dir / "final.keras").exists():
                write_run_manifest(run, run_dir)
                engines[run.config.architecture] = SegmentationEngine(run_dir / "final.keras", force_cpu=True)
                tables.setdefault(run.config.architecture, {}).setdefault("training", {})[f"fold{fold}"] = \
                    run_summary(run_dir)
        for name, engine in engines.items():
            for patient in held_out:
                scan = scan_patient(engine, patient, fold)
                outcomes.setdefault(name, []).append(outcome_of(scan, engine))
                if name == "ich_unet25d":
                    outcomes.setdefault("ich_unet25d_notebook_reading", []).append(
                        outcome_of(scan, engine, NOTEBOOK_THRESHOLDS))
    for name, scored in outcomes.items():
        summary = summarise(scored)
        tables.setdefault(name, {}).update({k: summary[k] for k in FOLD_KEYS})
        tables[name]["folds"] = sorted({o.fold for o in scored})
    return tables


def baseline_tables(data: Path, runs_dir: Path, earlier: dict) -> dict:
    """Both protocols for every finished notebook-recipe run in runs_dir.

    Rows of runs that are not in runs_dir (checkpoints do not outlive a session)
    are kept from the earlier tables, so re-measuring some runs keeps the rest.
    """
    patients = read_patients(data)
    fresh = {"notebook_protocol": notebook_protocol(patients, runs_dir),
             "patient_folds": patient_folds(patients, runs_dir)}
    tables = {"note": ("notebook protocol: pixel figures on the notebook's 160 x 160 grid; patient folds: held-out "
                       "patients through the engine at 650 x 650")}
    for protocol, rows in fresh.items():
        tables[protocol] = {**earlier.get(protocol, {}), **rows}
    return tables


def median_seconds(call, repeats: int) -> float:
    call()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def inference_cost(repeats: int = 5) -> dict:
    """ms per 512 x 512 slice and per 30-slice study, same run: ours (version 2: bone channel, framed
    on the head, skull rule, 3-D lesions), ours as version 1 ran (3 channels, whole frame, neither rule)
    and the notebook's two networks at their shipped widths, each with its own pre- and postprocessing."""
    from ich_viewer.segmentation.model_file import Thresholds
    from ich_viewer.segmentation.networks import ich_unet25d
    from ich_viewer.segmentation.postprocessing import postprocess
    from ich_viewer.segmentation.preprocessing import (
        CT_ICH_INPUT,
        network_batch,
        study_square,
        study_views,
    )
    from ich_viewer.segmentation.runtimes import compiled
    from ich_viewer.study.model import Study, Units
    from ich_viewer.training.notebook_recipe import (
        NOTEBOOK_INPUT,
        NOTEBOOK_TWO_BRANCH,
        NOTEBOOK_UNET,
        build,
    )

    rng = np.random.default_rng(0)
    volume = rng.integers(-1000, 1500, (30, 512, 512)).astype(np.float32)
    # All run the way the engine runs ours: as one compiled graph.
    network, version_1 = ich_unet25d(), ich_unet25d(channels=3)
    ours, ours_v1 = compiled(network, NETWORK_SIZE), compiled(version_1, NETWORK_SIZE)
    notebook = {c.architecture: compiled(build(c), NOTEBOOK_SIZE) for c in (NOTEBOOK_UNET, NOTEBOOK_TWO_BRANCH)}
    version_1_input = replace(CT_ICH_INPUT, bone_window=None, head_span=None)

    def run_ours(volume, forward=ours, spec=CT_ICH_INPUT, thresholds=None):
        study = Study(volume, Units.HU, None, ".")
        square = study_square(study, spec)
        brain, bone = study_views(study, spec, square=square)
        prob = np.asarray(forward(network_batch(brain, bone, range(len(volume)))))[..., 0]
        return postprocess(prob, brain, bone, volume.shape[1:], thresholds or Thresholds(), square)

    def run_version_1(volume):
        return run_ours(volume, ours_v1, version_1_input, Thresholds(min_lesion_px=6, inside_skull_only=False))

    def run_notebook(volume, forward):
        brain, _ = study_views(Study(volume, Units.HU, None, "."), NOTEBOOK_INPUT)
        prob = np.asarray(forward(brain[..., None]))[..., 0]
        return postprocess(prob, brain, None, volume.shape[1:], NOTEBOOK_THRESHOLDS, None)

    # Ours as the viewer runs it: the shipped export in ONNX Runtime (the others: TensorFlow graphs).
    from ich_viewer.segmentation.model_file import default_model_path, onnx_network_path, read_manifest
    from ich_viewer.segmentation.runtimes import OnnxNetwork

    weights = default_model_path()
    shipped = OnnxNetwork(onnx_network_path(weights, read_manifest(weights)), force_cpu=True)

    figures = {}
    runs = [("ich_unet25d", run_ours),
            ("ich_unet25d_onnx_runtime", lambda v: run_ours(v, lambda batch: shipped(batch)[..., None])),
            ("ich_unet25d_v1", run_version_1)]
    runs += [(name, lambda v, f=forward: run_notebook(v, f)) for name, forward in notebook.items()]
    for name, run in runs:
        figures[name] = {
            "ms_per_slice_single": 1000 * median_seconds(lambda r=run: r(volume[:1]), repeats),
            "ms_per_30_slice_study": 1000 * median_seconds(lambda r=run: r(volume), repeats),
        }
        figures[name]["ms_per_slice_in_study"] = figures[name]["ms_per_30_slice_study"] / 30
    study_ms = {name: figures[name]["ms_per_30_slice_study"] for name, _ in runs}
    for name, _ in runs:
        figures[name]["time_relative_to_ours"] = study_ms[name] / study_ms["ich_unet25d"]
    figures["slowdown_vs_version_1"] = study_ms["ich_unet25d"] / study_ms["ich_unet25d_v1"]
    # What compiling buys ours, against calling its layers one by one.
    layer_by_layer = median_seconds(lambda: run_ours(volume, lambda x: network(x, training=False)), repeats)
    figures["ich_unet25d_compiled_speedup"] = layer_by_layer * 1000 / study_ms["ich_unet25d"]
    figures["note"] = (f"median of {repeats}, CPU, {_threads()} threads, includes pre/postprocessing; TensorFlow "
                       "graphs, but ich_unet25d_onnx_runtime: the shipped export in ONNX Runtime (as the viewer)")
    return figures


def _threads() -> int:
    import tensorflow as tf

    return tf.config.threading.get_intra_op_parallelism_threads() or 0
