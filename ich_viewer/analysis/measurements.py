"""The reader's measurements on a slice: a ruler in mm and an elliptical ROI's HU statistics.

Positions are image pixel coordinates as the slice view reports them: x = column,
y = row, pixel centres at +0.5. Sizes use the in-plane spacing (dy, dx) in mm;
without it (8-bit images of unknown size) a ruler reads in pixels and an ROI
gives no area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RULER, ELLIPSE = "ruler", "ellipse"


@dataclass(frozen=True)
class RoiStatistics:
    mean: float
    sd: float
    minimum: float
    maximum: float
    n_pixels: int
    area_mm2: float | None


@dataclass(frozen=True)
class Measurement:
    """One measurement the reader drew on slice z, between two image points.

    A ruler runs from start to end; an ellipse fills the box they span (as drawn by a drag).
    """

    kind: str
    z: int
    start: tuple[float, float]
    end: tuple[float, float]


def ruler_length(start, end, spacing_yx: tuple[float, float] | None) -> float:
    """Length in mm (pixels when the spacing is unknown)."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    if spacing_yx is None:
        return math.hypot(dx, dy)
    return math.hypot(dx * spacing_yx[1], dy * spacing_yx[0])


def ellipse_mask(shape: tuple[int, int], start, end) -> np.ndarray:
    """Pixels whose centre lies inside the ellipse inscribed in the box from start to end."""
    cx, cy = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
    rx, ry = abs(end[0] - start[0]) / 2, abs(end[1] - start[1]) / 2
    if rx <= 0 or ry <= 0:
        return np.zeros(shape, bool)
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return ((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2 <= 1.0


def roi_statistics(image: np.ndarray, start, end,
                   spacing_yx: tuple[float, float] | None) -> RoiStatistics | None:
    """Mean, SD, min, max of the pixels inside the ellipse, and its area; None when it holds none."""
    inside = image[ellipse_mask(image.shape, start, end)]
    if inside.size == 0:
        return None
    area = None if spacing_yx is None else float(inside.size * spacing_yx[0] * spacing_yx[1])
    return RoiStatistics(float(inside.mean()), float(inside.std()), float(inside.min()),
                         float(inside.max()), int(inside.size), area)


def describe(measurement: Measurement, voxels: np.ndarray, spacing_yx: tuple[float, float] | None,
             is_hu: bool, slice_label: str) -> str:
    """One line for the list, the image and the report: 'Slice 12 · ruler 31.4 mm'."""
    where = f"Slice {slice_label}"
    if measurement.kind == RULER:
        length = ruler_length(measurement.start, measurement.end, spacing_yx)
        unit = "mm" if spacing_yx is not None else "px"
        return f"{where} · ruler {length:.1f} {unit}"
    stats = roi_statistics(voxels[measurement.z], measurement.start, measurement.end, spacing_yx)
    if stats is None:
        return f"{where} · ROI (empty)"
    units = "HU" if is_hu else "(8-bit)"
    area = f"{stats.area_mm2 / 100:.2f} cm²" if stats.area_mm2 is not None else f"{stats.n_pixels} px"
    return (f"{where} · ROI {area}: mean {stats.mean:.1f} {units}, SD {stats.sd:.1f}, "
            f"min {stats.minimum:.0f}, max {stats.maximum:.0f}")
