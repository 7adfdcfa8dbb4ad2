"""The accepted mask split into hematomas (lesions), each measured on its own.

A neurosurgeon asks for the volume of *a* hematoma and its ABC/2, not of
everything outlined in the head: one stray brush stroke elsewhere on the
same slice must not change them. So the mask is split into 3-D connected
components and every figure below is of one component alone.

Rules (stated here, quoted in the report's method section):
  - connectivity: 26-connected in 3-D (face, edge and corner neighbours,
    across adjacent slices too), so a bleed that shifts a pixel from one
    slice to the next stays one lesion;
  - minimum size: MIN_LESION_VOXELS; smaller specks are not listed as
    lesions but still count in the total volume (they are in the mask);
  - ABC/2 (Kothari et al., Stroke 1996) of one lesion: A = longest diameter
    on the lesion's slice of largest area, B = widest extent perpendicular
    to A on that slice, C = the lesion's slice count x slice spacing;
  - ABC/2 is "not valid" for a crescent (solidity on its largest slice below
    CRESCENT_SOLIDITY: the outline fills little of its convex hull) or a thin
    layer (B less than THIN_LAYER_RATIO x A): the shapes of subdural and
    other extra-axial collections, for which the ellipsoid model fails.

numpy and scipy (and OpenCV, through LesionsBySlice) only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ich_viewer.analysis.geometry import MM3_PER_ML, deepest_mm, longest_axes_mm, solidity, thickness_mm, voxel_ml
from ich_viewer.segmentation.postprocessing import LesionsBySlice, label_lesions

LESION_CONNECTIVITY = 26
MIN_LESION_VOXELS = 10
CRESCENT_SOLIDITY = 0.7
THIN_LAYER_RATIO = 0.2

CRESCENT_REASON = "not valid: crescent-shaped (extra-axial?), the ellipsoid model of ABC/2 does not apply"
THIN_REASON = "not valid: a thin layer (extra-axial?), the ellipsoid model of ABC/2 does not apply"


@dataclass(frozen=True)
class Lesion:
    """One 3-D connected hemorrhage; slices are 0-based indices, 'number' 1 is the largest."""

    number: int
    slices: list[int]
    voxel_count: int
    largest_area_px: int
    largest_area_slice: int
    seed: tuple[int, int, int]  # one of its voxels (z, y, x): finds the lesion again after edits
    side: str | None = None  # "left", "right", "midline"; None when the orientation is unknown
    volume_ml: float | None = None
    largest_area_cm2: float | None = None
    mean_hu: float | None = None
    abc2_ml: float | None = None
    abc2_axes_mm: tuple[float, float, float] | None = None  # (A, B, C)
    abc2_note: str | None = None  # why there is no ABC/2 (not valid, or no volume)
    solidity: float = 1.0
    max_thickness_mm: float | None = None  # in-plane, where it is thickest (geometry.thickness_mm)

    @property
    def abc2_valid(self) -> bool:
        return self.abc2_ml is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "slices": list(self.slices),
            "voxel_count": self.voxel_count,
            "volume_ml": self.volume_ml,
            "largest_area_px": self.largest_area_px,
            "largest_area_cm2": self.largest_area_cm2,
            "largest_area_slice": self.largest_area_slice,
            "side": self.side,
            "mean_hu": self.mean_hu,
            "abc2_ml": self.abc2_ml,
            "abc2_axes_mm": list(self.abc2_axes_mm) if self.abc2_axes_mm else None,
            "abc2_note": self.abc2_note,
            "solidity": round(self.solidity, 3),
            "max_thickness_mm": self.max_thickness_mm,
        }


@dataclass(frozen=True)
class LesionContext:
    """What besides the mask a lesion's figures need; every part may be unknown (None)."""

    spacing_mm: tuple[float, float, float] | None = None
    volume_note: str | None = None  # why volumes are not measured (too few slices, uneven spacing)
    hu_voxels: np.ndarray | None = None  # the CT in HU, for the mean HU (DICOM only)
    # True when image columns run towards the patient's left (DICOM row cosine +x in LPS).
    columns_to_patient_left: bool | None = None

    @property
    def volumes_measured(self) -> bool:
        return self.spacing_mm is not None and self.volume_note is None


def find_lesions(mask: np.ndarray, context: LesionContext | None = None) -> list[Lesion]:
    """The lesions of a mask, largest first (ties: the one starting on the earlier slice).

    Found and measured one slice at a time (LesionsBySlice): a long series never needs labels or
    a cut-out of a lesion as large as its grid.
    """
    context = context or LesionContext()
    found = LesionsBySlice(np.asarray(mask, bool))
    tallies = {number: _Tally(box, int(size), context)
               for number, (box, size) in enumerate(zip(found.boxes, found.sizes), start=1)
               if size >= MIN_LESION_VOXELS}
    for z in range(len(mask)):
        on_slice = found.on_slice(z).intersection(tallies)
        if on_slice:
            plane = found.plane(z)
            for number in on_slice:
                tallies[number].add(z, plane, number)
    measured = [tally.lesion() for tally in tallies.values()]
    measured.sort(key=lambda lesion: (-lesion.voxel_count, lesion.slices[0], lesion.seed))
    return [_numbered(lesion, n) for n, lesion in enumerate(measured, start=1)]


def lesion_region(mask: np.ndarray, seed: tuple[int, int, int]) -> np.ndarray:
    """The voxels of the lesion that contains seed (empty when seed is no longer in the mask)."""
    labels, _ = label_lesions(mask)
    label = labels[seed]
    return labels == label if label else np.zeros(mask.shape, bool)


