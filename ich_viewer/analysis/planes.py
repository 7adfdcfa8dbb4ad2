"""The three planes of a (z, y, x) study: their pixels, their pixel size in mm, and patient coordinates.

Qt-free, so that what the reformatted views and their linked crosshair show
(which voxels a plane holds, how tall a slice is drawn, where a voxel lies in
the patient) is tested without a window.

A plane is one index along one volume axis: axial z (the slices as read),
coronal y (a row of every slice), sagittal x (a column of every slice). Its
pixels are a numpy view of the volume, never a copy. Drawn, an axial plane has
columns x and rows y; a coronal one columns x and rows z; a sagittal one
columns y and rows z.

Patient coordinates follow the DICOM geometry when the study has one
(ImagePositionPatient of each slice plus column and row steps along
ImageOrientationPatient: LPS millimetres, the scanner's frame); otherwise they
are voxel indices times the voxel size from the first voxel, or bare voxel
indices when the size is unknown (8-bit images).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from ich_viewer.analysis.annotations import EdgeLetters, direction_letters
from ich_viewer.study.model import Study


class Plane(str, Enum):
    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"


# The volume axes (0 z, 1 y, 2 x) of each plane's index, columns and rows: the index picks one
# plane along the first; columns run along the second, rows along the third.
PLANE_AXES = {Plane.AXIAL: (0, 2, 1), Plane.CORONAL: (1, 2, 0), Plane.SAGITTAL: (2, 1, 0)}
# Without a voxel size (8-bit images) a reformat is drawn with each slice this many pixels
# tall, and says so: CT-ICH's 5 mm slices of about 0.5 mm pixels, closer to a head than 1:1.
ASSUMED_SLICE_STEP_PX = 10.0
UNKNOWN_SIZE_NOTE = (f"Voxel size unknown: slices drawn {ASSUMED_SLICE_STEP_PX:g} pixels apart (assumed). "
                     "Enter the voxel size for true proportions.")

PATIENT_FRAME = "patient LPS"  # DICOM: the scanner's patient coordinates
VOLUME_FRAME = "volume"  # voxel indices x voxel size, from the centre of the first voxel
VOXEL_FRAME = "voxels"  # voxel indices: the size is unknown


def plane_pixels(volume: np.ndarray, plane: Plane, index: int) -> np.ndarray:
    """Plane `index` of a (z, y, x) array as drawn (rows, columns): a view into it, not a copy."""
    where = [slice(None)] * 3
    where[PLANE_AXES[plane][0]] = index
    return volume[tuple(where)]


def plane_count(shape: tuple[int, ...], plane: Plane) -> int:
    """How many planes of this kind the volume holds."""
    return int(shape[PLANE_AXES[plane][0]])


def voxel_of_plane_point(plane: Plane, index: int, column: int, row: int) -> tuple[int, int, int]:
    """(z, y, x) of the pixel (column, row) of plane `index`."""
    voxel = [0, 0, 0]
    for axis, value in zip(PLANE_AXES[plane], (index, column, row)):
        voxel[axis] = int(value)
    return tuple(voxel)


def plane_point_of_voxel(plane: Plane, z: int, y: int, x: int) -> tuple[int, int, int]:
    """(plane index, column, row) at which a plane of this kind shows voxel (z, y, x)."""
    voxel = (z, y, x)
    return tuple(int(voxel[axis]) for axis in PLANE_AXES[plane])


def clamp_voxel(shape: tuple[int, ...], z: int, y: int, x: int) -> tuple[int, int, int]:
    """The nearest voxel inside a (z, y, x) volume."""
    return tuple(min(max(int(v), 0), n - 1) for v, n in zip((z, y, x), shape))


@dataclass(frozen=True)
class PlaneScale:
    """How large one pixel of a plane is drawn: column_mm wide, row_mm tall.

    Millimetres when the voxel size is known; otherwise image pixels with the
    slice step assumed (known False, and note says so for the reader).
    """

    column_mm: float
    row_mm: float
    known: bool
    note: str = ""


def plane_scale(spacing_mm: tuple[float, float, float] | None, plane: Plane) -> PlaneScale:
    """The drawn pixel size of a plane: (dx, dy) axial, (dx, dz) coronal, (dy, dz) sagittal."""
    known = spacing_mm is not None
    dz, dy, dx = spacing_mm if known else (ASSUMED_SLICE_STEP_PX, 1.0, 1.0)
    note = "" if known or plane is Plane.AXIAL else UNKNOWN_SIZE_NOTE
    sizes = {Plane.AXIAL: (dx, dy), Plane.CORONAL: (dx, dz), Plane.SAGITTAL: (dy, dz)}[plane]
    return PlaneScale(float(sizes[0]), float(sizes[1]), known, note)


def _geometry_usable(study: Study) -> bool:
    geometry = study.geometry
    return geometry is not None and len(geometry.positions) == study.n_slices and study.spacing_mm is not None


def slices_ascend_to_head(study: Study) -> bool:
    """Whether slice z+1 lies towards the head: then a reformat draws slice 0 at the bottom.

    DICOM says so through the positions (LPS +z is the head); image folders
    give no geometry, and their slices are taken in file order, which runs
    from the skull base up in CT-ICH.
    """
    if not _geometry_usable(study) or study.n_slices < 2:
        return True
    positions = np.asarray(study.geometry.positions, float)
    return bool(positions[-1, 2] >= positions[0, 2])


def _slice_step_direction(study: Study) -> np.ndarray | None:
    if not _geometry_usable(study) or study.n_slices < 2:
        return None
    positions = np.asarray(study.geometry.positions, float)
    step = positions[-1] - positions[0]
    norm = float(np.linalg.norm(step))
    return step / norm if norm > 0 else None


def plane_edge_letters(study: Study, plane: Plane) -> EdgeLetters | None:
    """The patient direction at each edge of a reformat as drawn; None without DICOM geometry.

    Columns run along the row cosines (coronal) or the column cosines
    (sagittal); rows run along the slice step, drawn upwards when the slices
    ascend to the head (slices_ascend_to_head), downwards otherwise.
    """
    step = _slice_step_direction(study)
    if step is None or plane is Plane.AXIAL:
        return None
    orientation = np.asarray(study.geometry.orientation, float)
    across = orientation[:3] if plane is Plane.CORONAL else orientation[3:]
    up = step if slices_ascend_to_head(study) else -step
    return EdgeLetters(left=direction_letters(-across), right=direction_letters(across),
                       top=direction_letters(up), bottom=direction_letters(-up))


@dataclass(frozen=True)
class PatientPoint:
    """Where a voxel lies: (x, y, z) in the frame named (PATIENT_FRAME, VOLUME_FRAME or VOXEL_FRAME)."""

    xyz: tuple[float, float, float]
    frame: str

    def text(self) -> str:
        x, y, z = self.xyz
        if self.frame == VOXEL_FRAME:
            # As the axial view's probe reads a pixel (x 40, y 30), and the slice bar a slice (1-based).
            return f"x {x:.0f}, y {y:.0f}, slice {z + 1:.0f} (pixels: voxel size unknown)"
        where = "patient LPS" if self.frame == PATIENT_FRAME else "from the first voxel"
        return f"x {x:.1f}  y {y:.1f}  z {z:.1f} mm ({where})"


def patient_point(study: Study, z: int, y: int, x: int) -> PatientPoint:
    """The position of the centre of voxel (z, y, x): see the module docstring for the frames."""
    if _geometry_usable(study):
        geometry = study.geometry
        _, dy, dx = study.spacing_mm
        orientation = np.asarray(geometry.orientation, float)  # along a row (+x), then down a column (+y)
        position = np.asarray(geometry.positions[z], float) + x * dx * orientation[:3] + y * dy * orientation[3:]
        return PatientPoint(tuple(float(v) for v in position), PATIENT_FRAME)
    if study.spacing_mm is not None:
        dz, dy, dx = study.spacing_mm
        return PatientPoint((float(x * dx), float(y * dy), float(z * dz)), VOLUME_FRAME)
    return PatientPoint((float(x), float(y), float(z)), VOXEL_FRAME)
