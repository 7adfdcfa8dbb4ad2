"""Per-slice hemorrhage areas and volumes as CSV, for a spreadsheet or a registry.

One row per slice, then a "total" row. Column names are plain ASCII
(area_cm2, not cm²) so spreadsheet programs read them the same in any locale;
cells are empty, not zero, where a figure is unknown (no spacing, no reference).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from ich_viewer.analysis.findings import HemorrhageFindings
from ich_viewer.export.atomic import ensure_outside_study_folder, write_atomic
from ich_viewer.study.model import Study

COLUMNS = ("slice_index", "slice_label", "area_px", "area_cm2", "volume_ml", "reference_dice")


def _number(value: float | None, digits: int) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _slice_rows(study: Study, findings: HemorrhageFindings):
    slice_cm = findings.spacing_mm[0] / 10.0 if findings.spacing_mm else None
    for z, area_px in enumerate(findings.per_slice_area_px):
        area_cm2 = None if findings.per_slice_area_cm2 is None else float(findings.per_slice_area_cm2[z])
        volume_ml = None if area_cm2 is None else area_cm2 * slice_cm
        dice = None if findings.per_slice_dice is None else float(findings.per_slice_dice[z])
        label = study.slice_labels[z]
        yield [z, label, int(area_px), _number(area_cm2, 4), _number(volume_ml, 4), _number(dice, 4)]


def findings_csv_text(study: Study, findings: HemorrhageFindings) -> str:
    """The CSV as text: header, one row per slice, then the totals row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_slice_rows(study, findings))
    volume, agreement = _number(findings.volume_ml, 4), _number(findings.dice_study, 4)
    writer.writerow(["total", "", findings.voxel_count, "", volume, agreement])
    return buffer.getvalue()


def export_findings_csv(
    study: Study, findings: HemorrhageFindings, dest: Path | str, allow_study_folder: bool = False
) -> Path:
    """Write the per-slice CSV to dest atomically; returns dest."""
    ensure_outside_study_folder(dest, study.source, allow_study_folder)
    return write_atomic(dest, findings_csv_text(study, findings).encode("utf-8"))
