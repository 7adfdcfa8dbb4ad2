"""Measurements of the hemorrhage mask: lesions, volume in mL, ABC/2 per lesion, per-slice areas, Dice.

numpy (and scipy for the lesions) only: no Qt, no TensorFlow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ich_viewer.analysis.edits import MaskEdits, compare_masks
from ich_viewer.analysis.findings import (
    HemorrhageFindings,
    compute_findings,
    dice,
    largest_slices,
    per_slice_dice,
    volume_limitation,
)
from ich_viewer.analysis.lesions import Lesion, LesionContext, find_lesions, lesion_region
from ich_viewer.analysis.measurements import higher_columns_side

if TYPE_CHECKING:
    from ich_viewer.segmentation.result import SegmentationResult
    from ich_viewer.study.model import Study


def compute_study_findings(
    study: Study, segmentation: SegmentationResult, mask: np.ndarray | None = None
) -> HemorrhageFindings:
    """Findings for a study's segmentation; pass mask to measure the reader's edited mask instead."""
    return compute_findings(
        segmentation.mask if mask is None else mask,
        study.spacing_mm,
        slice_scores=segmentation.slice_scores,
        detection_threshold=segmentation.model.detection_threshold,
        reference_mask=study.reference_mask,
        context=study_lesion_context(study),
    )


def study_lesion_context(study: Study) -> LesionContext:
    """HU, orientation and the volume rule of a study, for measuring its lesions."""
    note = None
    if study.spacing_mm is None:
        note = ("not available: pixel spacing not recorded in the DICOM headers" if study.is_hu
                else "not available: pixel spacing unknown (8-bit images)")
    else:
        note = volume_limitation(study.n_slices, study.spacing_mm, _slice_steps_mm(study))
    side = higher_columns_side(study.geometry)
    return LesionContext(study.spacing_mm, note, study.voxels if study.is_hu else None,
                         None if side is None else side == "left")


def _slice_steps_mm(study: Study) -> np.ndarray | None:
    """Distances between consecutive slices along their normal (DICOM positions), else None."""
    geometry = study.geometry
    if geometry is None or len(geometry.positions) != study.n_slices or study.n_slices < 2:
        return None
    row, column = np.array(geometry.orientation[:3]), np.array(geometry.orientation[3:])
    distances = np.asarray(geometry.positions, dtype=np.float64) @ np.cross(row, column)
    return np.abs(np.diff(distances))


__all__ = [
    "HemorrhageFindings",
    "Lesion",
    "LesionContext",
    "MaskEdits",
    "compare_masks",
    "compute_findings",
    "compute_study_findings",
    "dice",
    "find_lesions",
    "largest_slices",
    "lesion_region",
    "per_slice_dice",
    "study_lesion_context",
    "volume_limitation",
]
