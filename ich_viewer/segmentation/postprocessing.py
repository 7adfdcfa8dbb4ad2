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
from ich_viewer.segmentation.result import StudyProbability

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
    choice of thresholds and the findings of the reader's mask alike. LesionsBySlice
    finds the same lesions one slice at a time, for the full volumes of a long series.
    """
    from scipy import ndimage

    mask, structure = np.asarray(mask, bool), np.ones((3, 3, 3), bool)
    try:  # 16-bit labels when they fit: half the memory of a long series' int32 labels
        labels, count = ndimage.label(mask, structure=structure, output=np.uint16)
    except RuntimeError:  # more than 65535 lesions: scipy says the bit depth is too small
        labels, count = ndimage.label(mask, structure=structure)
    return labels, int(count)


def _outlines(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A slice's outlines, its 8-connected pieces: (int32 labels, 1..n; stats of each, cv2's columns)."""
    if plane.size == 0:  # the empty frame of an empty mask (cv2 refuses empty images)
        return np.zeros(plane.shape, np.int32), np.empty((0, 5), np.int32)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(plane.astype(np.uint8), connectivity=8,
                                                                ltype=cv2.CV_32S)
    return labels, stats[1:count]


def _touching(below: np.ndarray, above: np.ndarray) -> np.ndarray:
    """(k, 2) pairs (outline of one slice, outline of the next) that touch: a voxel of one lies in the
    3 x 3 pixels next to a voxel of the other, as 26-connectivity joins them."""
    ys, xs = np.nonzero(above)
    padded, numbers = np.pad(below, 1), above[ys, xs].astype(np.int64)
    span = int(numbers.max(initial=0)) + 1
    # Each pair as one number (below * span + above): np.unique of rows (axis=0) is many times slower.
    keys = np.unique(np.concatenate([padded[ys + 1 + dy, xs + 1 + dx] * span + numbers
                                     for dy in (-1, 0, 1) for dx in (-1, 0, 1)]))
    keys = keys[keys >= span]  # not those with nothing below
    return np.stack([keys // span, keys % span], axis=1)


class LesionsBySlice:
    """label_lesions' lesions of a bool (z, y, x) mask, found one slice at a time.

    Each slice's outlines (8-connected) are numbered by cv2, and outlines on neighbouring slices
    that touch belong to one lesion: 26-connected, as label_lesions. Only one slice's numbers exist
    at a time, where labels of a long series' whole grid would take twice its mask (uint16).
    Lesions are numbered 1..count in no particular order.
    """

    def __init__(self, mask: np.ndarray):
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        self._mask = mask
        # Slices are worked on where any slice has a voxel: a bleed covers little of the frame.
        footprint = mask.any(axis=0) if mask.size else np.zeros(mask.shape[1:], bool)
        rows, columns = np.flatnonzero(footprint.any(axis=1)), np.flatnonzero(footprint.any(axis=0))
        self._frame = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)) if rows.size else (
            slice(0, 0), slice(0, 0))
        self._first = np.zeros(len(mask) + 1, np.int64)  # slice z's outlines are pieces first[z]..first[z+1]-1
        stats, pairs, below = [], [], None
        for z, plane in enumerate(mask):
            labels, outlines = _outlines(plane[self._frame])
            self._first[z + 1] = self._first[z] + len(outlines)
            stats.append(np.column_stack([np.full(len(outlines), z), outlines]))
            if below is not None:  # an outline numbered k on slice z is piece first[z] + k - 1
                pairs.append(_touching(below, labels) - 1 + self._first[z - 1:z + 1])
            below = labels
        n_pieces = int(self._first[-1])
        joined = np.concatenate([np.empty((0, 2), np.int64), *pairs])
        graph = coo_matrix((np.ones(len(joined)), (joined[:, 0], joined[:, 1])), shape=(n_pieces, n_pieces))
        self.count, lesion_of_piece = connected_components(graph, directed=False)
        self._lesion_of_piece = lesion_of_piece + 1
        self._describe(np.concatenate([np.empty((0, 6), np.int64), *stats]))

    def _describe(self, pieces: np.ndarray) -> None:
        """Each lesion's voxel count and bounding box (z, y, x slices), from its pieces' (z, cv2 stats)."""
        lesion = self._lesion_of_piece - 1
        z = pieces[:, 0]
        left = pieces[:, 1 + cv2.CC_STAT_LEFT] + self._frame[1].start
        top = pieces[:, 1 + cv2.CC_STAT_TOP] + self._frame[0].start
        right = left + pieces[:, 1 + cv2.CC_STAT_WIDTH]
        bottom = top + pieces[:, 1 + cv2.CC_STAT_HEIGHT]
        self.sizes = np.bincount(lesion, pieces[:, 1 + cv2.CC_STAT_AREA], self.count).astype(np.int64)
        low = np.full((3, self.count), np.iinfo(np.int64).max)
        high = np.zeros((3, self.count), np.int64)
        for axis, (start, stop) in enumerate([(z, z + 1), (top, bottom), (left, right)]):
            np.minimum.at(low[axis], lesion, start)
            np.maximum.at(high[axis], lesion, stop)
        self.boxes = [tuple(slice(int(low[a, n]), int(high[a, n])) for a in range(3)) for n in range(self.count)]

    def on_slice(self, z: int) -> set[int]:
        """The lesions with voxels on slice z."""
        return set(self._lesion_of_piece[self._first[z]:self._first[z + 1]].tolist())

    def plane(self, z: int) -> np.ndarray:
        """Slice z's voxels numbered by lesion (0 outside the mask)."""
        labels, _ = _outlines(self._mask[z][self._frame])
        plane = np.zeros(self._mask.shape[1:], np.int64)
        plane[self._frame] = np.concatenate([[0], self._lesion_of_piece[self._first[z]:self._first[z + 1]]])[labels]
        return plane


