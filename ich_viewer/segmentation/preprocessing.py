"""The one way a Study slice becomes network input, for training and inference alike.

The network sees the CT-ICH brain window (level 40, width 120 HU) scaled to
[0, 1], resized to NETWORK_SIZE x NETWORK_SIZE, with the slice above and below
as extra channels (2.5D). CT-ICH JPGs are already that window rendered to
0..255, so an 8-bit display slice is simply divided by 255; a Hounsfield-unit
slice is windowed the same way. Checked on the HU subset: the windowed HU
slice matches the JPG of the same slice (mean absolute difference about
5 grey levels of 255, the JPEG noise), after a 90-degree rotation that the
subset's NIfTI export introduced.
"""

from __future__ import annotations

import cv2
import numpy as np

from ich_viewer.study.model import CT_ICH_BRAIN_WINDOW, Units

NETWORK_SIZE = 256
CONTEXT_SLICES = 1  # neighbours on each side given as channels
N_CHANNELS = 2 * CONTEXT_SLICES + 1


def to_unit_range(slices: np.ndarray, units: Units) -> np.ndarray:
    """Map HU or 8-bit display values to the brain window in [0, 1] (float32)."""
    slices = np.asarray(slices, dtype=np.float32)
    if units is Units.HU:
        window = CT_ICH_BRAIN_WINDOW
        return np.clip((slices - window.low) / window.width, 0.0, 1.0)
    return np.clip(slices / 255.0, 0.0, 1.0)


def resize_slices(slices: np.ndarray, size: int) -> np.ndarray:
    """Resize a (z, y, x) stack to (z, size, size); area averaging when shrinking."""
    out = np.empty((slices.shape[0], size, size), dtype=np.float32)
    for i, image in enumerate(slices):
        shrinking = image.shape[0] > size or image.shape[1] > size
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        out[i] = cv2.resize(image, (size, size), interpolation=interpolation)
    return out


def stack_neighbours(slices: np.ndarray, indices=None) -> np.ndarray:
    """(z, h, w) -> (n, h, w, N_CHANNELS): each slice with its neighbours, edges repeated."""
    z = slices.shape[0]
    indices = range(z) if indices is None else indices
    offsets = range(-CONTEXT_SLICES, CONTEXT_SLICES + 1)
    return np.stack(
        [np.stack([slices[min(max(i + o, 0), z - 1)] for o in offsets], axis=-1) for i in indices]
    )


def network_view(voxels: np.ndarray, units: Units, size: int = NETWORK_SIZE) -> np.ndarray:
    """A study (z, y, x) as the network sees it: (z, size, size) in [0, 1].

    Slice by slice, so a 300-slice study never needs a full-size float copy.
    """
    out = np.empty((voxels.shape[0], size, size), dtype=np.float32)
    for z in range(voxels.shape[0]):
        out[z] = resize_slices(to_unit_range(voxels[z:z + 1], units), size)[0]
    return out


def network_input(voxels: np.ndarray, units: Units, size: int = NETWORK_SIZE) -> np.ndarray:
    """A whole study (z, y, x) -> network input (z, size, size, N_CHANNELS) float32."""
    return stack_neighbours(network_view(voxels, units, size))


def to_study_grid(maps: np.ndarray, shape_yx: tuple[int, int]) -> np.ndarray:
    """Network-resolution maps (z, h, w) back to the study's (z, y, x) grid."""
    rows, cols = shape_yx
    out = np.empty((maps.shape[0], rows, cols), dtype=np.float32)
    for i, m in enumerate(maps):
        out[i] = cv2.resize(m.astype(np.float32), (cols, rows), interpolation=cv2.INTER_LINEAR)
    return out
