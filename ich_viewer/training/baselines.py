"""The comparison tables: the reference notebook's protocol, baselines on a patient-wise
fold, and inference cost against the reference U-Net.

These read the training runs in runs/ (the baselines are not shipped: the
reference U-Net alone would take 30 MB); `evaluate` stores the tables in
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

from ich_viewer.segmentation.preprocessing import NETWORK_SIZE, network_batch
from ich_viewer.training.ct_ich import read_patients
from ich_viewer.training.dataset import PreparedPatient, prepare_all
from ich_viewer.training.folds import load_folds
from ich_viewer.training.metrics import PixelTally, dice
from ich_viewer.training.plan import NETWORK_VERSION, all_runs, notebook_split
from ich_viewer.training.train import TrainConfig

BATCH = 16


def load_run(run_dir: Path):
    """A finished run's network and the config it was trained with."""
    import keras  # noqa: PLC0415

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


def notebook_protocol(model, config, prepared: list[PreparedPatient]) -> dict:
    _, test = notebook_split([len(p.images) for p in prepared])
    tally = PixelTally()
    for i, patient in enumerate(prepared):
        indices = [z for j, z in test if j == i]
        if indices:
            tally.add(predict_slices(model, config, patient, indices), patient.masks[indices])
    return {"test_slices": len(test), **tally.summary()}


def patient_fold(model, config, prepared: list[PreparedPatient], fold: int) -> dict:
    folds = load_folds()
    tally = PixelTally()
    dices = []
    for patient in prepared:
        if folds[patient.patient] != fold:
            continue
        prob = predict_slices(model, config, patient, range(len(patient.images)))
        tally.add(prob, patient.masks)
        if patient.masks.any():
            dices.append(dice(prob >= 0.5, patient.masks))
    return {"fold": fold, "per_patient_dice_mean": float(np.mean(dices)), "patients_with_hemorrhage": len(dices),
            **tally.summary()}


def baseline_tables(data: Path, runs_dir: Path) -> dict:
    """Tables for every finished comparison run in runs_dir (empty when there are none)."""
    # The notebook's protocol, and everything held out on fold 0 (ours before and after
    # refinement, and both baselines); the other folds are in the cross-validation.
    runs = [r for r in all_runs() if r.notebook_split or r.held_out_fold == 0]
    finished = [r for r in runs if (runs_dir / r.name / "final.keras").exists()]
    if not finished:
        return {}
    prepared = list(prepare_all(read_patients(data), cache=runs_dir / "ct_ich_256.npz").values())
    tables: dict = {"note": "pixel metrics on the 256 x 256 network grid; see the model card for budgets"}
    for run in finished:
        model, config = load_run(runs_dir / run.name)
        if run.notebook_split:
            table = notebook_protocol(model, config, prepared)
        else:
            table = patient_fold(model, config, prepared, run.held_out_fold)
        table["training"] = {"epochs": config.epochs, "steps_per_epoch": config.steps_per_epoch,
                             "batch_size": config.batch_size, "learning_rate": config.learning_rate,
                             "loss": config.loss, "input_size": config.input_size,
                             "augment": config.augment, "parameters": int(model.count_params()),
                             "continues": run.refines}
        if config.architecture == "ich_unet25d":
            table["network_version"] = NETWORK_VERSION
        tables[run.name] = table
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
    and the reference U-Net."""
    from ich_viewer.segmentation.engine import compiled  # noqa: PLC0415
    from ich_viewer.segmentation.model_file import Thresholds  # noqa: PLC0415
    from ich_viewer.segmentation.networks import ich_unet25d, reference_unet  # noqa: PLC0415
    from ich_viewer.segmentation.postprocessing import postprocess  # noqa: PLC0415
    from ich_viewer.segmentation.preprocessing import (  # noqa: PLC0415
        CT_ICH_INPUT,
        network_batch,
        study_square,
        study_views,
        to_unit_range,
    )
    from ich_viewer.study.model import Study, Units  # noqa: PLC0415

    rng = np.random.default_rng(0)
    volume = rng.integers(-1000, 1500, (30, 512, 512)).astype(np.float32)
    # All run the way the engine runs ours: as one compiled graph.
    network, version_1 = ich_unet25d(), ich_unet25d(channels=3)
    ours, ours_v1 = compiled(network, NETWORK_SIZE), compiled(version_1, NETWORK_SIZE)
    reference = compiled(reference_unet(), 160)
    version_1_input = replace(CT_ICH_INPUT, bone_window=None, head_span=None)

    def run_ours(volume, forward=ours, spec=CT_ICH_INPUT, thresholds=Thresholds()):
        study = Study(volume, Units.HU, None, ".")
        square = study_square(study, spec)
        brain, bone = study_views(study, spec, square=square)
        prob = np.asarray(forward(network_batch(brain, bone, range(len(volume)))))[..., 0]
        return postprocess(prob, brain, bone, volume.shape[1:], thresholds, square)

    def run_version_1(volume):
        return run_ours(volume, ours_v1, version_1_input, Thresholds(min_lesion_px=6, inside_skull_only=False))

    def run_reference(volume):
        x = to_unit_range(volume, Units.HU)
        x = np.stack([cv2.resize(s, (160, 160), interpolation=cv2.INTER_AREA) for s in x])[..., None]
        prob = np.asarray(reference(x))[..., 0]
        return [cv2.resize(p, (512, 512)) >= 0.5 for p in prob]

    figures = {}
    for name, run in (("ich_unet25d", run_ours), ("ich_unet25d_v1", run_version_1),
                      ("reference_unet", run_reference)):
        figures[name] = {
            "ms_per_slice_single": 1000 * median_seconds(lambda r=run: r(volume[:1]), repeats),
            "ms_per_30_slice_study": 1000 * median_seconds(lambda r=run: r(volume), repeats),
        }
        figures[name]["ms_per_slice_in_study"] = figures[name]["ms_per_30_slice_study"] / 30
    study_ms = {name: figures[name]["ms_per_30_slice_study"] for name in ("ich_unet25d", "ich_unet25d_v1",
                                                                          "reference_unet")}
    figures["speedup_vs_reference"] = study_ms["reference_unet"] / study_ms["ich_unet25d"]
    figures["slowdown_vs_version_1"] = study_ms["ich_unet25d"] / study_ms["ich_unet25d_v1"]
    # What compiling buys ours, against calling its layers one by one.
    layer_by_layer = median_seconds(lambda: run_ours(volume, lambda x: network(x, training=False)), repeats)
    figures["ich_unet25d_compiled_speedup"] = layer_by_layer * 1000 / study_ms["ich_unet25d"]
    figures["note"] = f"median of {repeats}, CPU, {_threads()} threads, includes pre/postprocessing"
    return figures


def _threads() -> int:
    import tensorflow as tf  # noqa: PLC0415

    return tf.config.threading.get_intra_op_parallelism_threads() or 0
