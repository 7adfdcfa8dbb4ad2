import math

import numpy as np
import pytest

from ich_viewer.training.ct_ich import read_patients
from ich_viewer.training.folds import N_FOLDS, load_folds, make_folds
from ich_viewer.training.metrics import PixelTally, dice, roc_auc, sensitivity_specificity


def test_stored_folds_put_every_patient_in_exactly_one_fold(ct_ich_dir):
    patients = read_patients(ct_ich_dir)
    folds = load_folds()
    assert sorted(folds) == sorted(p.patient for p in patients)  # each patient once, none extra
    assert set(folds.values()) == set(range(N_FOLDS))
    for fold in range(N_FOLDS):
        positives = [p for p in patients if folds[p.patient] == fold and p.has_hemorrhage]
        negatives = [p for p in patients if folds[p.patient] == fold and not p.has_hemorrhage]
        assert 7 <= len(positives) <= 8 and 9 <= len(negatives) <= 10


def test_stored_folds_are_the_seeded_folds(ct_ich_dir):
    patients = read_patients(ct_ich_dir)
    assert make_folds({p.patient: p.has_hemorrhage for p in patients}) == load_folds()


def test_reader_tolerates_the_missing_slices(ct_ich_dir):
    patients = {p.patient: p for p in read_patients(ct_ich_dir)}
    assert sum(len(p.slice_numbers) for p in patients.values()) == 2486
    assert patients[49].missing == [1] and 1 not in patients[49].slice_numbers
    assert sum(int(p.load_masks().any(axis=(1, 2)).sum()) for p in patients.values() if p.has_hemorrhage) == 318


def test_dice_of_known_overlap():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2] = True  # 8 pixels
    b[1:3] = True  # 8 pixels, 4 shared
    assert dice(a, b) == pytest.approx(0.5)
    assert math.isnan(dice(np.zeros(3, bool), np.zeros(3, bool)))


def test_auc_matches_pairwise_definition():
    rng = np.random.default_rng(1)
    scores = rng.random(200).round(2)  # ties on purpose
    labels = rng.random(200) < 0.3
    pos, neg = scores[labels], scores[~labels]
    pairwise = ((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg))
    assert roc_auc(scores, labels) == pytest.approx(pairwise)


def test_pixel_tally_confusion_and_iou():
    truth = np.array([[1, 1, 0, 0]], bool)
    prob = np.array([[0.9, 0.2, 0.7, 0.1]])
    tally = PixelTally()
    tally.add(prob, truth)
    s = tally.summary()
    assert s["confusion_matrix"] == {"tn": 1, "fp": 1, "fn": 1, "tp": 1}
    assert s["iou"] == pytest.approx(1 / 3)
    assert s["pixel_auc"] == pytest.approx(0.75)
    assert sensitivity_specificity([1, 0, 1, 0], [1, 1, 0, 0]) == (0.5, 0.5)


def test_pixel_auc_resolves_a_confident_networks_tiny_probabilities():
    # Most pixels far below 0.001, as from a trained network: bleeds at 1e-4 still rank above
    # background at 1e-7, and the streamed AUC must say so as the exact one does.
    rng = np.random.default_rng(0)
    truth = rng.random(200_000) < 0.01
    prob = np.where(truth, 10.0 ** rng.uniform(-5, 0, truth.size), 10.0 ** rng.uniform(-9, -2, truth.size))
    tally = PixelTally()
    tally.add(prob, truth)
    exact = roc_auc(prob, truth)
    assert exact > 0.8
    assert tally.summary()["pixel_auc"] == pytest.approx(exact, abs=1e-3)


def test_hyperdense_fraction_reads_hu_from_the_brain_window():
    from ich_viewer.training.evaluate import hyperdense_fraction

    # Brain window L40/W120: display 0..255 is -20..100 HU; 45 HU is display 138.1.
    images = np.array([[[106, 170, 138, 139]]], dtype=np.float32)  # 30, 60, 44.9 and 45.4 HU
    mask = np.ones_like(images, dtype=bool)
    assert hyperdense_fraction(images, mask) == 0.5
    assert math.isnan(hyperdense_fraction(images, np.zeros_like(mask)))


