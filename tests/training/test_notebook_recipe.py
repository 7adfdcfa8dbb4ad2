"""The reference notebook's recipe: its contrast step, balancing, split, and a short run of each network."""

import json
from dataclasses import replace

import numpy as np
import pytest

from ich_viewer.segmentation.engine import SegmentationEngine
from ich_viewer.segmentation.preprocessing import equalise_and_stretch
from ich_viewer.training import notebook_recipe as recipe
from ich_viewer.training.ct_ich import read_patients
from ich_viewer.training.evaluate import score_patient


def _slices(n=4, size=64, seed=0):
    """Head-like test slices: a dark frame around a disc of mid grey with a brighter spot."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 2.5) ** 2
    images = np.where(disc, 0.4, 0.0) + rng.normal(0, 0.05, (n, size, size))
    images[:, 20:28, 20:28] += 0.3
    return np.clip(images, 0, 1).astype(np.float32)


def test_equalisation_then_stretch_fills_the_range_and_keeps_the_order_of_grey_levels():
    images = _slices()
    out = equalise_and_stretch(images)
    assert out.shape == images.shape and out.dtype == np.float32
    for before, after in zip(images, out):
        # The 2nd-98th percentile is stretched to 0-1: at least 2% of pixels at each end.
        assert (after <= 0).mean() >= 0.02 and (after >= 1).mean() >= 0.02
        order = np.argsort(before.ravel(), kind="stable")
        assert np.all(np.diff(after.ravel()[order]) >= -1e-6)  # equalisation never swaps two grey levels
    # The brighter spot stays brighter than the disc around it.
    assert out[:, 22:26, 22:26].mean() > out[:, 40:44, 30:34].mean()


def _pool(n_positive=2, n_negative=6, size=32):
    images = _slices(n_positive + n_negative, size)
    masks = np.zeros(images.shape, bool)
    masks[:n_positive, 10:16, 10:16] = True
    n = len(images)
    return recipe.SlicePool(images, masks, np.repeat([1, 2], n // 2), np.arange(n), np.zeros(n, bool))


def test_balancing_adds_augmented_hemorrhage_slices_until_they_equal_the_normal_ones():
    pool = _pool(n_positive=2, n_negative=6)
    balanced = recipe.balanced(pool)
    has_hemorrhage = balanced.masks.any(axis=(1, 2))
    assert has_hemorrhage.sum() == 6 and (~has_hemorrhage).sum() == 6
    assert balanced.augmented.sum() == 4 and not balanced.augmented[:8].any()
    copies = balanced.augmented
    assert set(balanced.source[copies]) <= {0, 1}  # copies of the hemorrhage slices only
    assert np.array_equal(balanced.patients[copies], pool.patients[balanced.source[copies]])


def test_one_transform_moves_a_slice_and_its_mask_together():
    rng = np.random.default_rng(3)
    mask = np.zeros((40, 40), bool)
    mask[5:15, 25:35] = True  # off centre, so flips and rotations move it
    for _ in range(5):
        image, moved = recipe.transformed(mask.astype(np.float32), mask, rng)
        assert np.array_equal(image >= 0.5, moved)


def test_the_split_is_80_20_then_80_20_and_names_the_same_original_test_slices():
    pool = _pool(n_positive=4, n_negative=16)
    data = recipe.notebook_data(pool)
    n_pool = 32  # 16 normal slices and 16 with hemorrhage after balancing
    assert len(data.test) == round(0.2 * n_pool)
    assert len(data.train) + len(data.validation) == n_pool - len(data.test)
    assert len(data.validation) == round(0.2 * (n_pool - len(data.test)))
    _, test_originals = recipe.original_split(pool.masks.any(axis=(1, 2)))
    assert sorted(data.test.source[~data.test.augmented]) == sorted(test_originals)


def test_a_fold_run_never_sees_its_held_out_patients():
    pool = _pool(n_positive=4, n_negative=16)
    data = recipe.notebook_data(pool, held_out={2})
    assert data.test is None
    assert 2 not in set(data.train.patients) | set(data.validation.patients)


@pytest.mark.parametrize("config", [recipe.NOTEBOOK_UNET, recipe.NOTEBOOK_TWO_BRANCH], ids=lambda c: c.architecture)
def test_each_network_trains_resumes_and_runs_in_the_engine(config, ct_ich_dir, tmp_path):
    patient = next(p for p in read_patients(ct_ich_dir) if p.patient == 66)
    pool = recipe.prepare_patient(patient).subset(range(14, 22))
    data = recipe.NotebookData(pool.subset(range(6)), pool.subset(range(6, 8)), None)
    run_dir = tmp_path / config.architecture
    quick = replace(config, batch_size=3)

    # A budget too small for more than one epoch; then a larger one: the run goes on from its checkpoint.
    recipe.train_notebook_run(replace(quick, budget_minutes=1e-6), data, run_dir, log=lambda m: None)
    state = json.loads((run_dir / "state.json").read_text())
    assert state["epochs_done"] == 1 and "budget" in state["stopped"] and (run_dir / "final.keras").exists()
    messages = []
    recipe.train_notebook_run(replace(quick, max_epochs=2), data, run_dir, log=messages.append)
    assert any("resuming after epoch 1" in m for m in messages)
    state = json.loads((run_dir / "state.json").read_text())
    assert state["epochs_done"] == 2 and state["stopped"] == "2 epochs"
    recipe.train_notebook_run(replace(quick, max_epochs=2), data, run_dir, log=messages.append)
    assert messages[-1].endswith("already finished")
    # A run that stopped for a reason that no longer holds (here more epochs allowed) goes on.
    recipe.train_notebook_run(replace(quick, max_epochs=3), data, run_dir, log=messages.append)
    assert any("resuming after epoch 2" in m for m in messages)
    summary = recipe.run_summary(run_dir)  # the validation curve, one line an epoch: loss and IoU
    assert len(summary["validation_loss"]) == 3 and all(0.0 <= iou <= 1.0 for iou in summary["validation_iou"])

    run = recipe.NotebookRun("test", quick, held_out_fold=0)
    recipe.write_run_manifest(run, run_dir)
    engine = SegmentationEngine(run_dir / "final.keras", force_cpu=True)
    outcome = score_patient(engine, patient, fold=0)
    assert engine.manifest.input.equalised and engine.manifest.input.size == recipe.NOTEBOOK_SIZE
    assert outcome.slice_scores.shape == (len(patient.slice_numbers),)
    assert "notebook's recipe" in engine.manifest.training


def test_a_run_whose_folder_is_gone_goes_on_from_the_network_that_shipped(ct_ich_dir, tmp_path):
    patient = next(p for p in read_patients(ct_ich_dir) if p.patient == 66)
    pool = recipe.prepare_patient(patient).subset(range(14, 20))
    data = recipe.NotebookData(pool.subset(range(4)), pool.subset(range(4, 6)), None)
    quick = replace(recipe.NOTEBOOK_TWO_BRANCH, base=4, batch_size=2, budget_minutes=1e-6)
    first = tmp_path / "first"
    shipped = recipe.train_notebook_run(quick, data, first, log=lambda m: None)  # stopped by its budget
    summary = recipe.run_summary(first)  # what baselines.json keeps of the run

    again = tmp_path / "again"  # a later session: only the shipped network and its summary are left
    recipe.continue_from_shipped(quick, again, shipped, summary)
    messages = []
    recipe.train_notebook_run(replace(quick, budget_minutes=10, max_epochs=2), data, again, log=messages.append)
    assert any("resuming after epoch 1" in m for m in messages)
    continued = recipe.run_summary(again)
    assert continued["epochs"] == 2 and continued["continued_after_epoch"] == 1
    assert continued["validation_loss"][0] == pytest.approx(summary["validation_loss"][0])
    run = recipe.NotebookRun("notebook_two_branch_net", quick)
    assert "continued in a later session after epoch 1" in recipe.training_description(run, again)
