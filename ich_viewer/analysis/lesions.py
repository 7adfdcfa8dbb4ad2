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

numpy and scipy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ich_viewer.analysis.geometry import MM3_PER_ML, longest_axes_mm, max_thickness_mm, solidity, voxel_ml
from ich_viewer.segmentation.postprocessing import label_lesions

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
    max_thickness_mm: float | None = None  # in-plane, where it is thickest (geometry.max_thickness_mm)

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
    """The lesions of a mask, largest first (ties: the one starting on the earlier slice)."""
    from scipy import ndimage

    context = context or LesionContext()
    labels, _ = label_lesions(mask)
    measured = []
    for label, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        component = labels[box] == label
        if int(component.sum()) >= MIN_LESION_VOXELS:
            measured.append(_measure(component, box, context))
    measured.sort(key=lambda lesion: (-lesion.voxel_count, lesion.slices[0], lesion.seed))
    return [_numbered(lesion, n) for n, lesion in enumerate(measured, start=1)]


def lesion_region(mask: np.ndarray, seed: tuple[int, int, int]) -> np.ndarray:
    """The voxels of the lesion that contains seed (empty when seed is no longer in the mask)."""
    labels, _ = label_lesions(mask)
    label = labels[seed]
    return labels == label if label else np.zeros(mask.shape, bool)


def _numbered(lesion: Lesion, number: int) -> Lesion:
    return Lesion(**{**lesion.__dict__, "number": number})


def _measure(component: np.ndarray, box: tuple[slice, ...], context: LesionContext) -> Lesion:
    """Figures of one component, cut out of the mask by its bounding box."""
    z0, y0, x0 = (s.start for s in box)
    areas = component.sum(axis=(1, 2), dtype=np.int64)
    local_z = int(np.argmax(areas))
    largest = component[local_z]
    first = tuple(int(v) for v in np.argwhere(component)[0])
    lesion = dict(
        number=0,
        slices=[int(z0 + z) for z in np.flatnonzero(areas)],
        voxel_count=int(areas.sum()),
        largest_area_px=int(areas[local_z]),
        largest_area_slice=z0 + local_z,
        seed=(z0 + first[0], y0 + first[1], x0 + first[2]),
        side=_side(component, x0, context),
        solidity=solidity(largest),
    )
    if context.hu_voxels is not None:
        lesion["mean_hu"] = float(context.hu_voxels[box][component].mean())
    if context.spacing_mm is not None:
        lesion.update(_physical(lesion, component, largest, context))
    return Lesion(**lesion)


def _physical(lesion: dict, component: np.ndarray, largest_slice: np.ndarray, context: LesionContext) -> dict:
    dz, dy, dx = context.spacing_mm
    figures: dict[str, Any] = {"largest_area_cm2": lesion["largest_area_px"] * dy * dx / 100.0,
                               "max_thickness_mm": max_thickness_mm(component, (dy, dx))}
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


def _side(component: np.ndarray, x0: int, context: LesionContext) -> str | None:
    """Left / right of the head's midline, from where the lesion's voxels lie across the columns.

    Only when the orientation is known (DICOM): 8-bit images do not say which
    side of the picture is the patient's left, and a wrong side is worse than none.
    """
    if context.columns_to_patient_left is None or context.hu_voxels is None:
        return None
    midline = _head_midline(context.hu_voxels)
    columns = np.nonzero(component)[2] + x0
    towards_higher = float(np.mean(columns > midline))
    if 0.2 < towards_higher < 0.8:
        return "midline"  # a fifth or more of it on each side
    higher_is_left = context.columns_to_patient_left
    return "left" if (towards_higher >= 0.8) == higher_is_left else "right"


HEAD_HU = -300  # above air, below fat: the head's outline on CT


def _head_midline(hu_voxels: np.ndarray) -> float:
    """The column half-way across the head (its widest extent over all slices)."""
    head_columns = np.flatnonzero((hu_voxels > HEAD_HU).any(axis=(0, 1)))
    if head_columns.size == 0:
        return (hu_voxels.shape[2] - 1) / 2
    return (head_columns[0] + head_columns[-1]) / 2
