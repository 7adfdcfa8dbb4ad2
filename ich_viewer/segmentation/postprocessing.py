"""From the network's probability maps to a mask, per-slice scores and a study decision.

Two rules a radiologist takes for granted, applied after the network:

- Hemorrhage is intracranial: outlines outside the skull (scalp, face, neck
  soft tissue beside the bone) are dropped. The skull is found from the bone
  window (or, without one, from the saturated white of the brain window). A
  pixel is inside it when bone lies in at least 7 of the 8 directions around
  it: a flood fill from the border, tried first, leaked through the thin
  temporal squama and the orbits (the skull at network resolution is rarely a
  closed ring) and dropped 13% of the reference outlines of fold 0; the
  direction count keeps 99.9% of all CT-ICH reference pixels. The space is
  widened by a few pixels so blood pressed against the inner table and its
  partial volume are kept. A slice with no bone at all gets no outline.
- A finding is a lesion, not a pixel: outlines are grouped into 3-D
  connected lesions across neighbouring slices, and lesions smaller than
  Thresholds.min_lesion_px are dropped as noise. The study is positive when a
  lesion remains whose highest probability reaches the detection threshold.

Thresholds come from the network's manifest; they were fixed before
evaluation, not tuned on the test folds.
"""

from __future__ import annotations

import cv2
import numpy as np

from ich_viewer.segmentation.field_of_view import Square
from ich_viewer.segmentation.model_file import Thresholds
from ich_viewer.segmentation.preprocessing import to_study_grid

# Bone is above ~200 HU: 0.34 in the CT-ICH bone window (L700/W3200); without a bone
# window, the brain window's saturated white (about 98 HU and more) stands for it.
BONE_IN_BONE_WINDOW = 0.34
BONE_IN_BRAIN_WINDOW = 0.98
# In network pixels (about 1 mm on a 25 cm field of view): sutures and small gaps
# close; the space inside is then widened to keep blood along the inner table.
SKULL_CLOSING_PX = 5
INNER_TABLE_MARGIN_PX = 5
DIRECTIONS_INSIDE = 7  # of 8


def _disc(diameter: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter, diameter))


def skull(brain: np.ndarray, bone: np.ndarray | None) -> np.ndarray:
    """Bone pixels of one slice (uint8 0/1), from its bone window when it has one."""
    if bone is not None and bone.any():
        return (bone >= BONE_IN_BONE_WINDOW).astype(np.uint8)
    return (brain >= BONE_IN_BRAIN_WINDOW).astype(np.uint8)


def _bone_behind(barrier: np.ndarray) -> list[np.ndarray]:
    """For each of 4 directions (from left, right, top, bottom): bone lies that way (uint8 0/1)."""
    return [np.maximum.accumulate(barrier, axis=1),
            np.maximum.accumulate(barrier[:, ::-1], axis=1)[:, ::-1],
            np.maximum.accumulate(barrier, axis=0),
            np.maximum.accumulate(barrier[::-1], axis=0)[::-1]]


def directions_with_bone(barrier: np.ndarray) -> np.ndarray:
    """How many of the 8 directions (axes and diagonals) from each pixel meet the barrier."""
    size = barrier.shape[0]
    canvas = int(np.ceil(size * 1.5))
    turn = cv2.getRotationMatrix2D((size / 2, size / 2), 45, 1.0)
    turn[:, 2] += (canvas - size) / 2
    turned = cv2.warpAffine(barrier, turn, (canvas, canvas), flags=cv2.INTER_NEAREST)
    back = cv2.invertAffineTransform(turn)
    count = sum(_bone_behind(barrier), np.zeros(barrier.shape, np.uint8))
    for seen in _bone_behind(turned):
        count += cv2.warpAffine(seen, back, barrier.shape[::-1], flags=cv2.INTER_NEAREST)
    return count


def intracranial_space(brain: np.ndarray, bone: np.ndarray | None) -> np.ndarray:
    """(S, S) bool: where an outline may lie on this slice (nothing where there is no skull)."""
    closed = cv2.morphologyEx(skull(brain, bone), cv2.MORPH_CLOSE, _disc(SKULL_CLOSING_PX))
    inside = ((directions_with_bone(closed) >= DIRECTIONS_INSIDE) & (closed == 0)).astype(np.uint8)
    return cv2.dilate(inside, _disc(2 * INNER_TABLE_MARGIN_PX + 1)).astype(bool)


