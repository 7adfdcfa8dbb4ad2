"""The model's validation figures (models/metrics.json), read defensively.

The file is written by the training run and may be missing, partial or of an
older layout; the report shows whatever usable figures it finds and never
fails because of it.
"""

from __future__ import annotations

import json
from pathlib import Path

from ich_viewer import paths
from ich_viewer.report.formatting import format_metric

# Known keys first, with the names a radiologist expects; others follow as named in the file.
METRIC_LABELS = {
    "per_patient_dice_mean": "Dice per patient (mean)",
    "per_patient_dice_median": "Dice per patient (median)",
    "slice_auc": "Slice-level AUC (hemorrhage vs none)",
    "patient_sensitivity": "Patient-level sensitivity",
    "patient_specificity": "Patient-level specificity",
    "slice_sensitivity": "Slice-level sensitivity",
    "slice_specificity": "Slice-level specificity",
    "volume_bias_ml": "Volume bias (mL)",
    "n_patients": "Patients evaluated",
    "n_folds": "Cross-validation folds",
    "evaluation": "Evaluation",
    "dataset": "Data set",
}


def metrics_path() -> Path:
    return paths.models_dir() / "metrics.json"


def load_metrics(path: Path | None = None) -> tuple[dict | None, str]:
    """(metrics, note): the parsed file, or None and why it is not available."""
    path = path or metrics_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"not available ({path.name} not found)"
    except (OSError, ValueError) as error:
        return None, f"not available ({path.name} unreadable: {error.__class__.__name__})"
    if not isinstance(data, dict):
        return None, f"not available ({path.name} has an unexpected layout)"
    return data, ""


def metric_rows(metrics: dict) -> list[tuple[str, str]]:
    """(label, value) pairs of the usable figures: known keys in order, then the rest."""
    known = [key for key in METRIC_LABELS if key in metrics]
    ordered = known + sorted(key for key in metrics if key not in METRIC_LABELS)
    rows = []
    for key in ordered:
        text = format_metric(metrics[key])
        if text is not None:
            rows.append((METRIC_LABELS.get(key, key.replace("_", " ")), text))
    return rows