def test_model_card_shows_dice_by_reference_density(tmp_path):
    import json

    from ich_viewer import paths
    from ich_viewer.training.model_card import write_model_card

    metrics = json.loads((paths.models_dir() / "metrics.json").read_text())
    metrics["dice_by_reference_density"] = {
        "hyperdense_hu": 45.0, "spearman_fraction_vs_dice": 0.79,
        "mostly_hyperdense": {"mean": 0.5, "sd": 0.2, "median": 0.55, "n": 28},
        "mostly_not": {"mean": 0.04, "sd": 0.1, "median": 0.0, "n": 8},
    }
    card = write_model_card(metrics, tmp_path / "card.md").read_text()
    assert "| at least half its pixels ≥ 45 HU | 28 | 0.500 (0.550) |" in card
    assert "| more than half below 45 HU | 8 | 0.040 (0.000) |" in card
    assert "and the patient's Dice: 0.79." in card


def test_the_model_card_compares_ours_with_the_notebooks_networks_on_both_protocols():
    """The committed evaluation: one table with both protocols, the notebook's own figures beside ours."""
    import json

    from ich_viewer import paths

    baselines = json.loads((paths.models_dir() / "baselines.json").read_text())
    notebook, folds = baselines["notebook_protocol"], baselines["patient_folds"]
    assert {"notebook_reference_unet", "notebook_two_branch_net", "notebook_ich_unet25d"} <= set(notebook)
    assert {"reference_unet", "two_branch_net", "ich_unet25d"} <= set(folds)
    assert all(row["folds"] == [0, 1] for row in folds.values())
    card = (paths.models_dir() / "MODEL_CARD.md").read_text()
    for row in ("| Notebook U-Net |", "| Notebook two-branch |", "| Ours (ich_unet25d) |",
                "| Notebook U-Net, the notebook's report | random split | 0.94 | 0.32 |"):
        assert row in card
    for name in ("reference_unet", "two_branch_net"):
        assert f"| {name} |" in card  # its inference cost, measured in the same run as ours


def test_the_margins_take_one_run_of_ours_against_the_stronger_baseline_of_each_figure():
    from ich_viewer.training.model_card import _margins

    def pixels(auc, iou, f1):
        return {"original_slices": {"pixel_auc": auc, "iou": iou, "f1_hemorrhage": f1}}

    notebook = {"notebook_reference_unet": pixels(0.97, 0.20, 0.30),
                "notebook_two_branch_net": pixels(0.999, 0.60, 0.75),
                "notebook_ich_unet25d": pixels(0.998, 0.50, 0.90),  # best F1 and AUC, but not by IoU
                "notebook_pool_150_ich_unet25d": pixels(0.99, 0.65, 0.80)}
    folds = {"reference_unet": {"per_patient_dice_mean": 0.0, "slice_auc": 0.7, "folds": [0, 1]},
             "two_branch_net": {"per_patient_dice_mean": 0.05, "slice_auc": 0.6, "folds": [0, 1]},
             "ich_unet25d": {"per_patient_dice_mean": 0.4, "slice_auc": 0.9, "folds": [0, 1]}}
    table = "\n".join(_margins(notebook, folds))
    assert "150 epochs" in table.splitlines()[1]  # ours: the run best by IoU, for every figure
    assert "| pixel AUC | 0.990 | 0.999 (Notebook two-branch) | -0.009 |" in table
    assert "| IoU | 0.650 | 0.600 (Notebook two-branch) | +0.050 |" in table
    assert "| F1 hemorrhage | 0.800 | 0.750 (Notebook two-branch) | +0.050 |" in table
    assert "| Patient folds (0, 1) | slice AUC | 0.900 | 0.700 (Notebook U-Net) | +0.200 |" in table
