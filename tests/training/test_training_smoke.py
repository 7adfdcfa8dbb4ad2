"""The whole training pipeline, end to end, on a handful of real slices for one short epoch."""

from dataclasses import replace

import numpy as np

from ich_viewer.segmentation.engine import SegmentationEngine
from ich_viewer.segmentation.model_file import write_sha256
from ich_viewer.training.ct_ich import read_patients
from ich_viewer.training.dataset import prepare_patient
from ich_viewer.training.evaluate import score_patient, summarise
from ich_viewer.training.train import OURS, train_run


def test_train_one_short_epoch_then_resume_then_segment(ct_ich_dir, tmp_path):
    patients = [p for p in read_patients(ct_ich_dir) if p.patient in (66, 55)]
    prepared = []
    for p in patients:  # a handful of slices: keep 6 of each patient
        full = prepare_patient(p)
        full.images, full.masks = full.images[10:16], full.masks[10:16]
        prepared.append(full)
    config = replace(OURS, epochs=2, steps_per_epoch=2, batch_size=2, crop=64)
    run_dir = tmp_path / "run"

    # Interrupt after the first epoch, then resume: the second call finishes the run.
    train_run(replace(config, epochs=1), prepared, run_dir, log=lambda m: None)
    (run_dir / "final.keras").unlink()
    messages = []
    weights = train_run(config, prepared, run_dir, log=messages.append)
    assert any("resuming after epoch 1" in m for m in messages)
    assert weights.exists() and (run_dir / "log.csv").read_text().count("\n") == 2

    write_sha256(weights)
    engine = SegmentationEngine(weights, force_cpu=True)
    outcome = score_patient(engine, patients[0], fold=0)
    assert outcome.slice_scores.shape == (len(patients[0].slice_numbers),)
    assert np.all((outcome.slice_scores >= 0) & (outcome.slice_scores <= 1))
    summary = summarise([outcome, score_patient(engine, patients[1], fold=0)])
    assert summary["n_patients"] == 2 and summary["n_patients_with_hemorrhage"] == 1
