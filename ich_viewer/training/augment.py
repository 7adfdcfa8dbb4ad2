"""Training augmentation: what other scanners, exporters and fields of view do to a slice.

CT-ICH is one hospital's JPGs: one window, one field of view, one JPEG
encoder. A network trained on them alone missed every bleed of a folder of
PNGs exported with another window and a smaller head in the frame. Each
sample is therefore drawn as another exporter might have written it:

- geometry: flips, rotation, and the head filling 50-115% of the frame
  (scale), off centre (shift), on a coarser grid (downsampled and back);
- the brain window: re-exported at a random window (level 20-80, width
  80-350 HU), quantised to 8 bits, and read back through the viewer's own
  to_unit_range; half of those reads go through an export window that is
  slightly wrong (level within +-8 HU, width within +-10%), which is what the
  viewer's window estimate can do; display gamma; JPEG re-encoding; noise;
- the bone window: mild contrast changes, and dropped (all zeros) in 30% of
  samples so the network also works on studies without one.

Inputs are (S, S, C) float32 in [0, 1]: brain channels first, bone last.
Targets (S, S, T) travel through the geometric steps only.
"""

from __future__ import annotations

import cv2
import numpy as np

from ich_viewer.segmentation.preprocessing import display_to_hu, in_window, to_unit_range
from ich_viewer.study.model import CT_ICH_BRAIN_WINDOW, Units, Window

BONE_DROPOUT = 0.3
# Version 2.0 re-exported 60% of samples and always misread the window (level
# +-10 HU, width +-15%): blood is told from brain by 30-50 HU, and its first-stage
# fold-0 Dice fell from 0.390 (version 1) to 0.339. Version 2.1 keeps the
# exporter's variety but misreads half as often and by less.
REEXPORTED = 0.5
MISREAD = 0.5


def augment(x: np.ndarray, targets: np.ndarray, rng: np.random.Generator,
            has_bone: bool) -> tuple[np.ndarray, np.ndarray]:
    x, targets = _geometry(x, targets, rng)
    brain_channels = x.shape[-1] - 1 if has_bone else x.shape[-1]
    x[..., :brain_channels] = _brain_window(x[..., :brain_channels], rng)
    if has_bone:
        x[..., -1] = _bone_window(x[..., -1], rng)
    return x, targets


def _geometry(x, targets, rng):
    size = x.shape[0]
    if rng.random() < 0.5:
        x, targets = x[:, ::-1], targets[:, ::-1]
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(-15, 15), rng.uniform(0.5, 1.15))
    matrix[:, 2] += rng.uniform(-0.08, 0.08, 2) * size
    x = _warp(x, matrix, size)
    targets = _warp(targets, matrix, size)
    if rng.random() < 0.3:  # a coarser reconstruction grid, or a smoothing exporter
        small = int(size * rng.uniform(0.5, 0.9))
        x = cv2.resize(cv2.resize(x, (small, small), interpolation=cv2.INTER_AREA), (size, size),
                       interpolation=cv2.INTER_LINEAR).reshape(size, size, -1)
    return x, targets


def _warp(image, matrix, size):
    warped = cv2.warpAffine(np.ascontiguousarray(image), matrix, (size, size), flags=cv2.INTER_LINEAR)
    return warped.reshape(size, size, -1)


def _brain_window(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < REEXPORTED:
        x = _reexported(x, rng)
    else:
        x = x * rng.uniform(0.9, 1.1) + rng.uniform(-0.05, 0.05)
    if rng.random() < 0.25:
        x = np.clip(x, 0, 1) ** rng.uniform(0.8, 1.25)
    if rng.random() < 0.3:
        x = _jpeg(x, int(rng.integers(40, 96)))
    x = x + rng.normal(0, rng.uniform(0, 0.02), x.shape)
    return np.clip(x, 0, 1).astype(np.float32)


def _reexported(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The slice exported at another window as 8 bits, then read back through a near-miss estimate.

    Read back by the viewer's own to_unit_range, saturated pixels included. (The
    version-2.0 networks were trained before this: they saw saturated pixels read at
    the window's edge.)
    """
    hu = display_to_hu(x * 255.0, CT_ICH_BRAIN_WINDOW)
    exported = Window(rng.uniform(20, 80), np.exp(rng.uniform(np.log(80), np.log(350))))
    grey = np.round(in_window(hu, exported) * 255)
    read = exported
    if rng.random() < MISREAD:
        read = Window(exported.level + np.clip(rng.normal(0, 4), -8, 8), exported.width * rng.uniform(0.9, 1.1))
    return to_unit_range(grey, Units.DISPLAY, read)


def _jpeg(x: np.ndarray, quality: int) -> np.ndarray:
    out = np.empty_like(x)
    for c in range(x.shape[-1]):
        grey = np.round(np.clip(x[..., c], 0, 1) * 255).astype(np.uint8)
        ok, data = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, quality])
        out[..., c] = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) / 255.0 if ok else x[..., c]
    return out


def _bone_window(bone: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < BONE_DROPOUT or not bone.any():
        return np.zeros_like(bone)
    bone = bone * rng.uniform(0.9, 1.1) + rng.uniform(-0.03, 0.03)
    return np.clip(bone + rng.normal(0, 0.01, bone.shape), 0, 1).astype(np.float32)
