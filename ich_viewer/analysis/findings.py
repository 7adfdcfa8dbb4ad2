"""What the hemorrhage mask means in numbers: volume, ABC/2, per-slice areas, detection.

Every physical figure is None when the voxel spacing is unknown (8-bit
images without spacing): a volume computed from a guessed spacing would look
exactly like a real one on the report, so we never make one up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ich_viewer.analysis.geometry import longest_axes_mm

# Kothari et al., Stroke 1996: a slice counts fully towards C when its
# hemorrhage area is at least 75 % of the largest, half when 25-75 %.
KOTHARI_FULL_SLICE = 0.75
KOTHARI_HALF_SLICE = 0.25


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
    volume_ml: float | None = None
    abc2_ml: float | None = None
    abc2_axes_mm: tuple[float, float, float] | None = None  # (A, B, C)
    dice_study: float | None = None  # NaN when mask and reference are both empty
    per_slice_dice: np.ndarray | None = None  # float64 (z,), NaN where both are empty
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
            "abc2_ml": self.abc2_ml,
            "abc2_axes_mm": list(self.abc2_axes_mm) if self.abc2_axes_mm else None,
            "largest_area_px": self.largest_area_px,
            "largest_area_cm2": self.largest_area_cm2,
            "largest_area_slice": self.largest_area_slice,
            "per_slice_area_px": self.per_slice_area_px.tolist(),
            "per_slice_area_cm2": _json_floats(self.per_slice_area_cm2),
            "dice_study": _json_float(self.dice_study),
            "per_slice_dice": _json_floats(self.per_slice_dice),
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


def kothari_slice_weights(per_slice_area: np.ndarray) -> np.ndarray:
    """How much each slice counts towards C: 1, 0.5 or 0 by its area relative to the largest."""
    largest = per_slice_area.max(initial=0)
    if largest == 0:
        return np.zeros(len(per_slice_area))
    ratio = per_slice_area / largest
    return np.select([ratio >= KOTHARI_FULL_SLICE, ratio >= KOTHARI_HALF_SLICE], [1.0, 0.5], 0.0)


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


def _abc2(mask, areas_px, largest_slice, spacing) -> tuple[float, tuple[float, float, float]]:
    """ABC/2 in mL and its (A, B, C) in mm, Kothari's bedside estimate of hematoma volume."""
    dz, dy, dx = spacing
    a_mm, b_mm = longest_axes_mm(mask[largest_slice], (dy, dx))
    c_mm = float(kothari_slice_weights(areas_px).sum()) * dz
    return a_mm * b_mm * c_mm / 2.0 / 1000.0, (a_mm, b_mm, c_mm)


def compute_findings(
    mask: np.ndarray,
    spacing_mm: tuple[float, float, float] | None,
    slice_scores: np.ndarray | None = None,
    detection_threshold: float = 0.5,
    reference_mask: np.ndarray | None = None,
) -> HemorrhageFindings:
    """Measure a bool (z, y, x) hemorrhage mask; spacing_mm is (z, y, x) or None if unknown."""
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
    if spacing is not None:
        _add_physical_measures(findings, mask, spacing)
    if reference_mask is not None:
        findings.dice_study = dice(mask, reference_mask)
        findings.per_slice_dice = per_slice_dice(mask, reference_mask)
    return findings


def _add_physical_measures(findings: HemorrhageFindings, mask: np.ndarray, spacing) -> None:
    dz, dy, dx = spacing
    pixel_area_cm2 = dy * dx / 100.0
    findings.per_slice_area_cm2 = findings.per_slice_area_px * pixel_area_cm2
    findings.largest_area_cm2 = findings.largest_area_px * pixel_area_cm2
    findings.volume_ml = findings.voxel_count * dz * dy * dx / 1000.0
    if findings.largest_area_slice is None:
        findings.abc2_ml, findings.abc2_axes_mm = 0.0, (0.0, 0.0, 0.0)
    else:
        findings.abc2_ml, findings.abc2_axes_mm = _abc2(
            mask, findings.per_slice_area_px, findings.largest_area_slice, spacing
        )
