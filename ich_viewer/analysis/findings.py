"""What the hemorrhage mask means in numbers: lesions, volume, per-slice areas, detection.

Every physical figure is None when the voxel spacing is unknown (8-bit
images without spacing): a volume computed from a guessed spacing would look
exactly like a real one on the report, so we never make one up. Volumes are
also left out, with the reason, where they would not mean what they say:
fewer than MIN_SLICES_FOR_VOLUME slices, or slice spacing that varies by more
than SPACING_TOLERANCE (see volume_limitation). ABC/2 is measured per lesion
(analysis.lesions), never over the whole mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ich_viewer.analysis.geometry import voxel_ml
from ich_viewer.analysis.lesions import Lesion, LesionContext, find_lesions

# A volume needs the bleed's extent between slices: one or two slices give an
# mL figure that is mostly the slice spacing, so none is shown below this.
MIN_SLICES_FOR_VOLUME = 3
# Voxel count x one voxel volume assumes one spacing: beyond 10 % apart it is wrong.
SPACING_TOLERANCE = 0.10


@dataclass(eq=False)  # arrays inside: compare fields explicitly, not with ==
class HemorrhageFindings:
    """Measurements of one hemorrhage mask on one study; indices are 0-based slices."""

    detected: bool
    detection_score: float | None  # the highest slice score, None when no scores were given
    detection_threshold: float
    n_slices: int
    n_slices_involved: int
    affected_slices: list[int]
    voxel_count: int
    per_slice_area_px: np.ndarray  # int64 (z,)
    largest_area_px: int
    largest_area_slice: int | None  # None when the mask is empty
    spacing_mm: tuple[float, float, float] | None
    per_slice_area_cm2: np.ndarray | None = None  # float64 (z,)
    largest_area_cm2: float | None = None
    volume_ml: float | None = None  # all lesions (and specks) of the accepted mask
    volume_note: str | None = None  # why there is no volume although the spacing is known
    lesions: list[Lesion] = field(default_factory=list)  # largest first
    dice_study: float | None = None  # NaN when mask and reference are both empty
    per_slice_dice: np.ndarray | None = None  # float64 (z,), NaN where both are empty
    reference_voxel_count: int | None = None  # 0: the reference outlines no hemorrhage
    # The mask these numbers describe, so a report outlines exactly what it measured
    # (a reference, not a copy: recompute the findings after editing the mask).
    mask: np.ndarray | None = field(default=None, repr=False, compare=False)

    def key_slices(self, n: int = 6) -> list[int]:
        """The n slices with the largest hemorrhage area, in slice order."""
        return largest_slices(self.per_slice_area_px, n)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (findings.json): arrays as lists, NaN as None, no mask."""
        return {
            "detected": self.detected,
            "detection_score": self.detection_score,
            "detection_threshold": self.detection_threshold,
            "n_slices": self.n_slices,
            "n_slices_involved": self.n_slices_involved,
            "affected_slices": list(self.affected_slices),
            "voxel_count": self.voxel_count,
            "spacing_mm": list(self.spacing_mm) if self.spacing_mm else None,
            "volume_ml": self.volume_ml,
            "volume_note": self.volume_note,
            "lesions": [lesion.to_dict() for lesion in self.lesions],
            "largest_area_px": self.largest_area_px,
            "largest_area_cm2": self.largest_area_cm2,
            "largest_area_slice": self.largest_area_slice,
            "per_slice_area_px": self.per_slice_area_px.tolist(),
            "per_slice_area_cm2": _json_floats(self.per_slice_area_cm2),
            "dice_study": _json_float(self.dice_study),
            "per_slice_dice": _json_floats(self.per_slice_dice),
            "reference_voxel_count": self.reference_voxel_count,
        }


def _json_float(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _json_floats(values: np.ndarray | None) -> list[float | None] | None:
    return None if values is None else [_json_float(v) for v in values]


def largest_slices(per_slice_area: np.ndarray, n: int = 6) -> list[int]:
    """Indices of the n slices with the largest non-zero area, returned in slice order."""
    areas = np.asarray(per_slice_area)
    ranked = sorted(np.flatnonzero(areas), key=lambda z: (-areas[z], z))
    return sorted(int(z) for z in ranked[:n])


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap 2|A∩B| / (|A|+|B|); NaN when both are empty (nothing to agree on)."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare masks of shapes {a.shape} and {b.shape}")
    total = int(a.sum()) + int(b.sum())
    return float("nan") if total == 0 else 2.0 * int((a & b).sum()) / total


def per_slice_dice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dice of each (z) slice of two (z, y, x) masks; NaN where both slices are empty."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare masks of shapes {a.shape} and {b.shape}")
    overlap = (a & b).sum(axis=(1, 2)).astype(np.float64)
    total = (a.sum(axis=(1, 2)) + b.sum(axis=(1, 2))).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2.0 * overlap / total, np.nan)


