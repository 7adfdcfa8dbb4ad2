"""The viewer tests' synthetic studies: a small HU head whose every voxel is known, an 8-bit one,
and "model" masks whose figures can be checked by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ich_viewer.study.model import Study, Units, Window
from ich_viewer.study.qc import QcKind, QcWarning

# The synthetic HU study: 20 slices of 96 rows x 128 columns, non-square pixels.
N_SLICES, N_ROWS, N_COLUMNS = 20, 96, 128
SPACING_MM = (5.0, 0.5, 0.25)
KNOWN_PIXEL = (7, 30, 40)  # (z, y, x)
KNOWN_HU = 45.0
DICOM_WINDOW = Window(35, 90)


def make_hu_study(**changes) -> Study:
    """A synthetic head: slice z holds HU z*10 everywhere, one known pixel, a square 'bleed'."""
    z = np.arange(N_SLICES, dtype=np.float32)[:, None, None]
    voxels = np.broadcast_to(z * 10, (N_SLICES, N_ROWS, N_COLUMNS)).copy()
    voxels[KNOWN_PIXEL] = KNOWN_HU
    mask = np.zeros(voxels.shape, bool)
    mask[5:12, 40:60, 50:80] = True
    fields = dict(
        voxels=voxels,
        units=Units.HU,
        spacing_mm=SPACING_MM,
        source=Path("/synthetic/hu"),
        description="Synthetic head CT",
        dicom_windows=[DICOM_WINDOW],
        reference_mask=mask,
        warnings=[QcWarning(QcKind.MISSING_SLICES, "Slice 3 is missing (synthetic warning)")],
        slice_labels=[str(100 + i) for i in range(N_SLICES)],
    )
    fields.update(changes)
    return Study(**fields)


def make_display_study(**changes) -> Study:
    voxels = np.full((6, 40, 50), 123, np.float32)
    fields = dict(voxels=voxels, units=Units.DISPLAY, spacing_mm=None,
                  source=Path("/synthetic/jpg"))
    fields.update(changes)
    return Study(**fields)


# -- a study whose "model" mask is known, for checking the figures by hand ------------------------
# Slices 6-9 hold 20 x 40 pixels each; slice 8 another 10 x 40 below: 4 slices, 3600 voxels.
MODEL_SLICES = (6, 7, 8, 9)
LARGEST_SLICE = 8


def known_model_mask() -> np.ndarray:
    mask = np.zeros((N_SLICES, N_ROWS, N_COLUMNS), bool)
    mask[6:10, 30:50, 40:80] = True
    mask[8, 50:60, 40:80] = True
    return mask


def known_mask(study: Study) -> np.ndarray:
    """The fake network's answer for the synthetic HU study."""
    return known_model_mask()


def reference_as_model(study: Study) -> np.ndarray:
    """A fake network that answers each study with its own reference mask."""
    return study.reference_mask.copy()
