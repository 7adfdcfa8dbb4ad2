"""The conditions of the robustness table: a CT-ICH study as another exporter would give it.

Each condition turns a CT-ICH patient (brain and bone JPGs, known window,
its reference masks) into the study the viewer would get from elsewhere:

- re-windowed: the brain JPG re-exported at another display window as 8 bits,
  with no known window, so the viewer must estimate the window from the
  images (as for any folder of PNGs); once with the bone images kept, to
  measure the window alone, and once without, as such a folder usually comes;
- shrunk: the head at 60% or 80% of the frame (a wider field of view);
- resampled: 512 x 512 instead of 650 x 650;
- no bone window: the brain JPGs alone.

The reference masks undergo the same geometry, so Dice is always measured on
the grid the network was given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ich_viewer.segmentation.preprocessing import display_to_hu
from ich_viewer.study.export_window import estimate_export_window
from ich_viewer.study.model import CT_ICH_BONE_WINDOW, CT_ICH_BRAIN_WINDOW, Study, Window

Transform = Callable[[Study, np.ndarray], tuple[Study, np.ndarray]]


@dataclass(frozen=True)
class Condition:
    name: str
    description: str
    transform: Transform | None = None  # None: the study as it is
    with_bone: bool = True


def hounsfield_units(study: Study) -> np.ndarray:
    """A CT-ICH study's HU, as near as its JPGs give them.

    The brain JPG holds -20..100 HU; where it is black or white (air, fat, bone)
    the bone JPG (-900..2300 HU, 12.5 HU a grey level) tells how far beyond.
    Without it, a wider re-export could not show bone white as a real one does.
    """
    hu = display_to_hu(study.voxels, CT_ICH_BRAIN_WINDOW)
    if study.bone_voxels is None:
        return hu
    from_bone = display_to_hu(study.bone_voxels, CT_ICH_BONE_WINDOW)
    beyond = (study.voxels <= 2) | (study.voxels >= 253)  # CT-ICH air is 1, and JPEG noise
    has_bone_image = study.bone_voxels.reshape(len(hu), -1).any(axis=1)[:, None, None]
    return np.where(beyond & has_bone_image, from_bone, hu).astype(np.float32)


def rewindowed(window: Window) -> Transform:
    def transform(study: Study, reference: np.ndarray) -> tuple[Study, np.ndarray]:
        hu = hounsfield_units(study)
        grey = np.round(np.clip((hu - window.low) / window.width, 0, 1) * 255).astype(np.float32)
        estimate = estimate_export_window(grey)
        exported = replace(study, voxels=grey, export_window=estimate.window, export_window_note=estimate.note)
        return exported, reference
    return transform


def _resize_stack(stack: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    return np.stack([cv2.resize(s, size[::-1], interpolation=interpolation) for s in stack])


def _in_frame(stack: np.ndarray, fraction: float, interpolation: int) -> np.ndarray:
    """The images shrunk to `fraction` of their size, centred in a frame of the old size (air around)."""
    rows, cols = stack.shape[1:]
    small = _resize_stack(stack, (round(rows * fraction), round(cols * fraction)), interpolation)
    out = np.zeros_like(stack)
    top, left = (rows - small.shape[1]) // 2, (cols - small.shape[2]) // 2
    out[:, top:top + small.shape[1], left:left + small.shape[2]] = small
    return out


def shrunk(fraction: float) -> Transform:
    def transform(study: Study, reference: np.ndarray) -> tuple[Study, np.ndarray]:
        bone = None if study.bone_voxels is None else _in_frame(study.bone_voxels, fraction, cv2.INTER_AREA)
        smaller = replace(study, voxels=_in_frame(study.voxels, fraction, cv2.INTER_AREA), bone_voxels=bone)
        mask = _in_frame(reference.astype(np.float32), fraction, cv2.INTER_AREA) >= 0.5
        return smaller, mask
    return transform


def resampled(size: int) -> Transform:
    def transform(study: Study, reference: np.ndarray) -> tuple[Study, np.ndarray]:
        shape = (size, size)
        bone = None if study.bone_voxels is None else _resize_stack(study.bone_voxels, shape, cv2.INTER_AREA)
        smaller = replace(study, voxels=_resize_stack(study.voxels, shape, cv2.INTER_AREA), bone_voxels=bone)
        mask = _resize_stack(reference.astype(np.float32), shape, cv2.INTER_AREA) >= 0.5
        return smaller, mask
    return transform


NATIVE = Condition("native", "CT-ICH JPGs as released (brain and bone windows, 650 x 650)")
CONDITIONS = [
    NATIVE,
    Condition("window_L30_W80", "brain images re-exported at L30/W80, window estimated", rewindowed(Window(30, 80))),
    Condition("window_L50_W150", "re-exported at L50/W150, window estimated", rewindowed(Window(50, 150))),
    Condition("window_L80_W250", "re-exported at L80/W250, window estimated", rewindowed(Window(80, 250))),
    Condition("head_at_80pct", "head shrunk to 80% of the frame", shrunk(0.8)),
    Condition("head_at_60pct", "head shrunk to 60% of the frame", shrunk(0.6)),
    Condition("resampled_512", "resampled to 512 x 512", resampled(512)),
    Condition("no_bone_window", "brain window only (no bone images)", with_bone=False),
    Condition("window_L50_W150_no_bone", "re-exported at L50/W150, window estimated, no bone images",
              rewindowed(Window(50, 150)), with_bone=False),
]
