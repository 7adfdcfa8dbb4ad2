"""Helpers shared by the GUI tests: synthetic studies, the running-QThread check.

A module of its own (not conftest) so that test files can import it by name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from PySide6.QtCore import QThread

from ich_viewer.study.model import Study, Units, Window

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
        warnings=["Slice 3 is missing (synthetic warning)"],
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


def running_qthreads(threads) -> list[QThread]:
    alive = []
    for ref in threads:
        thread = ref()
        try:
            if thread is not None and thread.isRunning():
                alive.append(thread)
        except RuntimeError:  # the C++ object is already gone: not running
            pass
    return alive