def _validated_spacing(spacing_mm) -> tuple[float, float, float] | None:
    if spacing_mm is None:
        return None
    spacing = tuple(float(s) for s in spacing_mm)
    if len(spacing) != 3 or not all(math.isfinite(s) and s > 0 for s in spacing):
        raise ValueError(f"spacing_mm must be three positive (z, y, x) values, got {spacing_mm!r}")
    return spacing


def _detection(mask: np.ndarray, slice_scores, threshold: float) -> tuple[bool, float | None]:
    if slice_scores is None:
        return bool(mask.any()), None
    scores = np.asarray(slice_scores, dtype=np.float64)
    if scores.shape != (mask.shape[0],):
        raise ValueError(f"expected one slice score per slice ({mask.shape[0]}), got shape {scores.shape}")
    score = float(scores.max()) if scores.size else 0.0
    return score >= threshold, score


def compute_findings(
    mask: np.ndarray,
    spacing_mm: tuple[float, float, float] | None,
    slice_scores: np.ndarray | None = None,
    detection_threshold: float = 0.5,
    reference_mask: np.ndarray | None = None,
    context: LesionContext | None = None,
) -> HemorrhageFindings:
    """Measure a bool (z, y, x) hemorrhage mask; spacing_mm is (z, y, x) or None if unknown.

    context adds what the lesions need besides the mask (HU, orientation);
    its volume_note defaults to volume_limitation(n slices, spacing).
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 3:
        raise ValueError(f"mask must be (z, y, x), got shape {mask.shape}")
    spacing = _validated_spacing(spacing_mm)
    detected, score = _detection(mask, slice_scores, detection_threshold)
    areas_px = mask.sum(axis=(1, 2), dtype=np.int64)
    affected = [int(z) for z in np.flatnonzero(areas_px)]
    largest_slice = int(np.argmax(areas_px)) if affected else None
    findings = HemorrhageFindings(
        detected=detected,
        detection_score=score,
        detection_threshold=float(detection_threshold),
        n_slices=int(mask.shape[0]),
        n_slices_involved=len(affected),
        affected_slices=affected,
        voxel_count=int(areas_px.sum()),
        per_slice_area_px=areas_px,
        largest_area_px=int(areas_px.max(initial=0)),
        largest_area_slice=largest_slice,
        spacing_mm=spacing,
        mask=mask,
    )
    context = _lesion_context(context, spacing, mask.shape[0])
    findings.lesions = find_lesions(mask, context)
    findings.volume_note = context.volume_note
    if spacing is not None:
        _add_physical_measures(findings, spacing, context.volumes_measured)
    if reference_mask is not None:
        findings.dice_study = dice(mask, reference_mask)
        findings.per_slice_dice = per_slice_dice(mask, reference_mask)
        findings.reference_voxel_count = int(np.count_nonzero(reference_mask))
    return findings


def _lesion_context(context: LesionContext | None, spacing, n_slices: int) -> LesionContext:
    context = context or LesionContext()
    note = context.volume_note
    if note is None:
        note = volume_limitation(n_slices, spacing)
    return LesionContext(spacing, note, context.hu_voxels, context.columns_to_patient_left)


def volume_limitation(
    n_slices: int, spacing_mm, slice_steps_mm=None, *, min_slices: int = MIN_SLICES_FOR_VOLUME,
    tolerance: float = SPACING_TOLERANCE,
) -> str | None:
    """Why a volume in mL would mislead for this study, or None when it can be measured.

    slice_steps_mm are the distances between consecutive slices (DICOM
    positions), when known; they are uneven when the largest and smallest
    differ by more than `tolerance` of the median.
    """
    if spacing_mm is None:
        return "not available: voxel size unknown"
    if n_slices < min_slices:
        count = "a single slice" if n_slices == 1 else f"only {n_slices} slices"
        return (f"not measured: {count}; a volume needs at least {min_slices} slices to show the "
                "bleed's extent between them, else the figure is mostly the slice spacing")
    steps = np.asarray(slice_steps_mm if slice_steps_mm is not None else [], dtype=np.float64)
    if steps.size >= 2:
        median = float(np.median(steps))
        if median > 0 and (steps.max() - steps.min()) > tolerance * median:
            return (f"not measured: slice spacing uneven ({steps.min():.2g}–{steps.max():.2g} mm, "
                    f"more than {tolerance:.0%} apart), so voxel count × one voxel volume would be wrong")
    return None


def _add_physical_measures(findings: HemorrhageFindings, spacing, volumes_measured: bool) -> None:
    _, dy, dx = spacing
    pixel_area_cm2 = dy * dx / 100.0
    findings.per_slice_area_cm2 = findings.per_slice_area_px * pixel_area_cm2
    findings.largest_area_cm2 = findings.largest_area_px * pixel_area_cm2
    if volumes_measured:
        # Every voxel of the accepted mask: the lesions' volumes plus any specks too small to list.
        findings.volume_ml = findings.voxel_count * voxel_ml(spacing)