def lesion_sizes(labels: np.ndarray, count: int) -> np.ndarray:
    """Voxels of each label (index 0: the background), counted slice by slice: np.bincount of the
    whole volume would first copy its labels to int64, four times their size."""
    sizes = np.zeros(count + 1, np.int64)
    for plane in labels:
        sizes += np.bincount(plane.ravel(), minlength=count + 1)
    return sizes


def drop_small_lesions(probability: np.ndarray, threshold: float, min_px: int) -> np.ndarray:
    """Zero the probability of 3-D connected outlines smaller than min_px voxels (in a copy)."""
    cleaned = probability.copy()
    labels, count = label_lesions(cleaned >= threshold)
    small = lesion_sizes(labels, count) < min_px
    small[0] = False  # the background
    for plane, labelled in zip(cleaned, labels):
        plane[small[labelled]] = 0.0
    return cleaned


def skull_rule(network_probability: np.ndarray, brain: np.ndarray, bone: np.ndarray | None,
               thresholds: Thresholds) -> np.ndarray:
    """The first rule, when the network's manifest asks for it."""
    if not thresholds.inside_skull_only:
        return network_probability
    return keep_inside_skull(network_probability, brain, bone)


def preliminary_mask(probability: np.ndarray, study_shape_yx: tuple[int, int], threshold: float,
                     square: Square | None = None) -> np.ndarray:
    """Some slices' (k, S, S) probabilities, after the skull rule, as a mask on the study grid (k, y, x).

    Thresholded from the float32 values on the study grid, as the finished mask is, before the
    lesion rule (which needs every slice).
    """
    return to_study_grid(probability, study_shape_yx, square) >= threshold


