"""The reader's measurements on a slice: a ruler in mm, an elliptical ROI's HU statistics, midline shift.

Midline shift, as neurosurgeons measure it on an axial slice: the reader draws the
ideal midline from the anterior to the posterior attachment of the falx, then
clicks the septum pellucidum; the shift is the septum's distance from that line.

Positions are image pixel coordinates as the slice view reports them: x = column,
y = row, pixel centres at +0.5. Sizes use the in-plane spacing (dy, dx) in mm;
without it (8-bit images of unknown size) a ruler reads in pixels and an ROI
gives no area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RULER, ELLIPSE, MIDLINE = "ruler", "ellipse", "midline"


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

    A ruler runs from start to end; an ellipse fills the box they span (as drawn by a drag);
    a midline shift's line runs from start (anterior falx) to end (posterior falx), and
    point is the septum pellucidum (None until the reader has clicked it).
    """

    kind: str
    z: int
    start: tuple[float, float]
    end: tuple[float, float]
    point: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "z": self.z, "start": list(self.start), "end": list(self.end),
                "point": None if self.point is None else list(self.point)}

    @classmethod
    def from_dict(cls, d: dict) -> Measurement:
        point = d.get("point")
        return cls(str(d["kind"]), int(d["z"]), tuple(map(float, d["start"])), tuple(map(float, d["end"])),
                   None if point is None else tuple(map(float, point)))


def higher_columns_side(geometry) -> str | None:
    """The patient's side towards higher image columns, from the DICOM orientation (LPS: +x is the
    patient's left); None without one."""
    if geometry is None:
        return None
    return "left" if geometry.orientation[0] > 0 else "right"


def foot_on_line(start, end, point) -> tuple[float, float]:
    """The point of the line start-end nearest to point (in image pixels, for drawing)."""
    ax, ay, bx, by = *start, *end
    length_sq = (bx - ax) ** 2 + (by - ay) ** 2
    t = 0.0 if length_sq == 0 else ((point[0] - ax) * (bx - ax) + (point[1] - ay) * (by - ay)) / length_sq
    return ax + t * (bx - ax), ay + t * (by - ay)


def ruler_length(start, end, spacing_yx: tuple[float, float] | None) -> float:
    """Length in mm (pixels when the spacing is unknown)."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    if spacing_yx is None:
        return math.hypot(dx, dy)
    return math.hypot(dx * spacing_yx[1], dy * spacing_yx[0])


def midline_shift(start, end, septum, spacing_yx: tuple[float, float] | None) -> tuple[float, int]:
    """The septum's distance from the line start-end (mm; pixels when the spacing is unknown), and the
    side it lies on: +1 towards higher image columns (the patient's left in the usual axial
    orientation), -1 the other way, 0 on the line."""
    sy, sx = spacing_yx or (1.0, 1.0)
    ax, ay, bx, by = start[0] * sx, start[1] * sy, end[0] * sx, end[1] * sy
    px, py = septum[0] * sx, septum[1] * sy
    length = math.hypot(bx - ax, by - ay)
    if length == 0:
        return math.hypot(px - ax, py - ay), 0
    # The cross product of the line with the septum: signed area, over the base, is the distance.
    cross = ((bx - ax) * (py - ay) - (by - ay) * (px - ax)) / length
    # The same cross product for a step of +x: its sign is the "higher columns" side of the line.
    towards_x = -(by - ay)
    if abs(cross) < 1e-9 or towards_x == 0:
        return abs(cross), 0
    return abs(cross), 1 if (cross > 0) == (towards_x > 0) else -1


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
             is_hu: bool, slice_label: str, higher_columns: str | None = None) -> str:
    """One line for the list, the image and the report: 'Slice 12 · ruler 31.4 mm'.

    higher_columns: the patient's side towards higher image columns ("left" or "right", from the
    DICOM orientation), to say which way the midline is shifted; None when not known.
    """
    where = f"Slice {slice_label}"
    unit = "mm" if spacing_yx is not None else "px"
    if measurement.kind == MIDLINE:
        if measurement.point is None:
            return f"{where} · midline drawn: click the septum pellucidum"
        shift, side = midline_shift(measurement.start, measurement.end, measurement.point, spacing_yx)
        towards = _shift_side(side, higher_columns)
        return f"{where} · midline shift {shift:.1f} {unit}{towards}"
    if measurement.kind == RULER:
        length = ruler_length(measurement.start, measurement.end, spacing_yx)
        return f"{where} · ruler {length:.1f} {unit}"
    stats = roi_statistics(voxels[measurement.z], measurement.start, measurement.end, spacing_yx)
    if stats is None:
        return f"{where} · ROI (empty)"
    units = "HU" if is_hu else "(8-bit)"
    area = f"{stats.area_mm2 / 100:.2f} cm²" if stats.area_mm2 is not None else f"{stats.n_pixels} px"
    return (f"{where} · ROI {area}: mean {stats.mean:.1f} {units}, SD {stats.sd:.1f}, "
            f"min {stats.minimum:.0f}, max {stats.maximum:.0f}")


def _shift_side(side: int, higher_columns: str | None) -> str:
    if side == 0:
        return ""
    if higher_columns is None:
        return " (side not known)"
    other = {"left": "right", "right": "left"}[higher_columns]
    return f" to the patient's {higher_columns if side > 0 else other}"