def keep_inside_skull(probability: np.ndarray, brain: np.ndarray, bone: np.ndarray | None) -> np.ndarray:
    out = probability.copy()
    for z in range(probability.shape[0]):
        out[z][~intracranial_space(brain[z], None if bone is None else bone[z])] = 0.0
    return out


def label_lesions(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """The lesions of a bool (z, y, x) mask: 3-D connected components, 26-connected; (labels, count).

    The one definition of a lesion: for the network's decision, the training's
    choice of thresholds and the findings of the reader's mask alike.
    """
    from scipy import ndimage

    mask, structure = np.asarray(mask, bool), np.ones((3, 3, 3), bool)
    try:  # 16-bit labels when they fit: half the memory of a long series' int32 labels
        labels, count = ndimage.label(mask, structure=structure, output=np.uint16)
    except RuntimeError:  # more than 65535 lesions: scipy says the bit depth is too small
        labels, count = ndimage.label(mask, structure=structure)
    return labels, int(count)


def drop_small_lesions(probability: np.ndarray, threshold: float, min_px: int) -> np.ndarray:
    """Zero the probability of 3-D connected outlines smaller than min_px voxels (in a copy)."""
    cleaned = probability.copy()
    _drop_small_lesions_in_place(cleaned, threshold, min_px)
    return cleaned


def _drop_small_lesions_in_place(probability: np.ndarray, threshold: float, min_px: int) -> None:
    above = probability >= threshold
    if not above.any():
        return
    labels, _ = label_lesions(above)
    del above
    small = np.bincount(labels.ravel()) < min_px
    small[0] = False  # the background
    probability[small[labels]] = 0.0


def slice_scores(probability: np.ndarray) -> np.ndarray:
    """Detection score of each slice: its highest probability once noise is removed."""
    return probability.reshape(probability.shape[0], -1).max(axis=1).astype(np.float32)


def skull_rule(network_probability: np.ndarray, brain: np.ndarray, bone: np.ndarray | None,
               thresholds: Thresholds) -> np.ndarray:
    """The first rule, when the network's manifest asks for it."""
    if not thresholds.inside_skull_only:
        return network_probability
    return keep_inside_skull(network_probability, brain, bone)


def clean(network_probability: np.ndarray, brain: np.ndarray, bone: np.ndarray | None,
          thresholds: Thresholds) -> np.ndarray:
    """The network's (z, S, S) probabilities with the two rules applied."""
    probability = skull_rule(network_probability, brain, bone, thresholds)
    if probability is network_probability:
        probability = probability.copy()  # the caller's array stays as the network gave it
    _drop_small_lesions_in_place(probability, thresholds.mask, thresholds.min_lesion_px)
    return probability


def postprocess(network_probability: np.ndarray, brain: np.ndarray, bone: np.ndarray | None,
                study_shape_yx: tuple[int, int], thresholds: Thresholds, square: Square | None = None):
    """(z, S, S) network output -> (probability, mask, slice scores) on the study grid.

    square: the part of the study's frame the network read (None: all of it).
    """
    return on_study_grid(clean(network_probability, brain, bone, thresholds), study_shape_yx, thresholds, square)


def on_study_grid(cleaned: np.ndarray, study_shape_yx: tuple[int, int], thresholds: Thresholds,
                  square: Square | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cleaned (z, S, S) probabilities -> (probability as float16, mask, slice scores) on the study grid.

    The mask is thresholded from float32, slice by slice; the probability, which only the heat map
    shows, is kept in float16: half the memory float32 would take on a long series' full grid.
    """
    scores = slice_scores(cleaned)
    rows, cols = study_shape_yx
    probability = np.empty((cleaned.shape[0], rows, cols), np.float16)
    mask = np.empty((cleaned.shape[0], rows, cols), bool)
    same_grid = square is None and cleaned.shape[1:] == tuple(study_shape_yx)
    for z in range(cleaned.shape[0]):
        on_grid = cleaned[z] if same_grid else to_study_grid(cleaned[z:z + 1], study_shape_yx, square)[0]
        np.greater_equal(on_grid, thresholds.mask, out=mask[z])
        probability[z] = on_grid
    return probability, mask, scores