class Postprocessor:
    """The two rules, applied as the network's output arrives batch by batch (add), then finished.

    Beside a long series and its mask on the study grid, there is no room for the network's float32
    output as well (for a 512 x 512 study and 256 x 256 network pixels, the mask and that output each
    take a quarter of the study's float32 volume; issue 16 allows half of it for everything). So each
    batch leaves only what the end needs: its mask on the study grid, thresholded from the float32
    values; which network pixels reach the mask threshold (for the 3-D lesions); the exact values of
    those (for the slice scores); and the probability in float16 at the network's resolution (for the
    heat map). finish() then drops the lesions smaller than min_lesion_px.
    """

    def __init__(self, n_slices: int, size: int, study_shape_yx: tuple[int, int], thresholds: Thresholds,
                 square: Square | None = None):
        self.thresholds, self.square, self.study_shape_yx = thresholds, square, tuple(study_shape_yx)
        self.mask = np.zeros((n_slices, *self.study_shape_yx), bool)
        self._compact = np.zeros((n_slices, size, size), np.float16)
        self._above = np.zeros((n_slices, size, size), bool)
        self._above_values: list[np.ndarray] = [np.empty(0, np.float32)] * n_slices  # in row-major order
        self._below_peak = np.zeros(n_slices, np.float32)  # each slice's highest value under the threshold

    def add(self, indices: list[int], network_probability: np.ndarray, brain: np.ndarray,
            bone: np.ndarray | None) -> np.ndarray:
        """Take some slices' (k, S, S) network output and views; returns their preliminary mask (k, y, x)."""
        probability = skull_rule(network_probability, brain, bone, self.thresholds)
        threshold = self.thresholds.mask
        self.mask[indices] = preliminary_mask(probability, self.study_shape_yx, threshold, self.square)
        for z, plane in zip(indices, probability):
            above = plane >= threshold
            self._above[z], self._compact[z] = above, plane
            self._above_values[z] = plane[above]
            self._below_peak[z] = plane[~above].max(initial=0.0)  # probabilities are never negative
        return self.mask[indices]

    def finish(self) -> tuple[StudyProbability, np.ndarray, np.ndarray]:
        """(probability, mask, slice scores) on the study grid, once every slice has been added.

        A slice's score (its detection score) is its highest probability once small lesions are dropped.
        """
        scores = self._below_peak.copy()
        found = LesionsBySlice(self._above)
        small = np.concatenate([[False], found.sizes < self.thresholds.min_lesion_px])  # by lesion number
        for z in range(len(scores)):
            if found.on_slice(z):
                gone = small[found.plane(z)]
                kept = self._above_values[z][~gone[self._above[z]]]  # in the order add() kept them
                scores[z] = max(scores[z], kept.max(initial=0.0))
                self._drop(z, gone)
        probability = StudyProbability(self._compact, self.study_shape_yx, self.square)
        return probability, self.mask, scores

    def _drop(self, z: int, gone: np.ndarray) -> None:
        """Remove the voxels of small lesions (gone, (S, S) bool) from slice z.

        On the study grid, a pixel is interpolated (bilinear) from the 2 x 2 network pixels around it,
        with weights that sum to 1. Any two of those touch, so when one is in a small lesion, each
        other one is either in the same lesion (and becomes 0) or below the mask threshold (else it
        would be part of that lesion): the cleaned value is below the threshold. So the pixels the
        small lesions reach go, and no other pixel changes: the same mask as thresholding the
        cleaned float32 probabilities, without keeping them.
        """
        if not gone.any():
            return
        self._compact[z][gone] = 0
        reached = to_study_grid(gone[None].astype(np.float32), self.study_shape_yx, self.square)[0] > 0
        self.mask[z] &= ~reached


def postprocess(network_probability: np.ndarray, brain: np.ndarray, bone: np.ndarray | None,
                study_shape_yx: tuple[int, int], thresholds: Thresholds, square: Square | None = None):
    """(z, S, S) network output -> (probability, mask, slice scores) on the study grid.

    square: the part of the study's frame the network read (None: all of it).
    """
    steps = Postprocessor(network_probability.shape[0], network_probability.shape[1], study_shape_yx,
                          thresholds, square)
    steps.add(list(range(network_probability.shape[0])), network_probability, brain, bone)
    return steps.finish()
