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
from ich_viewer.atomic import ensure_outside_study_folder, write_atomic
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


def _csv_text(columns, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def _write_csv(study: Study, text: str, dest: Path | str, allow_study_folder: bool) -> Path:
    ensure_outside_study_folder(dest, study.source, allow_study_folder)
    return write_atomic(dest, text.encode("utf-8"))


def findings_csv_text(study: Study, findings: HemorrhageFindings) -> str:
    """The CSV as text: header, one row per slice, then the totals row."""
    volume, agreement = _number(findings.volume_ml, 4), _number(findings.dice_study, 4)
    total = ["total", "", findings.voxel_count, "", volume, agreement]
    return _csv_text(COLUMNS, [*_slice_rows(study, findings), total])


def export_findings_csv(
    study: Study, findings: HemorrhageFindings, dest: Path | str, allow_study_folder: bool = False
) -> Path:
    """Write the per-slice CSV to dest atomically; returns dest."""
    return _write_csv(study, findings_csv_text(study, findings), dest, allow_study_folder)


LESION_COLUMNS = ("lesion", "side", "first_slice_label", "last_slice_label", "n_slices", "voxels",
                  "volume_ml", "largest_area_cm2", "largest_area_slice_label", "max_thickness_mm", "mean_hu",
                  "abc2_ml", "abc2_a_mm", "abc2_b_mm", "abc2_c_mm", "abc2_note")


def _lesion_row(study: Study, lesion) -> list:
    labels = study.slice_labels
    axes = lesion.abc2_axes_mm or (None, None, None)
    return [lesion.number, lesion.side or "", labels[lesion.slices[0]], labels[lesion.slices[-1]],
            len(lesion.slices), lesion.voxel_count, _number(lesion.volume_ml, 4),
            _number(lesion.largest_area_cm2, 4), labels[lesion.largest_area_slice],
            _number(lesion.max_thickness_mm, 1), _number(lesion.mean_hu, 1), _number(lesion.abc2_ml, 4),
            *(_number(a, 2) for a in axes),
            lesion.abc2_note or ""]


def lesions_csv_text(study: Study, findings: HemorrhageFindings) -> str:
    """One row per lesion, largest first (the Findings panel's list), then the totals row."""
    total = ["total", "", "", "", findings.n_slices_involved, findings.voxel_count,
             _number(findings.volume_ml, 4)]
    total += [""] * (len(LESION_COLUMNS) - len(total) - 1) + [findings.volume_note or ""]
    return _csv_text(LESION_COLUMNS, [*(_lesion_row(study, lesion) for lesion in findings.lesions), total])


def export_lesions_csv(
    study: Study, findings: HemorrhageFindings, dest: Path | str, allow_study_folder: bool = False
) -> Path:
    """Write the per-lesion CSV to dest atomically; returns dest."""
    return _write_csv(study, lesions_csv_text(study, findings), dest, allow_study_folder)
