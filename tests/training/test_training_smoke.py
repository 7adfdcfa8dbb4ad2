"""The whole training pipeline, end to end, on a handful of real slices for one short epoch."""

from dataclasses import replace

import numpy as np

from ich_viewer.segmentation.engine import SegmentationEngine
from ich_viewer.segmentation.model_file import write_manifest
from ich_viewer.training.ct_ich import read_patients
from ich_viewer.training.dataset import BatchSampler, PreparedPatient, prepare_patient
from ich_viewer.training.evaluate import score_patient, summarise
from ich_viewer.training.hard_examples import HardExample, find_hard_examples, mistake_map
from ich_viewer.training.train import OURS, train_run


def test_train_one_short_epoch_then_resume_then_segment(ct_ich_dir, tmp_path):
    patients = [p for p in read_patients(ct_ich_dir) if p.patient in (66, 55)]
    prepared = []
    for p in patients:  # a handful of slices: keep 6 of each patient
        full = prepare_patient(p)
        full.images, full.masks, full.bone = full.images[10:16], full.masks[10:16], full.bone[10:16]
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

    write_manifest(weights, "test", "0", "two patients, one short epoch")
    engine = SegmentationEngine(weights, force_cpu=True)
    outcome = score_patient(engine, patients[0], fold=0)
    assert outcome.slice_scores.shape == (len(patients[0].slice_numbers),)
    assert np.all((outcome.slice_scores >= 0) & (outcome.slice_scores <= 1))
    summary = summarise([outcome, score_patient(engine, patients[1], fold=0)])
    assert summary["n_patients"] == 2 and summary["n_patients_with_hemorrhage"] == 1


def test_refinement_starts_from_a_network_and_trains_on_its_mistakes(ct_ich_dir, tmp_path):
    import keras

    patient = next(p for p in read_patients(ct_ich_dir) if p.patient == 66)
    prepared = prepare_patient(patient)
    prepared.images, prepared.masks, prepared.bone = (prepared.images[14:20], prepared.masks[14:20],
                                                       prepared.bone[14:20])
    config = replace(OURS, epochs=1, steps_per_epoch=1, batch_size=3, crop=64)
    start = train_run(config, [prepared], tmp_path / "first", log=lambda m: None)
    network = keras.models.load_model(start, compile=False)

    found = find_hard_examples(network, config, [prepared])
    assert found and all(h.mistakes.sum() >= 6 for h in found)
    refined = train_run(config, [prepared], tmp_path / "refined", log=lambda m: None,
                        start_from=start, hard_examples=found)
    assert refined.exists()
    before = keras.models.load_model(start, compile=False).get_weights()
    after = keras.models.load_model(refined, compile=False).get_weights()
    assert len(before) == len(after) and any(not np.allclose(b, a) for b, a in zip(before, after))


def test_sampler_crops_hard_examples_around_the_mistake():
    images = np.zeros((2, 64, 64), np.float32)
    images[1, 4:10, 50:58] = 0.7  # the bright thing the network took for a bleed
    masks = np.zeros((2, 64, 64), bool)
    masks[0, 30:34, 30:34] = True
    patient = PreparedPatient(1, images, masks)
    false_outline = images[1] > 0
    sampler = BatchSampler([patient], batch_size=3, crop=24, channels=4, augment=False, seed=1,
                           input_size=64, hard_examples=[HardExample(0, 1, false_outline)])
    in_view = 0
    for _ in range(40):
        x, y = sampler.batch()
        assert not y[1].any()  # slot 1 never shows a bleed: a hard example or a look-alike
        in_view += x[1, ..., 1].max() == np.float32(0.7)  # middle channel: the slice itself
    assert in_view >= 12  # half the time the hard example, centred on it 80% of those


def test_sampler_shows_bone_and_the_lowest_slices_without_hemorrhage():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 0.5, (10, 64, 64)).astype(np.float32)
    images[:, 2:6, 2:6] = 1.0  # bone, in the corner
    masks = np.zeros((10, 64, 64), bool)
    masks[5, 30:40, 30:40] = True
    sampler = BatchSampler([PreparedPatient(1, images, masks)], batch_size=8, crop=24, channels=4,
                           augment=False, seed=3, input_size=64)
    bone_in_view = sum(sampler.batch()[0][slot, ..., 1].max() == 1.0
                       for _ in range(20) for slot in BatchSampler.LOOKALIKE_SLOTS)
    assert bone_in_view >= 24  # of 40: centred on bone 80% of the time
    assert len(sampler.low_negative) == 3  # slices 0, 1, 2 of 10


def test_mistakes_are_false_outlines_and_missed_bleeds_not_border_disagreement():
    reference = np.zeros((64, 64), bool)
    reference[20:30, 20:30] = True  # outlined 2 px too wide below: border disagreement only
    reference[2:6, 2:6] = True  # missed
    probability = np.zeros((64, 64), np.float32)
    probability[18:32, 18:32] = 0.9
    probability[50:56, 50:56] = 0.9  # a false bleed
    wrong = mistake_map(probability, reference)
    assert wrong[50:56, 50:56].all() and wrong[2:6, 2:6].all() and wrong.sum() == 36 + 16
