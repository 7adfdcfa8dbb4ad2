"""Measurements of the hemorrhage mask: volume in mL, ABC/2, per-slice areas, detection, Dice.

numpy only: no Qt, no TensorFlow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ich_viewer.analysis.edits import MaskEdits, compare_masks
from ich_viewer.analysis.findings import (
    HemorrhageFindings,
    compute_findings,
    dice,
    kothari_slice_weights,
    largest_slices,
    per_slice_dice,
)

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
    )


__all__ = [
    "HemorrhageFindings",
    "MaskEdits",
    "compare_masks",
    "compute_findings",
    "compute_study_findings",
    "dice",
    "kothari_slice_weights",
    "largest_slices",
    "per_slice_dice",
]