def _numbered(lesion: Lesion, number: int) -> Lesion:
    return Lesion(**{**lesion.__dict__, "number": number})


class _Tally:
    """One lesion's figures, gathered slice by slice (in slice order) within its bounding box."""

    def __init__(self, box: tuple[slice, slice, slice], voxel_count: int, context: LesionContext):
        self.box, self.context = box, context
        self.areas = np.zeros(box[0].stop - box[0].start, np.int64)
        self.per_column = np.zeros(box[2].stop - box[2].start, np.int64)  # voxels in each column of the box
        self.seed: tuple[int, int, int] | None = None  # its first voxel in (z, y, x) order
        self.largest: np.ndarray | None = None  # its outline on its slice of largest area
        self.deepest_mm = 0.0  # for its thickness
        hu = context.hu_voxels
        self.hu_values = None if hu is None else np.empty(voxel_count, hu.dtype)  # in (z, y, x) order

    def add(self, z: int, plane: np.ndarray, number: int) -> None:
        """Slice z of the lesion, from the slice's voxels numbered by lesion."""
        _, rows, columns = self.box
        outline = plane[rows, columns] == number
        area, done = int(np.count_nonzero(outline)), int(self.areas.sum())
        if self.seed is None:
            y, x = np.unravel_index(int(np.argmax(outline)), outline.shape)
            self.seed = (z, rows.start + int(y), columns.start + int(x))
        if area > self.areas.max():  # the first slice of largest area
            self.largest = outline
        self.areas[z - self.box[0].start] = area
        self.per_column += outline.sum(axis=0)
        if self.hu_values is not None:
            self.hu_values[done:done + area] = self.context.hu_voxels[z][rows, columns][outline]
        if self.context.spacing_mm is not None:
            self.deepest_mm = max(self.deepest_mm, deepest_mm(outline, self.context.spacing_mm[1:]))

    def lesion(self) -> Lesion:
        """The lesion's figures once all its slices are added (number 0 until the lesions are ranked)."""
        context, z0 = self.context, self.box[0].start
        local_z = int(np.argmax(self.areas))
        lesion = dict(
            number=0,
            slices=[int(z0 + z) for z in np.flatnonzero(self.areas)],
            voxel_count=int(self.areas.sum()),
            largest_area_px=int(self.areas[local_z]),
            largest_area_slice=z0 + local_z,
            seed=self.seed,
            side=_side(self.per_column, self.box[2].start, context),
            solidity=solidity(self.largest),
        )
        if self.hu_values is not None:
            lesion["mean_hu"] = float(self.hu_values.mean())
        if context.spacing_mm is not None:
            lesion.update(_physical(lesion, self.largest, self.deepest_mm, context))
        return Lesion(**lesion)


def _physical(lesion: dict, largest_slice: np.ndarray, deepest: float, context: LesionContext) -> dict:
    dz, dy, dx = context.spacing_mm
    figures: dict[str, Any] = {"largest_area_cm2": lesion["largest_area_px"] * dy * dx / 100.0,
                               "max_thickness_mm": thickness_mm(deepest, (dy, dx))}
    if not context.volumes_measured:
        figures["abc2_note"] = context.volume_note
        return figures
    figures["volume_ml"] = lesion["voxel_count"] * voxel_ml(context.spacing_mm)
    a_mm, b_mm = longest_axes_mm(largest_slice, (dy, dx))
    c_mm = len(lesion["slices"]) * dz
    note = _abc2_not_valid(lesion["solidity"], a_mm, b_mm)
    if note is None:
        figures["abc2_ml"] = a_mm * b_mm * c_mm / 2.0 / MM3_PER_ML
    figures["abc2_axes_mm"] = (a_mm, b_mm, c_mm)  # kept when not valid: the reader may ask why
    figures["abc2_note"] = note
    return figures


def _abc2_not_valid(outline_solidity: float, a_mm: float, b_mm: float) -> str | None:
    if outline_solidity < CRESCENT_SOLIDITY:
        return CRESCENT_REASON
    if a_mm > 0 and b_mm < THIN_LAYER_RATIO * a_mm:
        return THIN_REASON
    return None


def _side(per_column: np.ndarray, x0: int, context: LesionContext) -> str | None:
    """Left / right of the head's midline, from where the lesion's voxels lie across the columns
    (per_column: its voxels in each column from x0).

    Only when the orientation is known (DICOM): 8-bit images do not say which
    side of the picture is the patient's left, and a wrong side is worse than none.
    """
    if context.columns_to_patient_left is None or context.hu_voxels is None:
        return None
    midline = _head_midline(context.hu_voxels)
    towards_higher = float(per_column[np.arange(x0, x0 + per_column.size) > midline].sum() / per_column.sum())
    if 0.2 < towards_higher < 0.8:
        return "midline"  # a fifth or more of it on each side
    higher_is_left = context.columns_to_patient_left
    return "left" if (towards_higher >= 0.8) == higher_is_left else "right"


HEAD_HU = -300  # above air, below fat: the head's outline on CT


def _head_midline(hu_voxels: np.ndarray) -> float:
    """The column half-way across the head (its widest extent over all slices)."""
    head = np.zeros(hu_voxels.shape[2], bool)
    for image in hu_voxels:  # slice by slice: a comparison of the whole series would be a quarter of its size
        head |= (image > HEAD_HU).any(axis=0)
    head_columns = np.flatnonzero(head)
    if head_columns.size == 0:
        return (hu_voxels.shape[2] - 1) / 2
    return (head_columns[0] + head_columns[-1]) / 2
