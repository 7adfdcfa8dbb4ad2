"""How DICOM values and figures are written in the report."""

from __future__ import annotations

import json

import numpy as np

from ich_viewer.analysis import compute_findings
from ich_viewer.report import formatting as fmt
from ich_viewer.report.validation import load_metrics, metric_rows
from tests.factories.synthetic_ct import hematoma_phantom, memory_dicom_study


def test_dicom_values_read_naturally():
    assert fmt.readable_name("DOE^JOHN^PAUL^DR") == "DOE, JOHN PAUL"
    assert fmt.readable_name("DOE") == "DOE"
    assert fmt.readable_date("20240211") == "2024-02-11"
    assert fmt.readable_date("2024") == "2024"  # malformed: shown as found
    assert fmt.format_sex("F") == "female" and fmt.format_sex("") == ""


def test_volumes_keep_two_significant_decimals_when_small():
    assert fmt.format_ml(0.754) == "0.75 mL"
    assert fmt.format_ml(12.34) == "12.3 mL"


def test_slice_ranges_collapse_runs():
    study = memory_dicom_study(hematoma_phantom(n_slices=8, size=16)[0])
    assert fmt.slice_ranges(study, [1, 2, 3, 5, 7]) == "2–4, 6, 8"


def test_metrics_are_read_defensively(tmp_path):
    assert load_metrics(tmp_path / "metrics.json") == (None, "not available (metrics.json not found)")
    (tmp_path / "metrics.json").write_text("{not json")
    assert load_metrics(tmp_path / "metrics.json")[0] is None
    (tmp_path / "metrics.json").write_text(json.dumps({
        "slice_auc": {"mean": 0.95, "ci95": [0.93, 0.97]},
        "per_patient_dice_mean": 0.7123,
        "n_patients": 82,
        "patient_sensitivity": None,
        "weird": {"nested": [1, 2]},
        "extra_score": 0.5,
    }))
    metrics, note = load_metrics(tmp_path / "metrics.json")
    assert note == ""
    assert metric_rows(metrics) == [
        ("Dice per patient (mean)", "0.712"),
        ("Slice-level AUC (hemorrhage vs none)", "0.950 (95% CI 0.930–0.970)"),
        ("Patients evaluated", "82"),
        ("extra score", "0.500"),
    ]


def test_detection_says_when_the_reader_erased_the_outline():
    scores = np.array([0.1, 0.9])
    outlined = np.zeros((2, 4, 4), bool)
    outlined[1, 1:3, 1:3] = True
    kept = compute_findings(outlined, None, slice_scores=scores)
    erased = compute_findings(np.zeros_like(outlined), None, slice_scores=scores)
    assert fmt.detection_text(kept) == "Detected: confidence high (score 0.90, threshold 0.50)"
    assert fmt.detection_text(erased) == ("Detected: confidence high (score 0.90, threshold 0.50); "
                                          "the accepted mask is empty")


def test_confidence_in_words_never_sounds_like_an_all_clear():
    assert fmt.confidence_words(0.95, 0.5) == "high"
    assert fmt.confidence_words(0.6, 0.5) == "moderate"
    assert fmt.confidence_words(0.3, 0.5) == "low (borderline)"
    assert fmt.confidence_words(0.05, 0.5) == "very low"
    negative = compute_findings(np.zeros((2, 4, 4), bool), None, slice_scores=np.array([0.05, 0.1]))
    assert fmt.detection_text(negative) == "Not detected: confidence very low (score 0.10, threshold 0.50)"
    assert "does not rule hemorrhage out" in fmt.MISSED_BLEEDS_NOTICE
